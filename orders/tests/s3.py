"""A real S3-compatible server for the tests: moto's server mode, over HTTP on a free local port.

Nothing in boto3 is patched: the app's own client talks HTTP to this server, as it would to
AWS or MinIO. Each test gets a bucket of its own.
"""

import gzip
import json
import socket
import urllib.request
import uuid
from dataclasses import dataclass

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"
PREFIX = "drop/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MotoServer:
    def __init__(self):
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._clients = {}

    def start(self) -> "MotoServer":
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request would bury a failure
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self, service: str = "s3", **credentials):
        key = (service, tuple(sorted(credentials.items())))
        if key not in self._clients:
            self._clients[key] = self._client_make(service, **credentials)
        return self._clients[key]

    def _client_make(self, service: str, **credentials):
        import boto3

        return boto3.session.Session().client(
            service, endpoint_url=self.url, region_name=REGION,
            aws_access_key_id=credentials.get("key", ACCESS_KEY),
            aws_secret_access_key=credentials.get("secret", SECRET_KEY),
        )

    def auth_enforce(self, enforce: bool) -> None:
        """Make the server check every request's credentials against its IAM users (moto's own switch)."""
        request = urllib.request.Request(
            f"{self.url}/moto-api/reset-auth", data=b"0" if enforce else b"inf", method="POST",
            headers={"Content-Type": "text/plain"},  # not a form: the server reads the body as it is
        )
        with urllib.request.urlopen(request) as answer:
            json.loads(answer.read())


def aws_environment(endpoint: str) -> dict[str, str]:
    """The standard AWS variables pointing at the test server; nothing from the machine's own config."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent/salesproject-aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/salesproject-aws-credentials",
    }


@dataclass
class ScratchBucket:
    server: MotoServer
    name: str
    prefix: str = PREFIX

    @property
    def url(self) -> str:
        return f"s3://{self.name}/{self.prefix}"

    def put(self, name: str, body: str | bytes) -> str:
        """Upload a file under the prefix with an S3 client (gzip when the name ends .gz); return the ETag."""
        data = body.encode() if isinstance(body, str) else body
        if name.endswith(".gz"):
            data = gzip.compress(data)
        answer = self.server.client().put_object(Bucket=self.name, Key=self.prefix + name, Body=data)
        return answer["ETag"].strip('"')

    def delete(self, name: str) -> None:
        self.server.client().delete_object(Bucket=self.name, Key=self.prefix + name)

    def keys(self) -> list[str]:
        pages = self.server.client().get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


def scratch_bucket_create(server: MotoServer) -> ScratchBucket:
    name = f"sales-{uuid.uuid4().hex[:12]}"
    server.client().create_bucket(Bucket=name)
    return ScratchBucket(server=server, name=name)


class CuttingProxy:
    """A TCP proxy to the S3 server that drops one connection once it has passed cut_after bytes back.

    This is a connection lost mid-download, made on the wire: boto3 itself is untouched.
    """

    def __init__(self, target_port: int, *, cut_after: int):
        import threading

        self.target_port = target_port
        self.cut_after = cut_after
        self.cuts = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        import threading

        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        passed = 0
        try:
            while data := source.recv(65536):
                target.sendall(data)
                passed += len(data)
                if answers and passed > self.cut_after:
                    with self._lock:
                        cut = self.cuts == 0
                        self.cuts += cut
                    if cut:
                        break
        except OSError:
            pass
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

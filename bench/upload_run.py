"""Measure the admin's upload -> preview -> confirm of a big file, as a user does it, with a real worker.

    python bench/upload_run.py                  # a 1,000,000-row file
    python bench/upload_run.py --rows 100000    # a quick look

Runs the real stack on this machine: gunicorn (one threaded worker, as docker/start-web.sh
starts it) and a Celery worker on Redis (`--redis`, default database 9), both on a fresh
PostgreSQL database (`--pg`). It signs in as a user would, posts the file to
/admin/orders/order/import/ as a streamed multipart body (the client never holds the file
either), waits for the worker's preview, confirms, and waits for the load. Prints each
step's time and the peak memory (VmHWM) of the gunicorn worker and of the Celery worker:
the web process must stay flat however big the file is.
"""

import argparse
import http.client
import http.cookies
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from generate import write_sales_file  # noqa: E402
from run import django_env, fresh_database, migrate, run_measured  # noqa: E402

PYTHON = sys.executable
BIN = Path(PYTHON).parent
DATABASE = "salesproject_upload_bench"
USERNAME, PASSWORD = "bench", "bench-password-1"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """Just enough of a browser: cookies, CSRF tokens, and a streamed file upload."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection.request(method, path, body=body, headers={**(headers or {}), "Cookie": cookie})
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            morsel = http.cookies.SimpleCookie(header)
            self.cookies.update({name: item.value for name, item in morsel.items()})
        connection.close()
        return response.status, dict(response.headers), text

    def csrf(self, path: str) -> str:
        status, _headers, text = self.request("GET", path)
        assert status == 200, (path, status)
        return _CSRF_INPUT.search(text).group(1)

    def login(self) -> None:
        token = self.csrf("/admin/login/")
        body = f"csrfmiddlewaretoken={token}&username={USERNAME}&password={PASSWORD}&next=/admin/"
        status, _headers, _text = self.request(
            "POST", "/admin/login/", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status == 302, f"login failed: {status}"

    def upload(self, path: str, file: Path) -> tuple[int, dict]:
        token = self.csrf(path)
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="import_file"; filename="{file.name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        def body():
            yield head
            with open(file, "rb") as stream:
                while block := stream.read(1 << 20):
                    yield block
            yield tail

        length = len(head) + file.stat().st_size + len(tail)
        status, headers, _text = self.request(
            "POST", path, body=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length),
                     "Referer": f"http://127.0.0.1:{self.port}{path}"},
        )
        return status, headers

    def post_form(self, page: str, action: str) -> tuple[int, dict]:
        token = self.csrf(page)
        status, headers, _text = self.request(
            "POST", action, body=f"csrfmiddlewaretoken={token}",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{self.port}{page}"},
        )
        return status, headers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    output = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(value) for value in output.split()]


def wait_until(query: str, params: tuple, done: set[str], database_url: str, timeout: float = 3600) -> str:
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as connection:
        while time.monotonic() < deadline:
            row = connection.execute(query, params).fetchone()
            if row and row[0] in done:
                return row[0]
            time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {query} {params}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="salesproject-upload-bench-"))
    (work / "logs").mkdir()
    database_url = fresh_database(args.pg, DATABASE)
    env = {
        **django_env(database_url, work / "logs"),
        "REDIS_URL": args.redis,
        "BUCKET_DIR": str(work / "bucket"),
        "IMPORT_UPLOAD_DIR": str(work / "uploads"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    migrate(env)
    run_measured([PYTHON, "manage.py", "staff_login", USERNAME], {**env, "STAFF_PASSWORD": PASSWORD})
    run_measured([PYTHON, "manage.py", "shell", "-c",
                  f"from django.contrib.auth.models import User; User.objects.filter(username='{USERNAME}')"
                  ".update(is_superuser=True)"], env)
    file = work / "sales_data_2024-06-30.csv"
    write_sales_file(file, rows=args.rows, first_order=1, existing_share=0.0, existing_upto=0, seed=7)
    print(f"{args.rows:,} rows, {file.stat().st_size / 1e6:.1f} MB; gunicorn + a Celery worker on PostgreSQL and Redis:")

    port = free_port()
    web = subprocess.Popen(
        [BIN / "gunicorn", "salesproject.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--worker-class", "gthread", "--threads", "4", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=open(work / "logs" / "gunicorn.out", "w"), stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [BIN / "celery", "-A", "salesproject", "worker", "--loglevel", "warning", "--concurrency", "1"],
        cwd=ROOT, env=env, stdout=open(work / "logs" / "celery.out", "w"), stderr=subprocess.STDOUT,
    )
    try:
        browser = Browser(port)
        for _ in range(100):
            try:
                browser.login()
                break
            except (ConnectionRefusedError, AttributeError):
                time.sleep(0.3)
        started = time.perf_counter()
        status, headers = browser.upload("/admin/orders/order/import/", file)
        uploaded = time.perf_counter()
        assert status == 302, f"upload answered {status}"
        upload_id = headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        state = wait_until("SELECT status FROM orders_importupload WHERE id = %s", (upload_id,), {"ready", "failed"},
                           database_url)
        previewed = time.perf_counter()
        assert state == "ready", f"the preview failed: see {work}"
        page = headers["Location"]
        status, headers = browser.post_form(page, page.rstrip("/") + "/confirm/")
        assert status == 302, f"confirm answered {status}"
        confirmed = time.perf_counter()
        run_id = int(headers["Location"].rstrip("/").split("/")[-2])
        state = wait_until("SELECT status FROM orders_importrun WHERE id = %s", (run_id,), {"loaded", "failed"},
                           database_url)
        loaded = time.perf_counter()
        assert state == "loaded", f"the load failed: see {work}"
        web_workers = children(web.pid)
        web_rss = max(peak_rss_mb(pid) for pid in web_workers)
        worker_rss = max([peak_rss_mb(worker.pid)] + [peak_rss_mb(pid) for pid in children(worker.pid)])
        with psycopg.connect(database_url) as connection:
            orders = connection.execute("SELECT count(*) FROM orders_order").fetchone()[0]
        print("| step | seconds |")
        print("|---|---|")
        print(f"| upload (request) | {uploaded - started:.1f} |")
        print(f"| preview (worker) | {previewed - uploaded:.1f} |")
        print(f"| confirm (request) | {confirmed - previewed:.2f} |")
        print(f"| load (worker) | {loaded - confirmed:.1f} |")
        print(f"orders loaded: {orders:,}; peak RSS: gunicorn worker {web_rss:.0f} MB, Celery worker {worker_rss:.0f} MB")
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')


if __name__ == "__main__":
    main()

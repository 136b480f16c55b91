"""A small OpenAI-compatible HTTP server for the tests: set answers, failures on demand, a call count.

The real `openai` client is pointed at it with base_url, so the SDK's own request and error
handling run as they would against the real API.
"""

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_ANSWER = "## Attention 🚨\n- Nothing urgent.\n"


class FakeOpenAI:
    def __init__(self):
        self.answer = DEFAULT_ANSWER
        self.usage = {"prompt_tokens": 321, "completion_tokens": 123, "total_tokens": 444}
        self.requests: list[dict] = []
        self._behaviours: deque = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.delay_seconds = 0.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.requests)

    def fail(self, status: int, *, times: int = 1) -> None:
        """Answer the next `times` calls with this HTTP status."""
        self._behaviours.extend([("status", status)] * times)

    def hang(self, *, times: int = 1) -> None:
        """Hold the next `times` calls without answering until the server stops (past any timeout)."""
        self._behaviours.extend([("hang", None)] * times)

    def start(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def _next_behaviour(self, body: dict):
        with self._lock:
            self.requests.append(body)
            return self._behaviours.popleft() if self._behaviours else ("answer", None)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                kind, value = fake._next_behaviour(body)
                if kind == "hang":
                    fake._release.wait(60)
                    return
                if kind == "status":
                    error_type = "rate_limit_exceeded" if value == 429 else "server_error"
                    return self._send(value, {"error": {"message": f"fake {value}", "type": error_type}})
                if fake.delay_seconds:
                    # Holds the one caller while the others arrive: the concurrency test needs the overlap.
                    fake._release.wait(fake.delay_seconds)
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{fake.calls}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", ""),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": fake.answer},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": fake.usage,
                    },
                )

            def _send(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

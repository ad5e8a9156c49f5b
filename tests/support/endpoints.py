"""Small HTTP endpoints for the real provider kinds (webhook, OpenAI-compatible): each records what it is sent
and answers as told. The `serve` fixture (tests/fixtures/workflows.py) starts them and stops them after a test.
"""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: Message
    body: bytes

    def json(self):
        return json.loads(self.body)


Answer = Callable[[Received], tuple[int, object]]


class Endpoint:
    """An HTTP server on 127.0.0.1, in a thread of the test: it records each POST and answers with
    `answer(request)`, a status and a JSON-ready body (bytes are sent as they are)."""

    def __init__(self, answer: Answer) -> None:
        self.received: list[Received] = []
        self.answer = answer
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-endpoint", daemon=True
        )
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = Received(self.path, self.headers, self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.received.append(request)
                status, body = endpoint.answer(request)
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass  # the caller stopped waiting (it timed out, or its process was killed)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

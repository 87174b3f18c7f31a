"""What the HTTP stand-ins share: a server on a free localhost port, run from a thread,
and waiting until enough has arrived."""

from __future__ import annotations

import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LocalService:
    """Subclasses answer POSTs in ``_answer`` and GETs in ``_answer_get`` (or every
    method in ``_respond``); use as a context manager."""

    def __init__(self) -> None:
        self._server = _Server(self)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._changed = threading.Condition()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

    def _wait(self, items: list, count: int, timeout: float, what: str) -> list:
        """Block until ``items`` (guarded by ``_changed``) holds ``count``; a copy of it."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(items) >= count, timeout):
                raise TimeoutError(f"expected {count} {what} in {timeout}s, got {len(items)}")
            return list(items)

    def _answer(self, path: str, headers: Message, body: bytes) -> tuple[int, dict, bytes]:
        """(status, response headers, response body) for one POST."""
        raise NotImplementedError

    def _answer_get(self, path: str, headers: Message) -> tuple[int, dict, bytes]:
        """(status, response headers, response body) for one GET, for stand-ins that serve."""
        raise NotImplementedError

    def _respond(
        self, method: str, path: str, headers: Message, body: bytes
    ) -> tuple[int, dict, bytes]:
        """(status, response headers, response body) for one request of any method: POSTs
        to ``_answer``, GETs to ``_answer_get`` where a stand-in serves them."""
        if method == "GET" and type(self)._answer_get is not LocalService._answer_get:
            return self._answer_get(path, headers)
        if method != "POST":
            return 501, {}, b""
        return self._answer(path, headers, body)


class _Server(ThreadingHTTPServer):
    def __init__(self, service: LocalService) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.service = service


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, data = self.server.service._respond(method, self.path, self.headers, body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        """Keep test output quiet."""

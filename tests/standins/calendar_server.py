"""A calendar server for the calendar import tests: serves ICS files at the paths it is
given, with an ETag (answering 304 to If-None-Match), and redirects and errors on demand.
Every GET is recorded, so a test can see what was asked and that nothing was."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from email.message import Message

from tests.standins._http import LocalService


@dataclass(frozen=True)
class Asked:
    path: str
    headers: dict[str, str]
    status: int  # what was answered


class CalendarServer(LocalService):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Asked] = []
        self._lock = threading.Lock()
        self._routes: dict[str, tuple[int, dict, bytes]] = {}

    def serve(self, path: str, text: bytes) -> str:
        """Serve ``text`` at ``path``; its full URL."""
        etag = '"' + hashlib.sha256(text).hexdigest()[:16] + '"'
        self._routes[path] = (200, {"Content-Type": "text/calendar", "ETag": etag}, text)
        return self.base_url + path

    def redirect(self, path: str, location: str) -> str:
        self._routes[path] = (302, {"Location": location}, b"")
        return self.base_url + path

    def fail(self, path: str, status: int) -> str:
        self._routes[path] = (status, {}, b"broken")
        return self.base_url + path

    def _answer_get(self, path: str, headers: Message) -> tuple[int, dict, bytes]:
        status, answer, body = self._routes.get(path, (404, {}, b""))
        if status == 200 and headers.get("If-None-Match") == answer["ETag"]:
            status, answer, body = 304, {"ETag": answer["ETag"]}, b""
        with self._lock:
            self.asked.append(Asked(path, dict(headers.items()), status))
        return status, answer, body

"""Radicale (from PyPI), the CalDAV server the calendar-sync tests talk to: one process
per test process, storing under a temporary folder, with one user and password (htpasswd,
plain), so that the tests connect the way a provider does (URL, username, app password).
It can be stopped and started again on the same port, to play a server that is down."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.server import free_port

USER, PASSWORD = "ana", "app-password-1"


@dataclass
class Radicale:
    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="radicale-")))
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calendar_url(self, name: str) -> str:
        return f"{self.base_url}/{USER}/{name}/"

    def start(self) -> Radicale:
        users = self.folder / "users"
        users.write_text(f"{USER}:{PASSWORD}\n")
        config = self.folder / "config"
        config.write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {users}\n"
            "htpasswd_encryption = plain\n"
            "[storage]\n"
            f"filesystem_folder = {self.folder / 'collections'}\n"
            "[logging]\n"
            "level = warning\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(self.base_url, timeout=1)
                return self
            except requests.RequestException:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Radicale did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def make_calendar(self, name: str) -> str:
        """A new calendar collection (MKCALENDAR, as a calendar app makes one); its URL."""
        url = self.calendar_url(name)
        response = requests.request("MKCALENDAR", url, auth=(USER, PASSWORD), timeout=5)
        response.raise_for_status()
        return url

    def events(self, calendar_url: str) -> dict[str, str]:
        """The calendar's events as Radicale keeps them: {href: iCalendar text}."""
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            "<D:prop><C:calendar-data/></D:prop>"
            '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
        )
        response = requests.request(
            "REPORT",
            calendar_url,
            data=body,
            headers={"Depth": "1", "Content-Type": "application/xml"},
            auth=(USER, PASSWORD),
            timeout=5,
        )
        response.raise_for_status()
        from xml.etree import ElementTree

        found = {}
        tree = ElementTree.fromstring(response.content)
        for item in tree.findall("{DAV:}response"):
            href = item.findtext("{DAV:}href")
            data = item.find(".//{urn:ietf:params:xml:ns:caldav}calendar-data")
            if href and data is not None and data.text:
                found[href] = data.text
        return found

"""A real SMTP server on localhost for tests (aiosmtpd), that records what it accepts.

It can be stopped and started again on the same port, to play a mail server that is
down for a while, and it can take its time over each message, to make a batch slow.
Each message is recorded just before the server answers "250", so a sender killed
while waiting for that answer leaves a message here that it never saw accepted.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.server import free_port


class SmtpStandIn:
    """An SMTP server on ``127.0.0.1:<port>``; use as a context manager."""

    def __init__(self, *, delay: float = 0.0, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.delay = delay  # seconds spent on each message before accepting it
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._lock = threading.Condition()
        self._controller: Controller | None = None

    # --- aiosmtpd's handler hook ------------------------------------------------------

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
            self._lock.notify_all()
        return "250 OK"

    # --- running --------------------------------------------------------------------

    def start(self) -> SmtpStandIn:
        """Listen (again) on the same port; a stopped aiosmtpd controller cannot restart."""
        if self._controller is None:
            self._controller = Controller(self, hostname=self.host, port=self.port)
            self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start``. What arrived stays."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def env(self) -> dict[str, str]:
        """The settings that send the app's mail here."""
        return {"SMTP_HOST": self.host, "SMTP_PORT": str(self.port)}

    def __enter__(self) -> SmtpStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what arrived ---------------------------------------------------------------

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """At least ``count`` messages, waiting up to ``timeout`` seconds; AssertionError
        if they do not come."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    subjects = [m["Subject"] for m in self.messages]
                    raise AssertionError(f"{len(subjects)} of {count} messages came: {subjects}")
                self._lock.wait(left)
            return list(self.messages)

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.received()]

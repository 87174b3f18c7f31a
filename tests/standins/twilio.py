"""A local stand-in for Twilio's Programmable Messaging API, for tests.

It imitates the documented "Create a Message resource" call,
``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: form-encoded ``To``, ``From`` (or
``MessagingServiceSid``) and ``Body``, HTTP Basic auth ``AccountSid:AuthToken``. It answers as
Twilio does: ``201`` with the Message resource as JSON (``status: "queued"``), or an error as
``{"code", "message", "more_info", "status"}`` with Twilio's documented error codes:

* 20003 (401) authentication failed, or the AccountSid in the path is not the caller's;
* 20404 (404) no such resource;
* 21211 (400) ``To`` is not an E.164 number; 21212 (400) ``From`` is neither that nor a sender ID;
* 21602 / 21603 / 21604 (400) ``Body`` / ``From`` / ``To`` missing; 21617 (400) body over 1600;
* 21610 (400) the recipient replied STOP (:meth:`TwilioStandIn.unsubscribe`);
* 21211 (400) also for a well-formed number Twilio cannot text
  (:meth:`TwilioStandIn.refuse_number`);
* 20429 (429), 20500 (500), 20503 (503) when told to fail (:meth:`TwilioStandIn.fail_next`).

The app is configured with ``TWILIO_API_URL=<base_url>``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from tests.standins._http import LocalService

E164 = re.compile(r"\+[1-9]\d{6,14}")
SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")  # alphanumeric sender, e.g. "Kairos"
MAX_BODY = 1600
PATH = re.compile(r"/2010-04-01/Accounts/(?P<sid>[^/]+)/(?P<rest>.*)")
GSM7 = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"  # two septets each
FAILURES = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def num_segments(body: str) -> int:
    """SMS parts: GSM-7 fits 160 septets (153 when split), anything else UCS-2, 70 (67)."""
    if all(ch in GSM7 or ch in GSM7_EXTENSION for ch in body):
        length = sum(2 if ch in GSM7_EXTENSION else 1 for ch in body)
        single, part = 160, 153
    else:
        length = len(body.encode("utf-16-le")) // 2
        single, part = 70, 67
    return 1 if length <= single else math.ceil(length / part)


@dataclass(frozen=True)
class SentMessage:
    """One message Twilio accepted (and would now queue for the carrier)."""

    sid: str
    to: str
    from_: str
    body: str
    num_segments: int
    date_created: datetime
    params: dict[str, str] = field(default_factory=dict)  # every form field as sent


class _Reject(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class TwilioStandIn(LocalService):
    """Twilio's Messages endpoint on ``http://127.0.0.1:<free port>``; use as a context manager."""

    def __init__(
        self, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-auth-token"
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._messages: list[SentMessage] = []
        self._unsubscribed: set[str] = set()
        self._refused: set[str] = set()
        self._failures: list[int] = []

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def unsubscribe(self, number: str) -> None:
        """The person replied STOP: sending to ``number`` now fails with 21610."""
        with self._changed:
            self._unsubscribed.add(number)

    def env(self, sender: str = "+15005550006") -> dict[str, str]:
        """The app's environment for texting through this stand-in from ``sender``."""
        return {
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM": sender,
            "TWILIO_API_URL": self.base_url,
        }

    def refuse_number(self, number: str) -> None:
        """Twilio finds ``number`` is no number it can text (a landline, unallocated):
        sending to it fails with 21211, as a malformed number does."""
        with self._changed:
            self._refused.add(number)

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests with 429, 500 or 503 and Twilio's error body."""
        if status not in FAILURES:
            raise ValueError(f"fail_next takes one of {sorted(FAILURES)}")
        with self._changed:
            self._failures.extend([status] * times)

    @property
    def messages(self) -> list[SentMessage]:
        with self._changed:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[SentMessage]:
        """Block until ``count`` messages were accepted; all so far, or TimeoutError."""
        return self._wait(self._messages, count, timeout, "SMS")

    def _answer(self, path: str, headers: Message, body: bytes) -> tuple[int, dict, bytes]:
        status, document = self._receive(path, headers, body)
        return (
            status,
            {"Content-Type": "application/json; charset=utf-8"},
            json.dumps(document).encode(),
        )

    def _receive(self, path: str, headers: Message, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            with self._changed:
                failure = self._failures.pop(0) if self._failures else None
            if failure is not None:
                raise _Reject(failure, 20000 + failure, FAILURES[failure])
            route = PATH.fullmatch(path)
            self._authenticate(headers.get("Authorization"), route["sid"] if route else None)
            if route is None or route["rest"] != "Messages.json":
                raise _Reject(404, 20404, f"The requested resource {path} was not found")
            form = {}
            if (headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
                form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            message = self._accept(form)
        except _Reject as reject:
            return reject.status, {
                "code": reject.code,
                "message": reject.message,
                "more_info": f"https://www.twilio.com/docs/errors/{reject.code}",
                "status": reject.status,
            }
        return 201, self._resource(message)

    def _authenticate(self, authorization: str | None, path_sid: str | None) -> None:
        scheme, _, encoded = (authorization or "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        valid = (
            scheme.lower() == "basic"
            and hmac.compare_digest(user, self.account_sid)
            and hmac.compare_digest(password, self.auth_token)
            and path_sid in (None, user)
        )
        if not valid:
            raise _Reject(401, 20003, "Authenticate")

    def _accept(self, form: dict[str, str]) -> SentMessage:
        to, sender, body = form.get("To"), form.get("From"), form.get("Body")
        if not to:
            raise _Reject(400, 21604, "A 'To' phone number is required.")
        if not sender and not form.get("MessagingServiceSid"):
            raise _Reject(400, 21603, "A 'From' phone number is required.")
        if not body:
            raise _Reject(400, 21602, "Message body is required.")
        if not E164.fullmatch(to):
            raise _Reject(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if sender and not (E164.fullmatch(sender) or SENDER_ID.fullmatch(sender)):
            raise _Reject(
                400,
                21212,
                f"The 'From' number {sender} is not a valid phone number, shortcode, "
                "or alphanumeric sender ID.",
            )
        if len(body) > MAX_BODY:
            raise _Reject(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        with self._changed:
            if to in self._refused:
                raise _Reject(400, 21211, f"The 'To' number {to} is not a valid phone number.")
            if to in self._unsubscribed:
                raise _Reject(400, 21610, "Attempt to send to unsubscribed recipient")
            message = SentMessage(
                sid="SM" + secrets.token_hex(16),
                to=to,
                from_=sender or "",
                body=body,
                num_segments=num_segments(body),
                date_created=datetime.now(UTC).replace(microsecond=0),
                params=form,
            )
            self._messages.append(message)
            self._changed.notify_all()
        return message

    def _resource(self, message: SentMessage) -> dict[str, Any]:
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}"
        created = format_datetime(message.date_created)
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": message.body,
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": message.from_ or None,
            "messaging_service_sid": message.params.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(message.num_segments),  # Twilio sends these counts as strings
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message.to,
            "uri": f"{uri}.json",
        }

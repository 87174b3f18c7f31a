"""Text messages: one small interface, a console backend for development and Twilio.

Numbers are E.164 (+447911123456) by the time they get here: accounts.clean_phone
sees to that when a number is saved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

import requests

from config import Settings

log = logging.getLogger("kairos.sms")

TIMEOUT = 10  # seconds


class SmsError(Exception):
    """Sending failed; ``permanent`` when trying again cannot help (a bad number, a
    person who replied STOP)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send ``body`` to ``to``; returns the provider's id for the message."""
        ...


@dataclass
class ConsoleSms:
    """Development: the text goes to the log, and to ``sent`` for a look in a shell."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, to: str, body: str) -> str:
        self.sent.append((to, body))
        log.info("sms.console to=%s body=%r", to, body)
        return f"console-{len(self.sent)}"


@dataclass(frozen=True)
class TwilioSms:
    """Twilio's Messages resource: POST /2010-04-01/Accounts/{sid}/Messages.json with
    To, From and Body as a form, the account sid and auth token as Basic auth."""

    sid: str
    token: str = field(repr=False)
    sender: str
    api_url: str = "https://api.twilio.com"

    def send(self, to: str, body: str) -> str:
        url = f"{self.api_url.rstrip('/')}/2010-04-01/Accounts/{self.sid}/Messages.json"
        try:
            response = requests.post(
                url,
                data={"To": to, "From": self.sender, "Body": body},
                auth=(self.sid, self.token),
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise SmsError(
                f"Twilio could not be reached ({type(exc).__name__}).", permanent=False
            ) from exc
        if response.status_code in (200, 201):
            return response.json()["sid"]
        try:
            error = response.json()
        except ValueError:
            error = {}
        # Twilio's numeric error code says what happened (21610: the person replied STOP,
        # twilio.com/docs/api/errors); its message text is not kept or shown.
        code = error.get("code") if isinstance(error, dict) else None
        text = f"Twilio answered {response.status_code}"
        if isinstance(code, int):
            text += f" (error {code})"
        text += "."
        log.info("sms.refused status=%s code=%s", response.status_code, code)
        # 400 is about this message (bad number, unsubscribed): no retry can fix it.
        # 401/403 are our credentials, 429 and 5xx are Twilio's state: both can recover.
        raise SmsError(text, permanent=response.status_code in (400, 404))


def backend(settings: Settings) -> SmsBackend:
    s = settings
    if s.twilio_sid and s.twilio_token and s.twilio_from:
        return TwilioSms(s.twilio_sid, s.twilio_token, s.twilio_from, s.twilio_api_url)
    return ConsoleSms()

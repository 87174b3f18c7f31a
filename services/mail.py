"""The one way email leaves Kairos.

``send`` renders templates/email/<name>.txt and .html, side by side, into one
multipart/alternative message. With ``SMTP_HOST`` set it goes out by SMTP; without
it (development, tests) it is written to an outbox folder as an .eml file and the
console gets one line saying where. Nothing here needs Flask, so the Huey worker
can send mail with the same call.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import (
    format_datetime,
    formatdate,
    make_msgid,
    parseaddr,
    parsedate_to_datetime,
)
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from config import INSTANCE, ROOT, Settings

log = logging.getLogger("kairos.mail")

DEFAULT_OUTBOX = INSTANCE / "outbox"
SMTP_TIMEOUT = 15  # seconds: a stuck mail server must not hold a web worker for long


@dataclass(frozen=True)
class MailConfig:
    """Where mail goes: the SMTP settings, else the outbox folder."""

    settings: Settings
    outbox: Path = DEFAULT_OUTBOX
    # Which certificates STARTTLS trusts; None: the system's (tests pass their own CA).
    tls_context: ssl.SSLContext | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> MailConfig:
        return cls(Settings.from_env())


@cache
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a missing link in an email is a bug, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(
    to: str,
    subject: str,
    template: str,
    sender: str,
    *,
    message_id: str | None = None,
    calendar: tuple[bytes, str] | None = None,
    **context: object,
) -> EmailMessage:
    """The message for ``template`` (a name under templates/email/, without extension).

    ``calendar`` is an iCalendar invitation and its METHOD (REQUEST, CANCEL): it goes in
    as the text/calendar alternative mail clients act on, and as an invite.ics file.
    """
    env = _templates()
    values = {"subject": subject, **context}
    text = env.get_template(f"email/{template}.txt").render(values)
    html = env.get_template(f"email/{template}.html").render(values)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    domain = parseaddr(sender)[1].rpartition("@")[2] or "kairos.invalid"
    message["Message-ID"] = message_id or make_msgid(domain=domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if calendar is not None:
        ics, method = calendar
        message.add_alternative(
            ics, maintype="text", subtype="calendar", params={"method": method, "charset": "utf-8"}
        )
        message.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return message


def send(
    to: str,
    subject: str,
    template: str,
    *,
    config: MailConfig | None = None,
    now: datetime | None = None,
    message_id: str | None = None,
    **context: object,
) -> EmailMessage:
    """Render and deliver one email; returns the message as sent."""
    config = config or MailConfig.from_env()
    sender = config.settings.mail_from
    message = render(to, subject, template, sender, message_id=message_id, **context)
    # The Date header is the moment of sending; callers pass their clock when they have one.
    message["Date"] = format_datetime(now) if now else formatdate(usegmt=True)
    if config.settings.smtp_host:
        _deliver_smtp(message, config)
        log.info("mail.sent template=%s via=smtp host=%s", template, config.settings.smtp_host)
    else:
        path = _write_outbox(message, config.outbox, template)
        # In production, mail that only reaches a folder is a misconfiguration worth seeing.
        level = logging.WARNING if config.settings.env == "production" else logging.INFO
        log.log(level, "mail.outbox template=%s subject=%r file=%s", template, subject, path)
    return message


def _deliver_smtp(message: EmailMessage, config: MailConfig) -> None:
    s = config.settings
    if s.smtp_port == 465:  # implicit TLS ("SMTPS")
        context = config.tls_context or ssl.create_default_context()
        client = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT)
    with client:
        if s.smtp_starttls:
            client.starttls(context=config.tls_context or ssl.create_default_context())
        if s.smtp_user:
            client.login(s.smtp_user, s.smtp_password)
        client.send_message(message)


def _write_outbox(message: EmailMessage, outbox: Path, template: str) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    sent = parsedate_to_datetime(message["Date"])
    path = outbox / f"{sent:%Y%m%d-%H%M%S}-{template}-{secrets.token_hex(4)}.eml"
    # Written under a temporary name and renamed, so a reader never sees half a message.
    partial = path.with_suffix(".part")
    partial.write_bytes(message.as_bytes())
    partial.replace(path)
    return path

"""Delivering the outbox: each row is sent once, by whoever claims it.

A row goes queued → sending (the claim: one conditional UPDATE, so two workers, or a
task and the sweep, can never both send it) → sent. A failure that can pass (the mail
server is down, the push service is busy) puts it back in the queue for later, each
time waiting longer; one that cannot (a bad number, a device that unsubscribed) is
recorded as failed. A worker killed between claiming and recording leaves the row in
"sending"; after a lease the sweep queues it again. Only then can a message go twice,
and only if the kill fell between the server accepting it and the row being updated:
an email carries the same Message-ID both times, so it is recognisable.
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

from models import Booking, BookingStatus, Notification, PushSubscription, User
from services import mail
from services.accounts import account as accounts
from services.accounts import claims
from services.booking.calendar_links import lineage
from services.mail import MailConfig
from services.notifications import messages, push, sms
from services.observability import metrics

log = logging.getLogger("kairos.outbox")

MAX_ATTEMPTS = 12  # with the default waits, that reaches over about five hours
LONGEST_WAIT = timedelta(hours=1)


@dataclass
class Channels:
    """Everything delivery needs to know about the outside world."""

    mail: MailConfig
    sms: sms.SmsBackend
    vapid: push.Vapid | None = None
    push_allow_hosts: tuple[str, ...] = ()  # besides the known push services (tests)
    base_url: str = ""
    lease: timedelta = timedelta(minutes=5)  # sending this long: the sender died
    stale: timedelta = timedelta(minutes=2)  # queued and due this long: its task was lost
    first_retry: timedelta = timedelta(seconds=30)

    @classmethod
    def from_settings(cls, settings, *, outbox: Path | None = None) -> Channels:
        return cls(
            mail=MailConfig(settings, outbox or mail.DEFAULT_OUTBOX),
            sms=sms.backend(settings),
            vapid=push.vapid(settings),
            push_allow_hosts=settings.push_allow_hosts,
            base_url=settings.base_url.rstrip("/"),
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            stale=timedelta(seconds=settings.outbox_stale_seconds),
            first_retry=timedelta(seconds=settings.outbox_retry_seconds),
        )


class Undeliverable(Exception):
    """The message can never go; ``skip`` when it is no longer wanted at all."""

    def __init__(self, message: str, *, skip: bool = False) -> None:
        super().__init__(message)
        self.skip = skip


def retry_wait(attempts: int, first: timedelta) -> timedelta:
    return min(first * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def deliver(notification_id: int, channels: Channels, now: datetime) -> str | None:
    """Send one row if it is queued and due; its status afterwards (None: not ours)."""
    claimed = (
        Notification.update(status="sending", claimed_at=now, attempts=Notification.attempts + 1)
        .where(
            (Notification.id == notification_id)
            & (Notification.status == "queued")
            & (Notification.due_at <= now)
        )
        .execute()
    )
    if not claimed:
        return None
    row = Notification.get_by_id(notification_id)
    try:
        _send(row, channels)
    except Undeliverable as exc:
        status = "skipped" if exc.skip else "failed"
        _finish(row, status, error=str(exc))
        log.info("outbox.%s id=%s reason=%s", status, row.id, exc)
        return status
    except Exception as exc:
        permanent = getattr(exc, "permanent", False)
        if permanent or row.attempts >= MAX_ATTEMPTS:
            _finish(row, "failed", error=_describe(exc))
            log.warning("outbox.failed id=%s error=%s", row.id, _describe(exc))
            return "failed"
        due = now + retry_wait(row.attempts, channels.first_retry)
        _finish(row, "queued", error=_describe(exc), due_at=due)
        log.info("outbox.retry id=%s attempt=%s due=%s", row.id, row.attempts, due.isoformat())
        return "queued"
    _finish(row, "sent", sent_at=now)
    return "sent"


def _describe(exc: BaseException) -> str:
    """What went wrong, for the row and the provider's delivery log: our own words and
    the other side's status code, never the text it answered (a push service, Twilio or
    a mail server could put anything there)."""
    if isinstance(exc, push.PushError | sms.SmsError):
        return str(exc)[:500]  # written by us
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"The mail server answered {exc.smtp_code}."
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"The mail server refused the address ({', '.join(map(str, codes))})."
    if isinstance(exc, smtplib.SMTPException):
        return f"The mail server failed ({type(exc).__name__})."
    return f"{type(exc).__name__}: {exc}"[:500]


def _finish(row: Notification, status: str, **fields: object) -> None:
    """Record the outcome, but only while the row is still ours (claimed by this try)."""
    fields.setdefault("error", "")
    error = fields.pop("error")
    recorded = (
        Notification.update(status=status, last_error=error, **fields)
        .where(
            (Notification.id == row.id)
            & (Notification.status == "sending")
            & (Notification.claimed_at == row.claimed_at)
        )
        .execute()
    )
    if recorded:
        metrics.notification_finished(status, row.channel)


def _send(row: Notification, channels: Channels) -> None:
    booking = _booking(row.booking_id)
    recipient = User.get_or_none(User.id == row.recipient_id)
    if recipient is None:
        raise Undeliverable("The recipient no longer exists.", skip=True)
    if row.kind == "reminder":
        _still_wanted(row, booking)
    message = messages.compose(
        row,
        booking,
        recipient,
        base_url=channels.base_url,
        sender=channels.mail.settings.mail_from,
        claim_link=_claim_link(row, recipient, channels),
    )
    message = _with_sign_in_link(row, message, recipient, channels)
    if row.channel == "email":
        _email(row, message, recipient, channels)
    elif row.channel == "push":
        _push(row, message, channels)
    else:
        _sms(message, recipient, channels)


def _claim_link(row: Notification, recipient: User, channels: Channels) -> str | None:
    """For an email to a business's record nobody has claimed: the link that adds its
    bookings to a Kairos account, the same on every try of this row. Only by email:
    the link proves control of the address the business typed."""
    if row.channel != "email" or not claims.awaits_claim(recipient):
        return None
    secret = channels.mail.settings.secret_key
    return claims.link_for(recipient, row.created_at, secret=secret, base_url=channels.base_url)


def _with_sign_in_link(row: Notification, message, recipient: User, channels: Channels):
    """For an email to an account without a password (made by booking with a name and
    email): the button signs in and opens the appointment."""
    if row.channel != "email" or row.kind not in messages.CLAIMABLE_KINDS:
        return message
    link = accounts.booking_sign_in_link(
        recipient,
        f"notification-{row.id}",
        f"/appointments/{row.booking_id}",
        row.claimed_at,
        secret=channels.mail.settings.secret_key,
        base_url=channels.base_url,
    )
    if link is None:
        return message
    days = accounts.BOOKING_LINK_LIFETIME.days
    line = (
        "The button signs you in to see, move or cancel it: no password needed. It works"
        f" once, within {days} days; after that, ask for a new sign-in link on Kairos."
    )
    return replace(message, lines=[*message.lines, line], link=link, button="Manage your booking")


def _booking(booking_id: int) -> Booking:
    booking = Booking.with_details().where(Booking.id == booking_id).get()
    if booking.customer_id is not None:
        booking.customer = User.get_by_id(booking.customer_id)
    return booking


def _still_wanted(row: Notification, booking: Booking) -> None:
    """A reminder queued before the booking was cancelled or moved must not go."""
    if booking.status != BookingStatus.CONFIRMED:
        raise Undeliverable(f"The booking is {booking.status.replace('_', ' ')}.", skip=True)
    if booking.start_at.isoformat() != row.details.get("start"):
        raise Undeliverable("The booking moved since.", skip=True)
    if booking.start_at <= row.claimed_at:
        raise Undeliverable("The appointment had started.", skip=True)


def message_id(row: Notification, sender: str) -> str:
    """The same for every try of one row, so a duplicate is recognisable."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "kairos.invalid"
    return f"<notification-{row.id}.{row.kind}@{domain}>"


def _email(row: Notification, message, recipient: User, channels: Channels) -> None:
    if not recipient.email:
        raise Undeliverable("No email address.", skip=True)
    attachments = []
    if message.ics:
        attachments.append((message.ics, message.ics_method))
    mail.send(
        recipient.email,
        message.subject,
        "booking_notice",
        config=channels.mail,
        message_id=message_id(row, channels.mail.settings.mail_from),
        calendar=attachments[0] if attachments else None,
        name=recipient.name,
        message=message,
    )


def _push(row: Notification, message, channels: Channels) -> None:
    if row.subscription_id is None:
        raise Undeliverable("The device was removed.", skip=True)
    device = row.subscription
    if channels.vapid is None:
        raise Undeliverable("Web push is not configured.")
    payload = json.dumps(
        {
            "title": message.subject,
            "body": message.short,
            "url": message.page,
            "tag": message.topic,
        }
    )
    try:
        push.send(
            device,
            payload,
            channels.vapid,
            ttl=message.ttl,
            urgency=message.urgency,
            topic=message.topic,
            allow_hosts=channels.push_allow_hosts,
        )
    except push.PushError as exc:
        if exc.gone:
            push.forget(device.id)
        raise
    PushSubscription.update(last_success_at=row.claimed_at).where(
        PushSubscription.id == device.id
    ).execute()


def _sms(message, recipient: User, channels: Channels) -> None:
    if not recipient.phone:
        raise Undeliverable("No phone number.", skip=True)
    channels.sms.send(recipient.phone, messages.sms_text(message))


# --- the sweep -----------------------------------------------------------------------


def waiting(now: datetime, channels: Channels) -> list[int]:
    """Rows whose task was lost: claimed but never finished (the worker died), or queued
    and due for a while with nobody sending them (the queue was lost or the worker
    down). They are due now; the caller enqueues them again."""
    cut = [
        row_id
        for (row_id,) in Notification.update(status="queued", due_at=now)
        .where(
            (Notification.status == "sending") & (Notification.claimed_at < now - channels.lease)
        )
        .returning(Notification.id)
        .tuples()
        .execute()
    ]
    lost = [
        n.id
        for n in Notification.select(Notification.id)
        .where((Notification.status == "queued") & (Notification.due_at <= now - channels.stale))
        .order_by(Notification.due_at)
        .limit(1000)
    ]
    if lost:  # so the next sweep gives their new tasks time before asking again
        Notification.update(due_at=now).where(
            Notification.id.in_(lost) & (Notification.status == "queued")
        ).execute()
    return cut + lost


def due_at(notification_id: int) -> datetime:
    return Notification.get_by_id(notification_id).due_at


LABELS = {
    "confirmed": "Booking confirmed",
    "rescheduled": "Moved",
    "cancelled": "Cancelled",
    "reminder": "Reminder",
    "staff_new": "New booking",
    "staff_rescheduled": "Moved",
    "staff_cancelled": "Cancelled",
    "payment_refunded": "Refunded",
}


@dataclass(frozen=True)
class Delivery:
    """One line of a booking's delivery log."""

    what: str
    to: str
    channel: str
    status: str
    at: datetime
    attempts: int
    error: str


def log_for(booking: Booking) -> list[Delivery]:
    """What was sent about a booking (and the bookings it was moved from), to whom, on
    which channel, and what went wrong: the provider's delivery log."""
    rows = (
        Notification.select(Notification, User)
        .join(User, on=(Notification.recipient == User.id))
        .where(Notification.booking.in_(lineage(booking)))
        .order_by(Notification.created_at, Notification.id)
    )
    log = []
    for n in rows:
        what = LABELS[n.kind]
        if n.reminder_minutes is not None:
            what += f" ({_before(n.reminder_minutes)} before)"
        at = n.sent_at or (n.due_at if n.status == "queued" else n.claimed_at) or n.created_at
        error = _without_remote_text(n.last_error)
        log.append(Delivery(what, n.recipient.name, n.channel, n.status, at, n.attempts, error))
    return log


# Rows recorded before errors were written in our own words ("PushError: Push service
# 400: <what the push service said>", "SmsError: Twilio 400 (error 21610): <Twilio's
# text>", "SMTPDataError: (550, b'<the server's text>')") show only the status code.
_OLD_ERROR = re.compile(r"(PushError|SmsError|SMTP\w*(?:Error|Refused)): ")
_OLD_CODE = re.compile(r"(?:Push service|Twilio) (\d{3})|\((\d{3}), b['\"]")
_OLD_TWILIO_CODE = re.compile(r"^SmsError: Twilio \d{3} \(error (\d+)\)")


def _without_remote_text(error: str) -> str:
    old = _OLD_ERROR.match(error)
    if old is None:
        return error
    who = {"PushError": "The push service", "SmsError": "Twilio"}.get(old[1], "The mail server")
    code = _OLD_CODE.search(error)
    if code is None:
        return f"{who} could not be reached." if "unreachable" in error else f"{who} failed."
    said = f"{who} answered {code[1] or code[2]}"
    twilio = _OLD_TWILIO_CODE.match(error)
    return f"{said} (error {twilio[1]})." if twilio else f"{said}."


def _before(minutes: int) -> str:
    if minutes % 60:
        return f"{minutes} min"
    return f"{minutes // 60} h"

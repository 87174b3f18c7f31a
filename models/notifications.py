"""The notification outbox, the devices a person receives web push on, and what each
person wants to receive."""

from __future__ import annotations

import json

from peewee import (
    SQL,
    BooleanField,
    CharField,
    Check,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.base import BaseModel, UTCDateTimeField, utcnow
from models.bookings import Booking
from models.business import Organisation, User

CHANNELS = ("email", "push", "sms")
# To the customer: confirmed, rescheduled, cancelled, reminder; to the provider: staff_*.
KINDS = (
    "confirmed",
    "rescheduled",
    "cancelled",
    "reminder",
    "staff_new",
    "staff_rescheduled",
    "staff_cancelled",
    "payment_refunded",  # a payment that came after its hold expired, given back (0015)
)
# queued → sending → sent; or back to queued (a retry), or failed, or skipped (no longer
# wanted: the booking was cancelled before its reminder, the device is gone ...).
STATES = ("queued", "sending", "sent", "failed", "skipped")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class PushSubscription(BaseModel):
    """One browser or phone that agreed to receive web push for a person."""

    user = ForeignKeyField(User, backref="push_subscriptions", on_delete="CASCADE")
    endpoint = CharField(unique=True, max_length=1000)
    p256dh = CharField(max_length=200)
    auth = CharField(max_length=100)
    label = CharField(max_length=120, default="")  # "Chrome on Android", from the user agent
    created_at = UTCDateTimeField(default=utcnow)
    last_success_at = UTCDateTimeField(null=True)

    def info(self) -> dict:
        """As pywebpush wants it (the browser's PushSubscription.toJSON())."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class Notification(BaseModel):
    """The outbox: one message, to one person, on one channel (one device for push).

    Written in the same transaction as the change it tells about, delivered by a task
    after the commit. ``dedup_key`` is unique, so the same message is never queued
    twice, and a row is only sent by whoever moved it from queued to sending.
    """

    organisation = ForeignKeyField(Organisation, backref="+", on_delete="CASCADE")
    booking = ForeignKeyField(Booking, backref="notifications", on_delete="CASCADE")
    recipient = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    channel = CharField(max_length=8, constraints=[Check(f"channel IN ({_in(CHANNELS)})")])
    kind = CharField(max_length=24, constraints=[Check(f"kind IN ({_in(KINDS)})")])
    subscription = ForeignKeyField(PushSubscription, null=True, backref="+", on_delete="SET NULL")
    dedup_key = CharField(unique=True, max_length=200)
    status = CharField(
        max_length=8, default="queued", constraints=[Check(f"status IN ({_in(STATES)})")]
    )
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    detail = TextField(default="{}")  # JSON: who acted, why, where it moved from ...
    reminder_minutes = IntegerField(null=True)  # reminders: how long before the start
    created_at = UTCDateTimeField(default=utcnow)
    due_at = UTCDateTimeField(default=utcnow)  # not before: the next attempt
    claimed_at = UTCDateTimeField(null=True)
    sent_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("booking", "created_at"), False),)
        constraints = [SQL("CHECK (attempts >= 0)")]

    @property
    def details(self) -> dict:
        return json.loads(self.detail or "{}")


class NotificationPrefs(BaseModel):
    """What one person wants to receive; no row means the defaults below.

    Customers always get email for confirmations, changes and cancellations; they choose
    reminders by email, and push and SMS for reminders and for changes the business makes.
    Providers choose, per channel, which of their bookings' news they hear about.
    """

    user = ForeignKeyField(User, unique=True, backref="+", on_delete="CASCADE")
    email_reminders = BooleanField(default=True)
    push = BooleanField(default=True)
    sms = BooleanField(default=False)  # opt-in, and only with a phone number
    staff_email_new = BooleanField(default=True)
    staff_email_cancelled = BooleanField(default=True)
    staff_email_rescheduled = BooleanField(default=True)
    staff_push_new = BooleanField(default=True)
    staff_push_cancelled = BooleanField(default=True)
    staff_push_rescheduled = BooleanField(default=True)

    class Meta:
        table_name = "notification_prefs"

    @classmethod
    def of(cls, user_id: int) -> NotificationPrefs:
        return cls.get_or_none(cls.user == user_id) or cls(user=user_id)

    def staff_wants(self, kind: str, channel: str) -> bool:
        """Whether this provider wants ``kind`` (staff_new ...) on ``channel``."""
        return bool(getattr(self, f"staff_{channel}_{kind.removeprefix('staff_')}", False))

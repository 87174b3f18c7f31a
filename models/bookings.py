"""Bookings, their append-only history, and staff notes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from peewee import (
    SQL,
    CharField,
    Check,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.base import BaseModel, UTCDateTimeField, utcnow
from models.business import Organisation, Provider, Service, User


class BookingStatus(StrEnum):
    """Where a booking stands. Stored as its text; a StrEnum equals that text, so rows
    read back compare equal to these members."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    # Paid services (services/payments): the slot is held while the customer pays, until
    # ``hold_expires_at``; then it is confirmed, or expired and the slot is free again.
    PENDING_PAYMENT = "pending_payment"
    EXPIRED = "expired"


# Statuses that no longer keep the provider busy (the exclusion constraint's WHERE).
FREED = (BookingStatus.CANCELLED, BookingStatus.EXPIRED)


class Booking(BaseModel):
    organisation = ForeignKeyField(Organisation, backref="bookings", on_delete="CASCADE")
    service = ForeignKeyField(Service, backref="bookings")
    provider = ForeignKeyField(Provider, backref="bookings")
    customer = ForeignKeyField(User, backref="bookings", null=True, on_delete="SET NULL")
    start_at = UTCDateTimeField()
    end_at = UTCDateTimeField()
    block_start = UTCDateTimeField()
    block_end = UTCDateTimeField()
    status = CharField(
        max_length=16,
        default=BookingStatus.CONFIRMED,
        constraints=[Check(f"status IN ({', '.join(repr(str(s)) for s in BookingStatus)})")],
    )
    price_cents = IntegerField(constraints=[Check("price_cents >= 0")])
    currency = CharField(max_length=3)
    created_at = UTCDateTimeField(default=utcnow)
    cancelled_at = UTCDateTimeField(null=True)
    cancelled_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    cancel_reason = TextField(default="")
    rescheduled_from = ForeignKeyField("self", null=True, backref="rescheduled_to")
    # While PENDING_PAYMENT: when the slot is released if the payment has not succeeded.
    hold_expires_at = UTCDateTimeField(null=True)
    # How it was made: online by the customer, or by staff for a walk-in or a phone call.
    source = CharField(
        max_length=16,
        default="online",
        constraints=[Check("source IN ('online', 'walk_in', 'phone')")],
    )

    class Meta:
        constraints = [
            SQL("CHECK (block_start <= start_at AND start_at < end_at AND end_at <= block_end)")
        ]
        indexes = ((("provider", "block_start"), False), (("customer", "start_at"), False))

    @classmethod
    def with_details(cls):
        """Bookings with their service, provider and organisation, in one query."""
        return (
            cls.select(cls, Service, Provider, Organisation)
            .join(Service)
            .switch(cls)
            .join(Provider)
            .switch(cls)
            .join(Organisation)
        )

    @classmethod
    def overlapping(cls, provider_id: int, start: datetime, end: datetime):
        """Bookings that keep ``provider_id`` busy at some moment of [start, end)."""
        return cls.select().where(
            (cls.provider == provider_id)
            & cls.status.not_in(FREED)
            & (cls.block_start < end)
            & (cls.block_end > start)
        )


class BookingEvent(BaseModel):
    """Append-only history of a booking: who did what, when."""

    booking = ForeignKeyField(Booking, backref="events", on_delete="CASCADE")
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    action = CharField(max_length=32)
    detail = TextField(default="{}")
    created_at = UTCDateTimeField(default=utcnow)


class Note(BaseModel):
    """A private note the staff keep about a customer, optionally on one booking."""

    organisation = ForeignKeyField(Organisation, backref="notes", on_delete="CASCADE")
    customer = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    booking = ForeignKeyField(Booking, null=True, backref="notes", on_delete="CASCADE")
    author = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    body = TextField(constraints=[Check("length(body) BETWEEN 1 AND 4000")])
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("organisation", "customer", "created_at"), False),)

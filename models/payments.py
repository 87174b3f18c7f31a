"""Money for bookings (services/payments): what was asked and paid, what was refunded,
and which Stripe events were already handled."""

from __future__ import annotations

from enum import StrEnum

from peewee import CharField, Check, ForeignKeyField, IntegerField, TextField

from models.base import BaseModel, UTCDateTimeField, utcnow
from models.bookings import Booking
from models.business import Organisation, User
from models.encrypted import EncryptedTextField


class PaymentStatus(StrEnum):
    REQUIRES_PAYMENT = "requires_payment"
    SUCCEEDED = "succeeded"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELED = "canceled"


# Taken online through Stripe, or at the venue and recorded by staff.
PAYMENT_KINDS = ("deposit", "full", "cash", "terminal")
ONLINE_KINDS = ("deposit", "full")


class Payment(BaseModel):
    """One payment towards a booking. Online: its Stripe PaymentIntent (one per booking,
    created with the booking's id in its metadata). At the venue: recorded by staff.
    A reschedule carries the booking's payments over to the new booking."""

    booking = ForeignKeyField(Booking, backref="payments", on_delete="CASCADE")
    organisation = ForeignKeyField(Organisation, backref="+", on_delete="CASCADE", index=False)
    kind = CharField(
        max_length=8, constraints=[Check(f"kind IN ({', '.join(map(repr, PAYMENT_KINDS))})")]
    )
    intent_id = CharField(null=True, unique=True, max_length=255)
    # The Stripe account it went through (gateway.Account.fingerprint; 0016): refunds go
    # there even after the business changed its keys. NULL: the current one's.
    account = CharField(null=True, max_length=32)
    # The intent's client secret, which the customer's browser confirms the payment with.
    client_secret = EncryptedTextField(null=True)
    amount_cents = IntegerField(constraints=[Check("amount_cents > 0")])
    currency = CharField(max_length=3)
    status = CharField(
        max_length=20,
        constraints=[Check(f"status IN ({', '.join(repr(str(s)) for s in PaymentStatus)})")],
    )
    refunded_cents = IntegerField(
        default=0, constraints=[Check("refunded_cents >= 0 AND refunded_cents <= amount_cents")]
    )
    card_brand = CharField(null=True, max_length=32)
    card_last4 = CharField(null=True, max_length=4)
    last_error = TextField(default="")  # Stripe's message for the last declined attempt
    paid_at = UTCDateTimeField(null=True)
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("organisation", "paid_at"), False),)

    @property
    def online(self) -> bool:
        return self.kind in ONLINE_KINDS

    @property
    def kept_cents(self) -> int:
        """What the business has of it now."""
        if self.status in (PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.CANCELED):
            return 0
        return self.amount_cents - self.refunded_cents


class PaymentRefund(BaseModel):
    """Money given back. ``key`` says why and makes it happen once: it is also the
    Idempotency-Key sent to Stripe, so a retry never refunds twice."""

    payment = ForeignKeyField(Payment, backref="refunds", on_delete="CASCADE")
    key = CharField(unique=True, max_length=120)
    stripe_id = CharField(null=True, unique=True, max_length=255)
    amount_cents = IntegerField(constraints=[Check("amount_cents > 0")])
    status = CharField(
        max_length=10, constraints=[Check("status IN ('pending', 'succeeded', 'failed')")]
    )
    reason = CharField(max_length=32)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)


class StripeEvent(BaseModel):
    """A webhook event already handled: Stripe may send one more than once."""

    event_id = CharField(primary_key=True, max_length=255)
    type = CharField(max_length=64)
    received_at = UTCDateTimeField(default=utcnow)

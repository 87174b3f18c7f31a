"""What a booking's payments add up to: for its pages, the API, the schedule's marks
and the dashboard. Reads only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from models import Booking, Payment, PaymentRefund, Prepared
from models.payments import PaymentStatus


@dataclass
class Summary:
    payments: list[Payment] = field(default_factory=list)
    refunds: list[PaymentRefund] = field(default_factory=list)

    @property
    def online(self) -> Payment | None:
        """The booking's online payment (the latest, if it was held more than once)."""
        found = [p for p in self.payments if p.online]
        return found[-1] if found else None

    @property
    def kept_cents(self) -> int:
        """What the business has now, online and at the venue, refunds taken off."""
        return sum(p.kept_cents for p in self.payments)

    @property
    def refunded_cents(self) -> int:
        return sum(p.refunded_cents for p in self.payments)


_payments_of = Prepared(  # every booking the API answers with asks (views/api_json.py)
    lambda booking: Payment.select().where(Payment.booking == booking).order_by(Payment.id),
    booking=-70041,
)


def for_booking(booking_id: int) -> Summary:
    payments = _payments_of(booking=booking_id)
    if not payments:  # most bookings: paid at the venue, or nothing to pay
        return Summary()
    refunds = list(
        PaymentRefund.select()
        .where(PaymentRefund.payment.in_([p.id for p in payments]))
        .order_by(PaymentRefund.id)
    )
    return Summary(payments, refunds)


def mark(booking: Booking, kept_cents: int) -> str:
    """ "paid", "deposit" (something, not all), or "unpaid", for the schedule."""
    if kept_cents <= 0:
        return "unpaid"
    return "paid" if kept_cents >= booking.price_cents else "deposit"


def kept_by_booking(booking_ids: Iterable[int]) -> dict[int, int]:
    """What each booking's payments keep now, in one query."""
    ids = list(booking_ids)
    if not ids:
        return {}
    kept: dict[int, int] = {}
    rows = Payment.select(
        Payment.booking, Payment.amount_cents, Payment.refunded_cents, Payment.status
    ).where(
        Payment.booking.in_(ids)
        & Payment.status.not_in((PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.CANCELED))
    )
    for row in rows:
        kept[row.booking_id] = kept.get(row.booking_id, 0) + row.amount_cents - row.refunded_cents
    return kept

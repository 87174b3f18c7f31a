"""Payments taken at the venue, in cash or on the card terminal, recorded by staff for
the records: nothing is charged here. They count with the online ones towards what the
booking's customer has paid (ledger.Summary), so they lower the balance the panel
shows, change the schedule's mark and add to the dashboard's takings.

Whoever may manage the booking may record one (access.booking_for), of any amount up to
the balance still due: the price less what the business keeps of its payments so far.
Two people recording at once cannot both pass that check: the booking's row is taken
first (see ``_take``), so the second waits and then sees the first one's payment.
"""

from __future__ import annotations

import logging
from datetime import datetime

from models import Booking, BookingStatus, Payment, db, is_sqlite
from models.payments import PaymentStatus
from services import access, audit
from services.access import Staff
from services.amounts import parse_amount
from services.booking.appointments import record_event
from services.errors import Invalid, NotChangeable
from services.formats import money
from services.payments import ledger

log = logging.getLogger("kairos.payments")

KINDS = {"cash": "cash", "terminal": "card terminal"}
# A booking that happened, or is still to happen: paid for at the venue. (A no-show
# may be asked to pay; a cancelled or expired booking, or one still held for its
# online payment, is not paid at the venue.)
RECORDABLE = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


def balance_cents(booking: Booking, paid: ledger.Summary) -> int:
    """What is still due at the venue: the price less what the business keeps."""
    return max(0, booking.price_cents - paid.kept_cents)


def may_record(booking: Booking, paid: ledger.Summary) -> bool:
    return booking.status in RECORDABLE and balance_cents(booking, paid) > 0


def record(staff: Staff, booking_id: int, kind: str, amount: str | None, now: datetime) -> Payment:
    """Record ``amount`` (as typed, in currency units) received by ``kind`` ("cash" or
    "terminal") for a booking ``staff`` may manage; Invalid for a kind or an amount that
    is not acceptable, NotChangeable for a booking that takes no payment now."""
    booking = access.booking_for(staff, booking_id)
    if kind not in KINDS:
        raise Invalid({"kind": "Choose cash or card terminal."})
    cents = parse_amount(amount, "amount", what="amount", blank="Enter the amount received.")
    if cents <= 0:
        raise Invalid({"amount": "Enter an amount more than 0."})
    with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
        _take(booking)
        balance = balance_cents(booking, ledger.for_booking(booking.id))
        if balance <= 0:
            raise NotChangeable("Nothing is due: this booking is paid.")
        if cents > balance:
            shown = money(balance, booking.currency)
            raise Invalid({"amount": f"At most the balance due, {shown}."})
        payment = Payment.create(
            booking=booking.id,
            organisation=booking.organisation_id,
            kind=kind,
            amount_cents=cents,
            currency=booking.currency,
            status=PaymentStatus.SUCCEEDED,
            paid_at=now,
            recorded_by=staff.user_id,
            created_at=now,
        )
        record_event(booking.id, staff.user_id, "payment_recorded", now, amount=cents, kind=kind)
        audit.record(
            staff.organisation.id,
            staff.user_id,
            "bookings.payment_recorded",
            f"Recorded {money(cents, booking.currency)} paid by {KINDS[kind]} for booking"
            f" #{booking.id}.",
            now,
            subject=("booking", booking.id),
            detail={"amount_cents": cents, "kind": kind, "balance_after": balance - cents},
        )
    log.info(
        "payment.venue booking_id=%s kind=%s amount=%s user_id=%s",
        booking.id,
        kind,
        cents,
        staff.user_id,
    )
    return payment


def _take(booking: Booking) -> None:
    """Touch the booking's row while it may still be paid for. On PostgreSQL this locks
    the row until the transaction ends (SQLite's write lock is already held); its
    trigger (migration 0004) also moves the provider's calendar version, which is how a
    polling schedule learns that the booking's mark changed."""
    touched = (
        Booking.update(status=Booking.status)
        .where((Booking.id == booking.id) & Booking.status.in_(RECORDABLE))
        .execute()
    )
    if not touched:
        status = Booking.select(Booking.status).where(Booking.id == booking.id).scalar()
        raise NotChangeable(
            f"This booking is {str(status).replace('_', ' ')}: it takes no payment at the venue."
        )

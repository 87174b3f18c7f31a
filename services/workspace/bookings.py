"""A booking in the workspace, as its panel shows it: mark it completed or a no-show
(and undo that), keep private notes, cancel it saying why. Moving it is the same flow
as a customer's (views/moves.py, services/booking/appointments.py)."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from models import Booking, BookingStatus, Note, User, db
from services import access, audit
from services.access import Staff
from services.booking.appointments import cancel as cancel_booking
from services.booking.appointments import record_event
from services.errors import Invalid, NotChangeable
from services.notifications.outbox import Dispatch
from services.workspace.customers import clean_note

log = logging.getLogger("kairos.bookings")

MARKS = {
    BookingStatus.COMPLETED: BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW: BookingStatus.NO_SHOW,
    BookingStatus.CONFIRMED: "reopened",
}
MARKED = {  # for the audit log
    BookingStatus.COMPLETED: "completed",
    BookingStatus.NO_SHOW: "a no-show",
    BookingStatus.CONFIRMED: "not yet seen",
}


def mark(staff: Staff, booking_id: int, status: str, now: datetime) -> Booking:
    """Mark a booking completed (from its day on: a walk-in may be seen early) or a
    no-show (once it has started), or undo either mark."""
    booking = access.booking_for(staff, booking_id)
    if status not in MARKS:
        raise Invalid({"status": "Choose completed, no-show, or undo."})
    if status == BookingStatus.CONFIRMED:
        if booking.status not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
            raise NotChangeable("Only a completed or no-show booking can be reopened.")
    elif booking.status != BookingStatus.CONFIRMED:
        raise NotChangeable(f"This booking is already {booking.status.replace('_', ' ')}.")
    else:
        _check_markable(booking, status, ZoneInfo(staff.organisation.timezone), now)
    with db.atomic():
        changed = (
            Booking.update(status=status)
            .where((Booking.id == booking.id) & (Booking.status == booking.status))
            .execute()
        )
        if not changed:
            raise NotChangeable("This booking was changed meanwhile. Look again.")
        record_event(booking.id, staff.user_id, MARKS[status], now, previous=booking.status)
        audit.record(
            staff.organisation.id,
            staff.user_id,
            "bookings.marked",
            f"Marked booking #{booking.id} {MARKED[status]}"
            f" (it was {booking.status.replace('_', ' ')}).",
            now,
            subject=("booking", booking.id),
        )
    log.info("booking.marked booking_id=%s status=%s user_id=%s", booking.id, status, staff.user_id)
    return access.booking_for(staff, booking.id)


def markable(booking: Booking, timezone: str, now: datetime) -> set[str]:
    """Which marks the booking can take now: {"completed", "no_show"}, or fewer."""
    tz = ZoneInfo(timezone)
    found = set()
    if (
        booking.status == BookingStatus.CONFIRMED
        and booking.start_at.astimezone(tz).date() <= now.astimezone(tz).date()
    ):
        found.add(BookingStatus.COMPLETED)
    if booking.status == BookingStatus.CONFIRMED and booking.start_at <= now:
        found.add(BookingStatus.NO_SHOW)
    return found


def _check_markable(booking: Booking, status: str, tz: ZoneInfo, now: datetime) -> None:
    if status in markable(booking, tz.key, now):
        return
    starts = booking.start_at.astimezone(tz)
    if status == BookingStatus.COMPLETED:
        raise Invalid({"status": f"This can be marked completed from {starts:%A %-d %B} on."})
    raise Invalid({"status": f"This can be marked a no-show once it starts, at {starts:%H:%M}."})


def add_note(staff: Staff, booking_id: int, body: str | None, now: datetime) -> Note:
    """A private note on a booking (and so on its customer's record)."""
    booking = access.booking_for(staff, booking_id)
    text = clean_note(body)
    if booking.customer_id is None:
        raise Invalid({"body": "This booking's customer has deleted their account."})
    with db.atomic():
        audit.record(
            staff.organisation.id,
            staff.user_id,
            "bookings.note_added",
            f"Added a note to booking #{booking.id}.",
            now,
            subject=("booking", booking.id),
        )
        return Note.create(
            organisation=staff.organisation,
            customer=booking.customer_id,
            booking=booking.id,
            author=staff.user_id,
            body=text,
            created_at=now,
        )


def booking_notes(booking: Booking) -> list[Note]:
    return list(
        Note.select(Note, User)
        .join(User, on=(Note.author == User.id), attr="written_by")
        .where(Note.booking == booking.id)
        .order_by(Note.created_at.desc(), Note.id.desc())
    )


def cancel(
    staff: Staff, booking_id: int, reason: str | None, now: datetime, *, dispatch: Dispatch
) -> Booking:
    """Staff cancel at any time, saying why: the reason is what the customer is told
    (through ``dispatch``, once the cancellation is committed)."""
    booking = access.booking_for(staff, booking_id)
    text = (reason or "").strip()
    if not text:
        raise Invalid({"reason": "Say why, for the customer: it is sent to them."})
    if len(text) > 500:
        raise Invalid({"reason": f"Keep the reason under 500 characters ({len(text)} now)."})
    cancel_booking(
        booking_id=booking.id, actor_id=staff.user_id, now=now, reason=text, dispatch=dispatch
    )
    return access.booking_for(staff, booking.id)

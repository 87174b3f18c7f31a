"""An appointment as its customer follows it: one appointment, however often it moved.

Moving a booking makes a new one that points back at the old (``rescheduled_from``,
services/booking/appointments.py ``reschedule``) and cancels the old with the reason
"rescheduled". For the customer (and the workspace's customer record) that is one
appointment which moved: lists show only its current booking, old links open it, and
its history reads "Moved from Tue 1 Dec, 10:00", not a cancellation and a new booking.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from peewee import fn

from models import Booking, BookingEvent, BookingStatus
from services import access
from services.booking.calendar_links import latest, lineage
from services.formats import day_label, local_time


def moved_on():
    """A condition on Booking: it was moved to another booking (so it is not the
    appointment any more, only where it once was)."""
    later = Booking.alias()
    return fn.EXISTS(later.select(later.id).where(later.rescheduled_from == Booking.id))


def current_only(query):
    """``query`` (of bookings) without those moved on to another booking."""
    return query.where(~moved_on())


def moved_from_label(instant: datetime, timezone: str) -> str:
    """'Moved from Tue 1 Dec, 10:00' on the organisation's clock."""
    return f"Moved from {day_label(instant, timezone)}, {local_time(instant, timezone)}"


def with_moved_from(bookings: list[Booking], known: Iterable[Booking] = ()) -> list[Booking]:
    """Sets ``moved_from`` on each booking: when the appointment was before its last
    move, or None if it never moved. ``known``: bookings already loaded, looked in first;
    the rest are read in one query. Returns ``bookings``."""
    starts = {b.id: b.start_at for b in known}
    wanted = {b.rescheduled_from_id for b in bookings} - set(starts) - {None}
    if wanted:
        query = Booking.select(Booking.id, Booking.start_at).where(Booking.id.in_(wanted))
        starts.update((b.id, b.start_at) for b in query)
    for booking in bookings:
        booking.moved_from = starts.get(booking.rescheduled_from_id)
    return bookings


def one_per_appointment(bookings: list[Booking]) -> list[Booking]:
    """``bookings`` without those moved on to another booking in the list, the rest
    with their ``moved_from`` (see ``with_moved_from``)."""
    moved = {b.rescheduled_from_id for b in bookings}
    return with_moved_from([b for b in bookings if b.id not in moved], known=bookings)


def current_for_customer(customer_id: int, booking_id: int, missing: str) -> Booking:
    """The customer's booking (services/access.py decides; anyone else's is not found),
    or, if it has been moved, the booking it is now: an old link opens the appointment
    where it is, for as long as that is still the same customer's."""
    booking = access.customer_booking(customer_id, booking_id, missing)
    if booking.status != BookingStatus.CANCELLED:  # only a cancelled booking moved on
        return booking
    now_at = latest(booking)
    if now_at.id == booking.id or not access.is_customer_of(now_at, customer_id):
        return booking
    return now_at


def current_for_staff(staff, booking_id: int) -> Booking:
    """The booking the staff member may see, or, if it has been moved, the booking it is
    now, when they may see that one too (a staff email's old link opens the current
    time; a move to another provider's column they may not see keeps the old one)."""
    booking = access.booking_for(staff, booking_id)
    if booking.status != BookingStatus.CANCELLED:
        return booking
    now_at = latest(booking)
    if now_at.id == booking.id or not staff.may_manage(now_at):
        return booking
    return now_at


@dataclass(frozen=True)
class HistoryLine:
    text: str
    at: datetime


# What the customer is shown of a booking's events (services' record_event); the rest
# (staff marking it, notes) is the workspace's.
_CUSTOMER_WORDS = {
    "booked": "Booked",
    "cancelled": "Cancelled",
    "paid": "Paid online",
    "payment_recorded": "Payment taken",
    "expired": "Not paid in time",
}


def customer_history(booking: Booking) -> list[HistoryLine]:
    """The appointment's history, oldest first, across its moves: "Booked", then
    "Moved from <the time before>" for each move, and so on."""
    ids = lineage(booking)
    tz = booking.organisation.timezone
    starts = dict(Booking.select(Booking.id, Booking.start_at).where(Booking.id.in_(ids)).tuples())
    events = (
        BookingEvent.select()
        .where(BookingEvent.booking.in_(ids))
        .order_by(BookingEvent.created_at, BookingEvent.id)
    )
    lines = []
    for event in events:
        before = _moved_from(event, ids)
        if before is not None:
            lines.append(HistoryLine(moved_from_label(starts[before], tz), event.created_at))
        elif event.action in _CUSTOMER_WORDS:
            lines.append(HistoryLine(_CUSTOMER_WORDS[event.action], event.created_at))
    return lines


def _moved_from(event: BookingEvent, ids: list[int]) -> int | None:
    """The booking a "booked" event moved the appointment from, if it was a move."""
    if event.action != "booked" or event.booking_id == ids[0]:
        return None
    moved = json.loads(event.detail or "{}").get("rescheduled_from")
    return moved if moved in ids else ids[ids.index(event.booking_id) - 1]

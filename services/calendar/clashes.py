"""Bookings that clash with busy time imported from their provider's own calendar.

Busy time stops new bookings, but it can arrive after a booking was made: the provider
puts a dentist appointment in their calendar over it. Nothing is moved or cancelled
for them; the schedule flags the booking and its panel says which times clash.

Only the times of a busy block are known (never a title), and the calendar it came
from is named by its address's host, as the Calendars page names it: the rest of an
ICS address is a secret.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from models import FREED, Booking, BusyBlock, ExternalCalendar
from scheduling import Interval

# Calendars reached through an account rather than an address, named as people know them.
KIND_NAMES = {"google": "Google Calendar", "microsoft": "Outlook"}


@dataclass(frozen=True)
class BusyTime:
    """A busy block from one of the provider's calendars."""

    provider_id: int
    start: datetime
    end: datetime
    calendar: str  # which calendar: see calendar_name

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


def calendar_name(kind: str, url: str) -> str:
    """A calendar as its provider knows it: "Google Calendar", or its address's host."""
    return KIND_NAMES.get(kind) or urlsplit(url).hostname or "your calendar"


def busy_times(provider_ids: Iterable[int], start: datetime, end: datetime) -> list[BusyTime]:
    """The providers' imported busy blocks that overlap [start, end), with the calendar
    each came from: one query, however many providers."""
    query = (
        BusyBlock.select(
            BusyBlock.provider,
            BusyBlock.start_at,
            BusyBlock.end_at,
            ExternalCalendar.kind,
            ExternalCalendar.url,
        )
        .join(ExternalCalendar)
        .where(
            BusyBlock.provider.in_(list(provider_ids))
            & (BusyBlock.start_at < end)
            & (BusyBlock.end_at > start)
        )
        .order_by(BusyBlock.start_at, BusyBlock.end_at, BusyBlock.id)
    )
    return [
        BusyTime(
            b.provider_id, b.start_at, b.end_at, calendar_name(b.calendar.kind, b.calendar.url)
        )
        for b in query
    ]


def clashes(bookings: Iterable[Booking], busy: Iterable[BusyTime]) -> dict[int, list[BusyTime]]:
    """For each booking that keeps its provider busy (not cancelled or expired), the busy
    times of the same provider that overlap the appointment itself (start < other's end
    and other's start < end: one that ends as the booking starts, or starts as it ends,
    is no clash; nor is one in the booking's buffer only, where nobody is with the
    customer). By booking id; bookings without a clash are left out."""
    by_provider: dict[int, list[BusyTime]] = defaultdict(list)
    for block in dict.fromkeys(busy):  # once, should the same calendar be added twice
        by_provider[block.provider_id].append(block)
    found = {}
    for booking in bookings:
        if booking.status in FREED:
            continue
        appointment = Interval(booking.start_at, booking.end_at)
        mine = by_provider.get(booking.provider_id, ())
        over = [b for b in mine if b.interval.overlaps(appointment)]
        if over:
            found[booking.id] = over
    return found


def clashes_of(booking: Booking) -> list[BusyTime]:
    """One booking's clashes: one query, none for a cancelled or expired booking."""
    if booking.status in FREED:
        return []
    busy = busy_times([booking.provider_id], booking.start_at, booking.end_at)
    return clashes([booking], busy).get(booking.id, [])

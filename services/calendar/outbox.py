"""The outbox of appointments to write to providers' two-way calendars (CalDAV, Google,
Microsoft): ``booking_changed`` is called in the transaction of every change that a
provider's calendar shows (a booking confirmed, moved or cancelled), next to the
notifications of it, so a change is either committed with its row or not at all. The
worker sends the rows (services/calendar/two_way.py) and removes them once the calendar
has the change; a calendar server that is down keeps them until it is back.

A row names the appointment (the first booking of its reschedule chain) and a calendar,
not what to do: the sender looks up where the appointment is now and writes that, so
rows written for each step of a quick move-then-cancel come to one deletion, and a row
sent twice does no harm.
"""

from __future__ import annotations

from datetime import datetime

from peewee import EXCLUDED

from models import Booking, CalendarPush, ExternalCalendar, Prepared
from services.booking.calendar_links import lineage

_two_way_calendars = Prepared(  # asked in the transaction of every booking made
    lambda providers: ExternalCalendar.select(ExternalCalendar.id).where(
        ExternalCalendar.provider.in_(providers) & (ExternalCalendar.kind != "ics")
    ),
    rows=True,
    providers=(),
)


def booking_changed(booking: Booking, now: datetime, previous: Booking | None = None) -> list[int]:
    """Queue ``booking``'s appointment for its provider's two-way calendars (and for the
    previous provider's, when ``previous`` was someone else's). Returns the calendar ids
    to hand to the worker once the transaction has committed."""
    providers = {booking.provider_id}
    if previous is not None:
        providers.add(previous.provider_id)
    calendars = [row[0] for row in _two_way_calendars(providers=tuple(sorted(providers)))]
    if calendars:
        queue(calendars, [lineage(booking)[0]], now)
    return calendars


def queue(calendar_ids: list[int], first_booking_ids: list[int], now: datetime) -> None:
    """A row per calendar and appointment, 500 to a statement; one already waiting is due
    again now and counts one change more (the sender removes a row only if no change
    came meanwhile)."""
    rows = [
        {"calendar": c, "booking": b, "next_try_at": now, "created_at": now}
        for c in calendar_ids
        for b in first_booking_ids
    ]
    for start in range(0, len(rows), 500):  # a bounded number of values per statement
        (
            CalendarPush.insert_many(rows[start : start + 500])
            .on_conflict(
                conflict_target=[CalendarPush.calendar, CalendarPush.booking],
                update={
                    CalendarPush.changes: CalendarPush.changes + 1,
                    CalendarPush.attempts: 0,
                    CalendarPush.next_try_at: EXCLUDED.next_try_at,
                },
            )
            .execute()
        )


def due_calendars(now: datetime) -> list[int]:
    """The calendars with rows due, that can be written to (not waiting for consent)."""
    query = (
        CalendarPush.select(CalendarPush.calendar)
        .join(ExternalCalendar)
        .where((CalendarPush.next_try_at <= now) & (ExternalCalendar.reconnect == False))  # noqa: E712
        .distinct()
    )
    return sorted(row.calendar_id for row in query)

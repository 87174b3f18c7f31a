"""Which bookings clash with busy time from their provider's calendars (no database:
the bookings are unsaved rows, the busy times plain values)."""

from datetime import UTC, datetime, timedelta

import pytest

from models import Booking
from services.calendar.clashes import BusyTime, calendar_name, clashes


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 30, hour, minute, tzinfo=UTC)


def booking(booking_id: int, provider: int, start: datetime, minutes: int, **fields) -> Booking:
    end = start + timedelta(minutes=minutes)
    return Booking(
        id=booking_id,
        provider=provider,
        start_at=start,
        end_at=end,
        block_start=start,
        block_end=end + timedelta(minutes=fields.pop("buffer", 0)),
        **fields,
    )


def busy(provider: int, start: datetime, end: datetime, calendar="calendar.example") -> BusyTime:
    return BusyTime(provider, start, end, calendar)


@pytest.mark.parametrize(
    ("start", "end", "clash"),
    [
        (at(10, 30), at(11, 15), True),  # over its end
        (at(9, 30), at(10, 1), True),  # over its start
        (at(10, 15), at(10, 30), True),  # inside it
        (at(9), at(12), True),  # all around it
        (at(11), at(12), False),  # from its end
        (at(9), at(10), False),  # up to its start
        (at(11), at(11, 10), False),  # in its buffer only: nobody is with the customer
    ],
)
def test_a_busy_time_clashes_when_it_overlaps_the_appointment(start, end, clash):
    mine = booking(1, 7, at(10), 60, buffer=10, status="confirmed")
    found = clashes([mine], [busy(7, start, end)])
    assert found == ({1: [busy(7, start, end)]} if clash else {})


@pytest.mark.parametrize("status", ["cancelled", "expired"])
def test_a_freed_booking_never_clashes(status):
    assert clashes([booking(1, 7, at(10), 60, status=status)], [busy(7, at(10), at(11))]) == {}


@pytest.mark.parametrize("status", ["confirmed", "pending_payment", "completed", "no_show"])
def test_a_booking_that_keeps_its_provider_busy_clashes(status):
    found = clashes([booking(1, 7, at(10), 60, status=status)], [busy(7, at(10), at(11))])
    assert list(found) == [1]


def test_only_the_same_providers_busy_time_counts_and_each_once():
    ana, tom = booking(1, 7, at(10), 60, status="confirmed"), booking(2, 8, at(10), 45)
    twice = busy(8, at(10, 30), at(11))
    found = clashes([ana, tom], [twice, busy(9, at(10), at(11)), twice])
    assert found == {2: [twice]}


@pytest.mark.parametrize(
    ("kind", "url", "name"),
    [
        (
            "ics",
            "https://calendar.google.com/calendar/ical/a%40b.c/private-x/basic.ics",
            "calendar.google.com",
        ),
        ("caldav", "https://dav.example.org:8443/cal/ana/", "dav.example.org"),
        ("google", "primary", "Google Calendar"),
        ("microsoft", "", "Outlook"),
        ("ics", "not an address", "your calendar"),
    ],
)
def test_a_calendar_is_named_without_its_secret_address(kind, url, name):
    assert calendar_name(kind, url) == name

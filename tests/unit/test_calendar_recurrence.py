"""Busy times read from ICS files (tests/fixtures/calendars/): recurring events across a
DST change, EXDATE, a moved instance, all-day events, free and cancelled events, and an
event in another time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.calendar.recurrence import Unreadable, busy_times

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "calendars"
LONDON = ZoneInfo("Europe/London")
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)


def z(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def spans(name: str, tz: ZoneInfo = LONDON, start=START, end=END) -> list[tuple]:
    text = (FIXTURES / name).read_bytes()
    return [(b.start, b.end) for b in busy_times(text, start, end, tz)]


def test_a_weekly_event_keeps_its_local_time_across_the_change_to_winter_time():
    found = spans("weekly_dst.ics")
    # 10:00 London is 09:00Z in summer time (until 25 October), 10:00Z after.
    assert found[:3] == [
        (z(2026, 10, 22, 9), z(2026, 10, 22, 10)),
        (z(2026, 10, 29, 10), z(2026, 10, 29, 11)),
        (z(2026, 11, 5, 10), z(2026, 11, 5, 11)),
    ]
    assert len(found) == 11  # every Thursday to the end of the year (the 31st too)


def test_an_excluded_date_is_not_busy():
    found = spans("exdate.ics")
    days = [start.day for start, _ in found]
    assert days == [30, 1, 3, 4]  # 30 November to 4 December, less the 2nd


def test_a_moved_instance_is_busy_where_it_went_not_where_it_was():
    assert spans("moved.ics") == [
        (z(2026, 12, 1, 14), z(2026, 12, 1, 15)),
        (z(2026, 12, 9, 16), z(2026, 12, 9, 17)),  # moved from Tuesday the 8th, 14:00
        (z(2026, 12, 15, 14), z(2026, 12, 15, 15)),
    ]


def test_an_all_day_event_is_the_whole_local_day_of_the_business():
    assert spans("all_day.ics") == [
        (z(2026, 12, 4), z(2026, 12, 5)),
        (z(2026, 12, 10), z(2026, 12, 11)),  # no DTEND: the one day
    ]
    new_york = spans("all_day.ics", ZoneInfo("America/New_York"))
    assert new_york[0] == (z(2026, 12, 4, 5), z(2026, 12, 5, 5))


def test_free_and_cancelled_events_are_not_busy():
    assert spans("free_and_cancelled.ics") == [(z(2026, 12, 1, 13), z(2026, 12, 1, 14))]


def test_an_event_in_another_zone_is_at_its_own_instant():
    # 09:00 in New York (EST, -05:00) whatever the business's zone.
    assert spans("other_zone.ics") == [(z(2026, 12, 2, 14), z(2026, 12, 2, 14, 30))]
    assert spans("other_zone.ics", ZoneInfo("Asia/Kolkata")) == spans("other_zone.ics")


def test_only_events_overlapping_the_window_are_given():
    found = spans("weekly_dst.ics", start=z(2026, 11, 26, 10, 30), end=z(2026, 12, 4))
    assert found == [
        (z(2026, 11, 26, 10), z(2026, 11, 26, 11)),
        (z(2026, 12, 3, 10), z(2026, 12, 3, 11)),
    ]


def test_something_that_is_not_a_calendar_is_unreadable():
    with pytest.raises(Unreadable):
        busy_times(b"<html>Sign in</html>", START, END, LONDON)

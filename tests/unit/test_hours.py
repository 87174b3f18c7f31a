"""Availability without a database: reading typed hours and time off, and which bookings
a change orphans, in zones with different DST rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduling import DateOverride, Interval, WeeklyRule
from services.errors import Invalid
from services.workspace.availability import (
    TypedInterval,
    TypedTimeOff,
    clean_intervals,
    clean_time_off,
)
from services.workspace.orphans import Hours, newly_orphaned

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rows(*pairs: tuple[str, str]) -> list[TypedInterval]:
    return [TypedInterval(f"mon-{i}", start, end) for i, (start, end) in enumerate(pairs)]


def problems(call) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        call()
    return caught.value.fields


# Intervals --------------------------------------------------------------------------


def test_intervals_are_sorted_and_blank_rows_left_out():
    typed = rows(("14:00", "17:00"), ("", ""), (" 9:00 ", "12:30:00"))
    assert clean_intervals(typed) == ((time(9), time(12, 30)), (time(14), time(17)))


def test_every_problem_is_reported_on_its_own_field():
    typed = rows(("09:00", "13:00"), ("12:00", "14:00"), ("15:00", ""), ("x", "16:00"))
    assert problems(lambda: clean_intervals(typed)) == {
        "mon-1-start": "Overlaps 09:00–13:00: a day's intervals may not overlap.",
        "mon-2-end": "Give an end time.",
        "mon-3-start": "Give a time as HH:MM, like 09:30.",
    }


def test_an_interval_inside_a_longer_one_overlaps_it():
    typed = rows(("08:00", "18:00"), ("09:00", "10:00"), ("11:00", "12:00"))
    found = problems(lambda: clean_intervals(typed))
    assert found == {
        "mon-1-start": "Overlaps 08:00–18:00: a day's intervals may not overlap.",
        "mon-2-start": "Overlaps 08:00–18:00: a day's intervals may not overlap.",
    }


# Time off ---------------------------------------------------------------------------


def off(start_date, start_time, end_date, end_time, all_day=False):
    return TypedTimeOff(start_date, start_time, end_date, end_time, all_day, "")


@pytest.mark.parametrize(
    ("tz", "typed", "expected"),
    [
        # New York springs forward on Sun 14 Mar 2027 at 02:00 (EST −5 → EDT −4).
        (
            NEW_YORK,
            off("2027-03-13", "09:00", "2027-03-15", "17:00"),
            (utc(2027, 3, 13, 14), utc(2027, 3, 15, 21)),
        ),
        # Kolkata has no DST: +05:30 all year.
        (
            KOLKATA,
            off("2027-06-01", "09:30", "2027-06-01", "13:00"),
            (utc(2027, 6, 1, 4), utc(2027, 6, 1, 7, 30)),
        ),
        # Lord Howe moves 30 minutes: +10:30 until 02:00 on Sun 3 Oct 2027, then +11.
        (
            LORD_HOWE,
            off("2027-10-02", "", "2027-10-03", "", True),
            (utc(2027, 10, 1, 13, 30), utc(2027, 10, 3, 13)),
        ),
        # Lord Howe falls back on Sun 4 Apr 2027 at 02:00 to 01:30: 01:45 happens twice,
        # so the range starts at the first 01:45 and ends at the second.
        (
            LORD_HOWE,
            off("2027-04-04", "01:45", "2027-04-04", "01:45"),
            (utc(2027, 4, 3, 14, 45), utc(2027, 4, 3, 15, 15)),
        ),
    ],
)
def test_time_off_is_converted_to_utc_in_each_zone(tz, typed, expected):
    span, _ = clean_time_off(typed, tz, NOW)
    assert (span.start, span.end) == expected


def test_a_time_in_a_thirty_minute_gap_is_refused():
    typed = off("2027-10-03", "02:15", "2027-10-03", "05:00")
    assert problems(lambda: clean_time_off(typed, LORD_HOWE, NOW)) == {
        "start_time": "02:15 does not exist on Sun 3 Oct: the clocks go forward from 02:00 to"
        " 02:30. Choose a time before 02:00 or from 02:30."
    }


def test_time_off_reports_each_missing_part():
    typed = TypedTimeOff("", "", "2026-13-01", "25:00", False, "x" * 201)
    assert problems(lambda: clean_time_off(typed, LONDON, NOW)) == {
        "start_date": "Choose the first day.",
        "start_time": "Give the start time.",
        "end_date": "Give a date as YYYY-MM-DD.",
        "end_time": "Give a time as HH:MM, like 09:30.",
        "reason": "Use at most 200 characters.",
    }


def test_time_off_that_has_begun_is_fine_but_not_one_that_is_over():
    begun, _ = clean_time_off(off("2026-11-25", "09:00", "2026-11-25", "17:00"), LONDON, NOW)
    assert begun == Interval(utc(2026, 11, 25, 9), utc(2026, 11, 25, 17))
    over = off("2026-11-25", "09:00", "2026-11-25", "12:00")  # ends right now
    assert "end_date" in problems(lambda: clean_time_off(over, LONDON, NOW))


# Orphans ----------------------------------------------------------------------------


@dataclass
class FakeBooking:
    id: int
    start_at: datetime
    end_at: datetime


WEEKDAYS_9_TO_5 = tuple(WeeklyRule(day, time(9), time(17)) for day in range(5))


def test_bookings_are_judged_on_the_local_clock_in_winter_and_summer():
    winter = FakeBooking(1, utc(2027, 3, 22, 9), utc(2027, 3, 22, 10))  # Mon 09:00 GMT
    summer = FakeBooking(2, utc(2027, 3, 29, 8), utc(2027, 3, 29, 9))  # Mon 09:00 BST
    before = Hours(rules=WEEKDAYS_9_TO_5)
    assert newly_orphaned([winter, summer], before, before, LONDON) == []
    later = Hours(rules=(WeeklyRule(0, time(9, 30), time(17)),))
    assert newly_orphaned([winter, summer], before, later, LONDON) == [winter, summer]


def test_an_override_or_time_off_orphans_only_what_it_covers():
    monday = FakeBooking(1, utc(2026, 11, 30, 10), utc(2026, 11, 30, 11))
    tuesday = FakeBooking(2, utc(2026, 12, 1, 10), utc(2026, 12, 1, 11))
    before = Hours(rules=WEEKDAYS_9_TO_5)
    closed = Hours(WEEKDAYS_9_TO_5, overrides=(DateOverride(date(2026, 11, 30)),))
    assert newly_orphaned([monday, tuesday], before, closed, LONDON) == [monday]
    shorter = Hours(WEEKDAYS_9_TO_5, (DateOverride(date(2026, 12, 1), ((time(10), time(11)),)),))
    assert newly_orphaned([monday, tuesday], before, shorter, LONDON) == []
    touching = Hours(
        WEEKDAYS_9_TO_5, time_off=(Interval(utc(2026, 12, 1, 11), utc(2026, 12, 1, 12)),)
    )
    assert newly_orphaned([monday, tuesday], before, touching, LONDON) == []
    over = Hours(
        WEEKDAYS_9_TO_5, time_off=(Interval(utc(2026, 12, 1, 10, 59), utc(2026, 12, 1, 12)),)
    )
    assert newly_orphaned([monday, tuesday], before, over, LONDON) == [tuesday]


def test_a_booking_across_two_touching_intervals_still_fits():
    booking = FakeBooking(1, utc(2026, 11, 30, 12, 30), utc(2026, 11, 30, 13, 30))
    before = Hours(rules=WEEKDAYS_9_TO_5)
    split = Hours(rules=(WeeklyRule(0, time(9), time(13)), WeeklyRule(0, time(13), time(17))))
    assert newly_orphaned([booking], before, split, LONDON) == []
    lunch = Hours(rules=(WeeklyRule(0, time(9), time(13)), WeeklyRule(0, time(14), time(17))))
    assert newly_orphaned([booking], before, lunch, LONDON) == [booking]

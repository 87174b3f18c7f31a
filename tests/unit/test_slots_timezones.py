"""Slots on the 2026 DST transition days, in zones with one- and half-hour shifts.

2026 transitions (checked with zoneinfo in test_transition_dates_are_as_assumed):
Europe/London        29 Mar 01:00Z (GMT→BST), 25 Oct 01:00Z (BST→GMT)
America/New_York      8 Mar 07:00Z (EST→EDT),  1 Nov 06:00Z (EDT→EST)
Australia/Lord_Howe   5 Apr local (4 Apr 15:00Z, +11→+10:30: 02:00 back to 01:30),
                      4 Oct local (3 Oct 15:30Z, +10:30→+11: 02:00 forward to 02:30)
Asia/Kolkata         +05:30 all year.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling import (
    Interval,
    ProviderCalendar,
    ServiceRules,
    WeeklyRule,
    available_slots,
    working_intervals,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")

SUN = 6
NOW = datetime(2026, 1, 1, tzinfo=UTC)

NY_SPRING = date(2026, 3, 8)
NY_FALL = date(2026, 11, 1)
LONDON_SPRING = date(2026, 3, 29)
LONDON_FALL = date(2026, 10, 25)
LH_FALL = date(2026, 4, 5)
LH_SPRING = date(2026, 10, 4)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def every_half_hour(first: datetime, count: int) -> list[datetime]:
    return [first + i * timedelta(minutes=30) for i in range(count)]


def sunday(start: str, end: str) -> ProviderCalendar:
    return ProviderCalendar(
        1, (WeeklyRule(SUN, time.fromisoformat(start), time.fromisoformat(end)),)
    )


def service(minutes: int, step: int) -> ServiceRules:
    return ServiceRules(duration=timedelta(minutes=minutes), step=timedelta(minutes=step))


def starts(cal: ProviderCalendar, svc: ServiceRules, tz: ZoneInfo, day: date) -> list[datetime]:
    slots = available_slots(cal, svc, tz, day, day, NOW)
    return [s.start for s in slots]


def walls(instants: list[datetime], tz: ZoneInfo) -> list[str]:
    """Wall-clock time with the zone abbreviation, e.g. '01:30 EDT'."""
    return [i.astimezone(tz).strftime("%H:%M %Z") for i in instants]


@pytest.mark.parametrize(
    ("tz", "before", "after"),
    [
        (LONDON, utc(2026, 3, 29, 0, 59), timedelta(hours=1)),
        (LONDON, utc(2026, 10, 25, 0, 59), timedelta(0)),
        (NEW_YORK, utc(2026, 3, 8, 6, 59), timedelta(hours=-4)),
        (NEW_YORK, utc(2026, 11, 1, 5, 59), timedelta(hours=-5)),
        (LORD_HOWE, utc(2026, 4, 4, 14, 59), timedelta(hours=10, minutes=30)),
        (LORD_HOWE, utc(2026, 10, 3, 15, 29), timedelta(hours=11)),
    ],
)
def test_transition_dates_are_as_assumed(tz, before, after):
    assert before.astimezone(tz).utcoffset() != after
    assert (before + timedelta(minutes=1)).astimezone(tz).utcoffset() == after


# --- America/New_York ----------------------------------------------------------


def test_new_york_spring_forward_skips_the_missing_hour():
    found = starts(sunday("00:00", "04:00"), service(30, 30), NEW_YORK, NY_SPRING)
    assert walls(found, NEW_YORK) == [
        "00:00 EST",
        "00:30 EST",
        "01:00 EST",
        "01:30 EST",
        "03:00 EDT",
        "03:30 EDT",
    ]
    assert found == every_half_hour(utc(2026, 3, 8, 5), 6)


def test_new_york_spring_forward_working_interval_is_real_time_only():
    (work,) = working_intervals(sunday("00:00", "04:00").rules, (), NY_SPRING, NY_SPRING, NEW_YORK)
    assert work == Interval(utc(2026, 3, 8, 5), utc(2026, 3, 8, 8))


def test_new_york_fall_back_offers_both_occurrences_of_the_repeated_hour():
    found = starts(sunday("00:00", "04:00"), service(30, 30), NEW_YORK, NY_FALL)
    assert walls(found, NEW_YORK) == [
        "00:00 EDT",
        "00:30 EDT",
        "01:00 EDT",
        "01:30 EDT",
        "01:00 EST",
        "01:30 EST",
        "02:00 EST",
        "02:30 EST",
        "03:00 EST",
        "03:30 EST",
    ]
    assert found == every_half_hour(utc(2026, 11, 1, 4), 10)
    assert len(set(found)) == 10


def test_new_york_fall_back_working_interval_is_five_hours():
    (work,) = working_intervals(sunday("00:00", "04:00").rules, (), NY_FALL, NY_FALL, NEW_YORK)
    assert work == Interval(utc(2026, 11, 1, 4), utc(2026, 11, 1, 9))


def test_new_york_slot_may_straddle_the_spring_transition():
    # A 60-minute service from 01:30 EST ends at 03:30 EDT: one real hour.
    found = starts(sunday("01:00", "04:00"), service(60, 30), NEW_YORK, NY_SPRING)
    assert walls(found, NEW_YORK) == ["01:00 EST", "01:30 EST", "03:00 EDT"]


def test_new_york_rule_ending_in_the_gap_ends_at_the_transition():
    cal = sunday("00:00", "02:30")
    (work,) = working_intervals(cal.rules, (), NY_SPRING, NY_SPRING, NEW_YORK)
    assert work == Interval(utc(2026, 3, 8, 5), utc(2026, 3, 8, 7))
    found = starts(cal, service(60, 30), NEW_YORK, NY_SPRING)
    assert walls(found, NEW_YORK) == ["00:00 EST", "00:30 EST", "01:00 EST"]


def test_new_york_rule_starting_in_the_gap_opens_at_the_transition():
    found = starts(sunday("02:30", "05:00"), service(30, 30), NEW_YORK, NY_SPRING)
    assert found == every_half_hour(utc(2026, 3, 8, 7), 4)
    assert walls(found, NEW_YORK)[0] == "03:00 EDT"


def test_new_york_rule_entirely_in_the_gap_gives_nothing():
    cal = sunday("02:00", "02:59")
    assert working_intervals(cal.rules, (), NY_SPRING, NY_SPRING, NEW_YORK) == []
    assert starts(cal, service(15, 15), NEW_YORK, NY_SPRING) == []


def test_new_york_rule_closing_in_the_repeated_hour_closes_at_its_second_occurrence():
    found = starts(sunday("00:00", "01:30"), service(30, 30), NEW_YORK, NY_FALL)
    assert walls(found, NEW_YORK) == [
        "00:00 EDT",
        "00:30 EDT",
        "01:00 EDT",
        "01:30 EDT",
        "01:00 EST",
    ]


def test_new_york_rule_opening_in_the_repeated_hour_opens_at_its_first_occurrence():
    found = starts(sunday("01:30", "03:00"), service(30, 30), NEW_YORK, NY_FALL)
    assert found == every_half_hour(utc(2026, 11, 1, 5, 30), 5)
    assert walls(found, NEW_YORK)[:3] == ["01:30 EDT", "01:00 EST", "01:30 EST"]


def test_new_york_rules_split_in_the_repeated_hour_have_no_duplicates():
    cal = ProviderCalendar(
        1,
        (
            WeeklyRule(SUN, time(0), time(1, 30)),
            WeeklyRule(SUN, time(1, 30), time(3)),
        ),
    )
    found = starts(cal, service(30, 30), NEW_YORK, NY_FALL)
    assert found == every_half_hour(utc(2026, 11, 1, 4), 8)


def test_new_york_busy_in_the_first_occurrence_leaves_the_second():
    busy = (Interval(utc(2026, 11, 1, 5), utc(2026, 11, 1, 6)),)  # 01:00–02:00 EDT
    cal = ProviderCalendar(1, (WeeklyRule(SUN, time(0), time(4)),), busy=busy)
    found = starts(cal, service(30, 30), NEW_YORK, NY_FALL)
    assert walls(found, NEW_YORK) == [
        "00:00 EDT",
        "00:30 EDT",
        "01:00 EST",
        "01:30 EST",
        "02:00 EST",
        "02:30 EST",
        "03:00 EST",
        "03:30 EST",
    ]


def test_new_york_week_across_fall_back_keeps_wall_clock_hours():
    cal = ProviderCalendar(1, tuple(WeeklyRule(d, time(9), time(10)) for d in range(7)))
    slots = available_slots(
        cal, service(60, 60), NEW_YORK, date(2026, 10, 30), date(2026, 11, 3), NOW
    )
    assert [s.start for s in slots] == [
        utc(2026, 10, 30, 13),
        utc(2026, 10, 31, 13),
        utc(2026, 11, 1, 14),
        utc(2026, 11, 2, 14),
        utc(2026, 11, 3, 14),
    ]


# --- Europe/London -------------------------------------------------------------


def test_london_spring_forward():
    found = starts(sunday("00:00", "04:00"), service(30, 30), LONDON, LONDON_SPRING)
    assert walls(found, LONDON) == [
        "00:00 GMT",
        "00:30 GMT",
        "02:00 BST",
        "02:30 BST",
        "03:00 BST",
        "03:30 BST",
    ]
    assert found == every_half_hour(utc(2026, 3, 29, 0), 6)


def test_london_fall_back():
    found = starts(sunday("00:00", "04:00"), service(30, 30), LONDON, LONDON_FALL)
    assert walls(found, LONDON) == [
        "00:00 BST",
        "00:30 BST",
        "01:00 BST",
        "01:30 BST",
        "01:00 GMT",
        "01:30 GMT",
        "02:00 GMT",
        "02:30 GMT",
        "03:00 GMT",
        "03:30 GMT",
    ]
    assert found == every_half_hour(utc(2026, 10, 24, 23), 10)


def test_london_rule_ending_in_the_gap():
    cal = sunday("00:00", "01:30")
    (work,) = working_intervals(cal.rules, (), LONDON_SPRING, LONDON_SPRING, LONDON)
    assert work == Interval(utc(2026, 3, 29, 0), utc(2026, 3, 29, 1))
    assert starts(cal, service(30, 30), LONDON, LONDON_SPRING) == [
        utc(2026, 3, 29, 0),
        utc(2026, 3, 29, 0, 30),
    ]
    assert starts(cal, service(90, 30), LONDON, LONDON_SPRING) == []


def test_london_ordinary_hours_on_transition_sundays():
    cal = sunday("09:00", "12:00")
    svc = service(60, 60)
    assert starts(cal, svc, LONDON, LONDON_SPRING) == [utc(2026, 3, 29, h) for h in (8, 9, 10)]
    assert starts(cal, svc, LONDON, LONDON_FALL) == [utc(2026, 10, 25, h) for h in (9, 10, 11)]


# --- Australia/Lord_Howe (30-minute shift) -------------------------------------


def test_lord_howe_fall_back_repeats_half_an_hour():
    found = starts(sunday("00:00", "04:00"), service(30, 30), LORD_HOWE, LH_FALL)
    assert [i.astimezone(LORD_HOWE).strftime("%H:%M") for i in found] == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "01:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
    ]
    assert found == every_half_hour(utc(2026, 4, 4, 13), 9)


def test_lord_howe_fall_back_hourly_grid_follows_the_wall_clock():
    # After the clocks go back to 01:30 the next whole local hour is 02:00, only 30
    # minutes after 01:00 started — so the gap between UTC starts is uneven.
    found = starts(sunday("00:00", "04:00"), service(60, 60), LORD_HOWE, LH_FALL)
    assert found == [
        utc(2026, 4, 4, 13, 0),
        utc(2026, 4, 4, 14, 0),
        utc(2026, 4, 4, 15, 30),
        utc(2026, 4, 4, 16, 30),
    ]
    assert [i.astimezone(LORD_HOWE).strftime("%H:%M") for i in found] == [
        "00:00",
        "01:00",
        "02:00",
        "03:00",
    ]


def test_lord_howe_spring_forward_skips_half_an_hour():
    found = starts(sunday("00:00", "04:00"), service(30, 30), LORD_HOWE, LH_SPRING)
    assert [i.astimezone(LORD_HOWE).strftime("%H:%M") for i in found] == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "02:30",
        "03:00",
        "03:30",
    ]
    assert found == every_half_hour(utc(2026, 10, 3, 13, 30), 7)


def test_lord_howe_spring_forward_hourly_grid():
    found = starts(sunday("00:00", "04:00"), service(60, 60), LORD_HOWE, LH_SPRING)
    assert found == [utc(2026, 10, 3, 13, 30), utc(2026, 10, 3, 14, 30), utc(2026, 10, 3, 16, 0)]


def test_lord_howe_rule_ending_in_the_gap():
    cal = sunday("00:00", "02:15")
    (work,) = working_intervals(cal.rules, (), LH_SPRING, LH_SPRING, LORD_HOWE)
    assert work == Interval(utc(2026, 10, 3, 13, 30), utc(2026, 10, 3, 15, 30))
    assert starts(cal, service(60, 60), LORD_HOWE, LH_SPRING) == [
        utc(2026, 10, 3, 13, 30),
        utc(2026, 10, 3, 14, 30),
    ]


def test_lord_howe_rule_starting_in_the_gap_rounds_up_to_the_grid():
    # Opens at the jump (02:30 LHDT); the first whole hour after that is 03:00.
    found = starts(sunday("02:15", "05:00"), service(60, 60), LORD_HOWE, LH_SPRING)
    assert found == [utc(2026, 10, 3, 16), utc(2026, 10, 3, 17)]


def test_lord_howe_rule_exactly_the_gap_gives_nothing():
    cal = sunday("02:00", "02:30")
    assert working_intervals(cal.rules, (), LH_SPRING, LH_SPRING, LORD_HOWE) == []
    assert starts(cal, service(5, 5), LORD_HOWE, LH_SPRING) == []


# --- Asia/Kolkata --------------------------------------------------------------


@pytest.mark.parametrize("day", [NY_SPRING, LONDON_SPRING, LONDON_FALL, NY_FALL])
def test_kolkata_is_unaffected_by_other_zones_transitions(day):
    found = starts(sunday("09:00", "13:00"), service(60, 60), KOLKATA, day)
    first = datetime.combine(day, time(3, 30), tzinfo=UTC)
    assert found == [first + timedelta(hours=h) for h in range(4)]

"""Wall-clock time versus UTC instants, around the 2026 DST transitions."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.localtime import (
    boundary,
    instants,
    local_date,
    offset_at,
    transitions_between,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- instants ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "naive", "expected"),
    [
        (LONDON, datetime(2026, 1, 5, 9, 0), utc(2026, 1, 5, 9, 0)),
        (LONDON, datetime(2026, 7, 6, 9, 0), utc(2026, 7, 6, 8, 0)),
        (NEW_YORK, datetime(2026, 1, 5, 9, 0), utc(2026, 1, 5, 14, 0)),
        (NEW_YORK, datetime(2026, 7, 6, 9, 0), utc(2026, 7, 6, 13, 0)),
        (KOLKATA, datetime(2026, 3, 29, 9, 0), utc(2026, 3, 29, 3, 30)),
        (KOLKATA, datetime(2026, 11, 1, 0, 0), utc(2026, 10, 31, 18, 30)),
        (LORD_HOWE, datetime(2026, 7, 6, 9, 0), utc(2026, 7, 5, 22, 30)),
        (LORD_HOWE, datetime(2026, 1, 5, 9, 0), utc(2026, 1, 4, 22, 0)),
        # Just either side of each gap and overlap.
        (LONDON, datetime(2026, 3, 29, 0, 59), utc(2026, 3, 29, 0, 59)),
        (LONDON, datetime(2026, 3, 29, 2, 0), utc(2026, 3, 29, 1, 0)),
        (LONDON, datetime(2026, 10, 25, 0, 59), utc(2026, 10, 24, 23, 59)),
        (LONDON, datetime(2026, 10, 25, 2, 0), utc(2026, 10, 25, 2, 0)),
        (NEW_YORK, datetime(2026, 3, 8, 1, 59), utc(2026, 3, 8, 6, 59)),
        (NEW_YORK, datetime(2026, 3, 8, 3, 0), utc(2026, 3, 8, 7, 0)),
        (NEW_YORK, datetime(2026, 11, 1, 2, 0), utc(2026, 11, 1, 7, 0)),
        (LORD_HOWE, datetime(2026, 10, 4, 1, 59), utc(2026, 10, 3, 15, 29)),
        (LORD_HOWE, datetime(2026, 10, 4, 2, 30), utc(2026, 10, 3, 15, 30)),
        (LORD_HOWE, datetime(2026, 4, 5, 1, 29), utc(2026, 4, 4, 14, 29)),
        (LORD_HOWE, datetime(2026, 4, 5, 2, 0), utc(2026, 4, 4, 15, 30)),
    ],
)
def test_unambiguous_time_names_one_instant(tz, naive, expected):
    assert instants(naive, tz) == (expected,)


@pytest.mark.parametrize(
    ("tz", "naive"),
    [
        (LONDON, datetime(2026, 3, 29, 1, 0)),
        (LONDON, datetime(2026, 3, 29, 1, 30)),
        (LONDON, datetime(2026, 3, 29, 1, 59, 59)),
        (NEW_YORK, datetime(2026, 3, 8, 2, 0)),
        (NEW_YORK, datetime(2026, 3, 8, 2, 45)),
        (LORD_HOWE, datetime(2026, 10, 4, 2, 0)),
        (LORD_HOWE, datetime(2026, 10, 4, 2, 15)),
        (LORD_HOWE, datetime(2026, 10, 4, 2, 29)),
    ],
)
def test_time_in_spring_forward_gap_names_no_instant(tz, naive):
    assert instants(naive, tz) == ()


@pytest.mark.parametrize(
    ("tz", "naive", "first", "second"),
    [
        (LONDON, datetime(2026, 10, 25, 1, 0), utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 1, 0)),
        (LONDON, datetime(2026, 10, 25, 1, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
        (NEW_YORK, datetime(2026, 11, 1, 1, 0), utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 6, 0)),
        (NEW_YORK, datetime(2026, 11, 1, 1, 59), utc(2026, 11, 1, 5, 59), utc(2026, 11, 1, 6, 59)),
        # Lord Howe repeats only half an hour: 01:30–02:00.
        (LORD_HOWE, datetime(2026, 4, 5, 1, 30), utc(2026, 4, 4, 14, 30), utc(2026, 4, 4, 15, 0)),
        (LORD_HOWE, datetime(2026, 4, 5, 1, 45), utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15, 15)),
    ],
)
def test_time_in_fall_back_overlap_names_two_sorted_instants(tz, naive, first, second):
    assert instants(naive, tz) == (first, second)


def test_instants_are_utc_and_round_trip_to_the_wall_clock():
    naive = datetime(2026, 11, 1, 1, 30)
    found = instants(naive, NEW_YORK)
    assert len(found) == 2
    for instant in found:
        assert instant.tzinfo is UTC
        assert instant.astimezone(NEW_YORK).replace(tzinfo=None) == naive
    assert [i.astimezone(NEW_YORK).utcoffset() for i in found] == [
        timedelta(hours=-4),
        timedelta(hours=-5),
    ]


def test_kolkata_never_has_gaps_or_overlaps():
    naive = datetime(2026, 1, 1)
    while naive < datetime(2027, 1, 1):
        assert len(instants(naive, KOLKATA)) == 1
        naive += timedelta(hours=7, minutes=30)


# --- boundary ---------------------------------------------------------------


def test_boundary_of_an_ordinary_time_is_the_same_opening_or_closing():
    opens = boundary(date(2026, 7, 6), time(9), LONDON, closing=False)
    closes = boundary(date(2026, 7, 6), time(9), LONDON, closing=True)
    assert opens == closes == utc(2026, 7, 6, 8, 0)


@pytest.mark.parametrize(
    ("tz", "day", "wall", "first", "second"),
    [
        (
            NEW_YORK,
            date(2026, 11, 1),
            time(1, 30),
            utc(2026, 11, 1, 5, 30),
            utc(2026, 11, 1, 6, 30),
        ),
        (
            LONDON,
            date(2026, 10, 25),
            time(1, 30),
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 25, 1, 30),
        ),
        (
            LORD_HOWE,
            date(2026, 4, 5),
            time(1, 45),
            utc(2026, 4, 4, 14, 45),
            utc(2026, 4, 4, 15, 15),
        ),
    ],
)
def test_ambiguous_boundary_opens_at_first_and_closes_at_second(tz, day, wall, first, second):
    assert boundary(day, wall, tz, closing=False) == first
    assert boundary(day, wall, tz, closing=True) == second


@pytest.mark.parametrize(
    ("tz", "day", "wall", "first"),
    [
        (LONDON, date(2026, 10, 25), time(1, 0), utc(2026, 10, 25, 0, 0)),
        (NEW_YORK, date(2026, 11, 1), time(1, 0), utc(2026, 11, 1, 5, 0)),
        (LORD_HOWE, date(2026, 4, 5), time(1, 30), utc(2026, 4, 4, 14, 30)),
    ],
)
def test_a_close_at_the_start_of_the_repeated_hour_is_its_first_occurrence(tz, day, wall, first):
    # The clocks read this time once before the repeat; at its second occurrence they
    # would have read past it for the whole repeated hour (found by hypothesis).
    assert boundary(day, wall, tz, closing=True) == first
    assert boundary(day, wall, tz, closing=False) == first


@pytest.mark.parametrize(
    ("tz", "day", "wall", "transition"),
    [
        (LONDON, date(2026, 3, 29), time(1, 0), utc(2026, 3, 29, 1, 0)),
        (LONDON, date(2026, 3, 29), time(1, 30), utc(2026, 3, 29, 1, 0)),
        (NEW_YORK, date(2026, 3, 8), time(2, 0), utc(2026, 3, 8, 7, 0)),
        (NEW_YORK, date(2026, 3, 8), time(2, 59, 59), utc(2026, 3, 8, 7, 0)),
        (LORD_HOWE, date(2026, 10, 4), time(2, 0), utc(2026, 10, 3, 15, 30)),
        (LORD_HOWE, date(2026, 10, 4), time(2, 20), utc(2026, 10, 3, 15, 30)),
    ],
)
def test_gap_boundary_is_the_transition_instant(tz, day, wall, transition):
    for closing in (False, True):
        found = boundary(day, wall, tz, closing=closing)
        assert found == transition
        assert found.microsecond == 0
        # The transition is the first instant with the new offset.
        assert offset_at(found, tz) != offset_at(found - timedelta(seconds=1), tz)


# --- offsets and transitions ------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "instant", "offset"),
    [
        (LONDON, utc(2026, 1, 5, 12), timedelta(0)),
        (LONDON, utc(2026, 7, 6, 12), timedelta(hours=1)),
        (NEW_YORK, utc(2026, 1, 5, 12), timedelta(hours=-5)),
        (NEW_YORK, utc(2026, 7, 6, 12), timedelta(hours=-4)),
        (KOLKATA, utc(2026, 7, 6, 12), timedelta(hours=5, minutes=30)),
        (LORD_HOWE, utc(2026, 7, 6, 12), timedelta(hours=10, minutes=30)),
        (LORD_HOWE, utc(2026, 1, 5, 12), timedelta(hours=11)),
    ],
)
def test_offset_at(tz, instant, offset):
    assert offset_at(instant, tz) == offset


@pytest.mark.parametrize(
    ("tz", "transition"),
    [
        (LONDON, utc(2026, 3, 29, 1, 0)),
        (LONDON, utc(2026, 10, 25, 1, 0)),
        (NEW_YORK, utc(2026, 3, 8, 7, 0)),
        (NEW_YORK, utc(2026, 11, 1, 6, 0)),
        (LORD_HOWE, utc(2026, 4, 4, 15, 0)),
        (LORD_HOWE, utc(2026, 10, 3, 15, 30)),
    ],
)
def test_transitions_between_finds_the_2026_transitions(tz, transition):
    start = transition - timedelta(hours=20, minutes=7, seconds=3)
    end = transition + timedelta(hours=3, microseconds=17)
    assert transitions_between(start, end, tz) == [transition]
    # The span is open at the start: a transition exactly there is not reported.
    assert transitions_between(transition, end, tz) == []
    # ... and closed at the end.
    assert transitions_between(start, transition, tz) == [transition]
    assert transitions_between(start, transition - timedelta(seconds=1), tz) == []


def test_no_transitions_in_a_quiet_span_or_in_kolkata():
    assert transitions_between(utc(2026, 7, 6), utc(2026, 7, 7, 23), LONDON) == []
    assert transitions_between(utc(2026, 3, 28), utc(2026, 3, 30), KOLKATA) == []


def test_transitions_between_refuses_long_spans():
    with pytest.raises(ValueError, match="too long"):
        transitions_between(utc(2026, 3, 1), utc(2026, 3, 3, 0, 0, 1), LONDON)


@pytest.mark.parametrize(
    ("tz", "instant", "day"),
    [
        (LONDON, utc(2026, 7, 6, 23, 30), date(2026, 7, 7)),
        (LONDON, utc(2026, 1, 6, 23, 30), date(2026, 1, 6)),
        (NEW_YORK, utc(2026, 7, 7, 3, 59), date(2026, 7, 6)),
        (NEW_YORK, utc(2026, 7, 7, 4, 0), date(2026, 7, 7)),
        (KOLKATA, utc(2026, 7, 6, 18, 29), date(2026, 7, 6)),
        (KOLKATA, utc(2026, 7, 6, 18, 30), date(2026, 7, 7)),
        (LORD_HOWE, utc(2026, 7, 6, 13, 30), date(2026, 7, 7)),
        (LORD_HOWE, utc(2026, 7, 6, 13, 29), date(2026, 7, 6)),
    ],
)
def test_local_date(tz, instant, day):
    assert local_date(instant, tz) == day

"""The plain values the engine works on, and the checks they make on themselves."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from scheduling import DateOverride, Interval, ServiceRules, WeeklyRule


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def span(start_hour: int, end_hour: int) -> Interval:
    return Interval(utc(2026, 1, 5, start_hour), utc(2026, 1, 5, end_hour))


@pytest.mark.parametrize(("start", "end"), [(10, 10), (11, 10)])
def test_interval_must_not_be_empty(start, end):
    with pytest.raises(ValueError, match="empty or negative"):
        span(start, end)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((9, 10), (10, 11), False),  # touching is not overlapping: half-open
        ((10, 11), (9, 10), False),
        ((9, 11), (10, 12), True),
        ((10, 12), (9, 11), True),
        ((9, 12), (10, 11), True),
        ((10, 11), (9, 12), True),
        ((9, 10), (11, 12), False),
        ((9, 10), (9, 10), True),
    ],
)
def test_interval_overlaps(a, b, expected):
    assert span(*a).overlaps(span(*b)) is expected
    assert span(*b).overlaps(span(*a)) is expected


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ((9, 17), (9, 17), True),
        ((9, 17), (9, 10), True),
        ((9, 17), (16, 17), True),
        ((9, 17), (8, 10), False),
        ((9, 17), (16, 18), False),
        ((10, 11), (9, 12), False),
    ],
)
def test_interval_contains(outer, inner, expected):
    assert span(*outer).contains(span(*inner)) is expected


def test_intervals_sort_by_start_then_end():
    assert sorted([span(10, 12), span(9, 12), span(9, 10)]) == [
        span(9, 10),
        span(9, 12),
        span(10, 12),
    ]


@pytest.mark.parametrize("weekday", [-1, 7])
def test_weekly_rule_weekday_range(weekday):
    with pytest.raises(ValueError, match="weekday"):
        WeeklyRule(weekday, time(9), time(17))


@pytest.mark.parametrize("end", [time(9), time(8, 59)])
def test_weekly_rule_must_end_after_it_starts(end):
    with pytest.raises(ValueError, match="ends before"):
        WeeklyRule(0, time(9), end)


def test_weekly_rule_accepts_whole_week():
    assert [WeeklyRule(d, time(0), time(23, 59)).weekday for d in range(7)] == list(range(7))


def test_date_override_without_hours_is_closed():
    assert DateOverride(date(2026, 12, 25)).closed is True
    assert DateOverride(date(2026, 12, 24), ((time(9), time(12)),)).closed is False


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(minutes=-5)])
def test_service_duration_must_be_positive(duration):
    with pytest.raises(ValueError, match="duration"):
        ServiceRules(duration=duration)


@pytest.mark.parametrize(
    "step", [timedelta(0), timedelta(minutes=-15), timedelta(minutes=7), timedelta(hours=5)]
)
def test_service_step_must_divide_a_day(step):
    with pytest.raises(ValueError, match="step"):
        ServiceRules(duration=timedelta(minutes=30), step=step)


@pytest.mark.parametrize("minutes", [5, 10, 15, 20, 30, 60, 90, 120, 1440])
def test_service_step_accepts_divisors_of_a_day(minutes):
    assert ServiceRules(duration=timedelta(minutes=30), step=timedelta(minutes=minutes))


def test_service_defaults():
    rules = ServiceRules(duration=timedelta(minutes=45))
    assert rules.step == timedelta(minutes=15)
    assert rules.buffer_before == rules.buffer_after == rules.min_notice == timedelta(0)
    assert rules.max_days_ahead == 365


def test_service_block_includes_both_buffers():
    rules = ServiceRules(
        duration=timedelta(minutes=45),
        buffer_before=timedelta(minutes=10),
        buffer_after=timedelta(minutes=15),
    )
    assert rules.block(utc(2026, 1, 5, 9)) == Interval(
        utc(2026, 1, 5, 8, 50), utc(2026, 1, 5, 10, 0)
    )

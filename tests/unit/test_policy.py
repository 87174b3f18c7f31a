"""When a customer may still cancel or move a booking."""

from datetime import UTC, datetime, timedelta

import pytest

from scheduling import change_deadline, customer_may_change

START = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def test_deadline_is_start_minus_window():
    assert change_deadline(START, DAY) == datetime(2026, 7, 5, 9, 0, tzinfo=UTC)
    assert change_deadline(START, timedelta(minutes=90)) == datetime(2026, 7, 6, 7, 30, tzinfo=UTC)


def test_zero_window_deadline_is_the_start():
    assert change_deadline(START, timedelta(0)) == START


def test_deadline_is_measured_in_real_time_across_dst():
    # 24 hours before 09:00 BST on the Monday after spring forward is 08:00 GMT on Sunday
    # (i.e. 09:00 local on Saturday would be wrong).
    start = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert change_deadline(start, DAY) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), True),
        (datetime(2026, 7, 5, 8, 59, 59, 999999, tzinfo=UTC), True),
        (datetime(2026, 7, 5, 9, 0, tzinfo=UTC), False),  # exactly at the deadline: too late
        (datetime(2026, 7, 5, 9, 0, 0, 1, tzinfo=UTC), False),
        (datetime(2026, 7, 6, 9, 0, tzinfo=UTC), False),
        (datetime(2026, 7, 7, 9, 0, tzinfo=UTC), False),
    ],
)
def test_customer_may_change_only_before_the_deadline(now, allowed):
    assert customer_may_change(START, DAY, now) is allowed


def test_customer_may_change_compares_instants_not_wall_clocks():
    # 11:00 in Kolkata is 05:30Z, well before a 09:00Z deadline, although 11 > 9.
    from zoneinfo import ZoneInfo

    now = datetime(2026, 7, 5, 11, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert customer_may_change(START, DAY, now) is True
    now = datetime(2026, 7, 5, 15, 0, tzinfo=ZoneInfo("Asia/Kolkata"))  # 09:30Z
    assert customer_may_change(START, DAY, now) is False


def test_zero_window_allows_change_until_the_start():
    assert customer_may_change(START, timedelta(0), START - timedelta(microseconds=1)) is True
    assert customer_may_change(START, timedelta(0), START) is False

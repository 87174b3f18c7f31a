"""Slot generation on ordinary days: rules, overrides, busy time, notice, buffers, grid."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from scheduling import (
    DateOverride,
    Interval,
    ProviderCalendar,
    ServiceRules,
    Slot,
    WeeklyRule,
    available_slots,
    available_slots_any,
    working_intervals,
)

LONDON = ZoneInfo("Europe/London")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WINTER_MONDAY = date(2026, 1, 5)
SUMMER_MONDAY = date(2026, 7, 6)
LONG_AGO = datetime(2025, 12, 1, tzinfo=UTC)

MINUTES = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rule(weekday: int, start: str, end: str) -> WeeklyRule:
    return WeeklyRule(weekday, time.fromisoformat(start), time.fromisoformat(end))


def calendar(*rules: WeeklyRule, overrides=(), busy=(), provider_id: int = 1) -> ProviderCalendar:
    return ProviderCalendar(provider_id, tuple(rules), tuple(overrides), tuple(busy))


def service(minutes: int, step: int = 15, **kwargs) -> ServiceRules:
    return ServiceRules(duration=timedelta(minutes=minutes), step=timedelta(minutes=step), **kwargs)


def slots_on(cal, svc, day, tz=LONDON, now=LONG_AGO, last_day=None):
    return available_slots(cal, svc, tz, day, last_day or day, now)


def wall(slots, tz=LONDON) -> list[str]:
    """Local wall-clock start times, for readable expectations."""
    return [s.start.astimezone(tz).strftime("%H:%M") for s in slots]


def hhmm_range(first: str, last: str, step_minutes: int) -> list[str]:
    t = datetime.combine(WINTER_MONDAY, time.fromisoformat(first))
    end = datetime.combine(WINTER_MONDAY, time.fromisoformat(last))
    out = []
    while t <= end:
        out.append(t.strftime("%H:%M"))
        t += timedelta(minutes=step_minutes)
    return out


# --- ordinary working days ---------------------------------------------------


def test_london_winter_monday_nine_to_five_is_nine_to_five_utc():
    slots = slots_on(calendar(rule(MON, "09:00", "17:00")), service(60, step=60), WINTER_MONDAY)
    assert slots == [
        Slot(utc(2026, 1, 5, h), utc(2026, 1, 5, h + 1), provider_id=1) for h in range(9, 17)
    ]


def test_london_summer_monday_nine_to_five_is_eight_to_four_utc():
    slots = slots_on(calendar(rule(MON, "09:00", "17:00")), service(60, step=60), SUMMER_MONDAY)
    assert [s.start for s in slots] == [utc(2026, 7, 6, h) for h in range(8, 16)]
    assert all(s.end - s.start == HOUR for s in slots)
    assert wall(slots) == hhmm_range("09:00", "16:00", 60)


def test_default_step_is_fifteen_minutes():
    cal = calendar(rule(MON, "09:00", "17:00"))
    slots = slots_on(cal, ServiceRules(duration=timedelta(minutes=30)), WINTER_MONDAY)
    assert wall(slots) == hhmm_range("09:00", "16:30", 15)
    assert len(slots) == 31


def test_slots_are_utc_and_carry_the_provider():
    cal = calendar(rule(MON, "09:00", "10:00"), provider_id=42)
    slots = slots_on(cal, service(30), WINTER_MONDAY, tz=KOLKATA)
    assert slots
    for slot in slots:
        assert slot.provider_id == 42
        assert slot.start.utcoffset() == timedelta(0)
        assert slot.end.utcoffset() == timedelta(0)


def test_day_without_rules_has_no_slots():
    cal = calendar(rule(MON, "09:00", "17:00"))
    assert slots_on(cal, service(30), date(2026, 1, 6)) == []


def test_service_longer_than_working_hours_has_no_slots():
    cal = calendar(rule(MON, "09:00", "10:00"))
    assert slots_on(cal, service(61), WINTER_MONDAY) == []
    assert wall(slots_on(cal, service(60), WINTER_MONDAY)) == ["09:00"]


def test_adjacent_rules_merge_so_a_service_can_span_them():
    cal = calendar(rule(MON, "09:00", "13:00"), rule(MON, "13:00", "17:00"))
    slots = slots_on(cal, service(60, step=30), WINTER_MONDAY)
    assert "12:30" in wall(slots)
    assert wall(slots) == hhmm_range("09:00", "16:00", 30)
    assert working_intervals(cal.rules, (), WINTER_MONDAY, WINTER_MONDAY, LONDON) == [
        Interval(utc(2026, 1, 5, 9), utc(2026, 1, 5, 17))
    ]


def test_lunch_gap_is_not_bridged():
    cal = calendar(rule(MON, "09:00", "13:00"), rule(MON, "14:00", "17:00"))
    slots = slots_on(cal, service(60, step=30), WINTER_MONDAY)
    assert wall(slots) == [*hhmm_range("09:00", "12:00", 30), *hhmm_range("14:00", "16:00", 30)]
    assert "12:30" not in wall(slots)
    assert "13:00" not in wall(slots)
    assert "13:30" not in wall(slots)


def test_overlapping_rules_merge():
    cal = calendar(rule(MON, "11:00", "15:00"), rule(MON, "09:00", "12:00"))
    assert working_intervals(cal.rules, (), WINTER_MONDAY, WINTER_MONDAY, LONDON) == [
        Interval(utc(2026, 1, 5, 9), utc(2026, 1, 5, 15))
    ]
    assert wall(slots_on(cal, service(120, step=60), WINTER_MONDAY)) == hhmm_range(
        "09:00", "13:00", 60
    )


# --- overrides ---------------------------------------------------------------


def test_override_without_hours_closes_the_day():
    cal = calendar(
        rule(MON, "09:00", "17:00"),
        overrides=[DateOverride(WINTER_MONDAY)],
    )
    assert slots_on(cal, service(30), WINTER_MONDAY) == []
    # The next Monday is unaffected.
    next_monday = WINTER_MONDAY + timedelta(days=7)
    assert len(slots_on(cal, service(30), next_monday)) == 31


def test_override_with_hours_replaces_the_weekly_rules():
    cal = calendar(
        rule(MON, "09:00", "17:00"),
        overrides=[DateOverride(WINTER_MONDAY, ((time(10), time(12)), (time(15), time(16))))],
    )
    slots = slots_on(cal, service(60, step=30), WINTER_MONDAY)
    assert wall(slots) == ["10:00", "10:30", "11:00", "15:00"]


def test_override_can_open_a_day_without_weekly_rules():
    sunday = date(2026, 1, 11)
    cal = calendar(
        rule(MON, "09:00", "17:00"),
        overrides=[DateOverride(sunday, ((time(10), time(12)),))],
    )
    slots = slots_on(cal, service(60, step=60), sunday)
    assert [s.start for s in slots] == [utc(2026, 1, 11, 10), utc(2026, 1, 11, 11)]


def test_override_hours_are_local_time_too():
    cal = calendar(overrides=[DateOverride(SUMMER_MONDAY, ((time(9), time(11)),))])
    slots = slots_on(cal, service(60, step=60), SUMMER_MONDAY)
    assert [s.start for s in slots] == [utc(2026, 7, 6, 8), utc(2026, 7, 6, 9)]


def test_override_applies_only_to_its_date_in_a_range():
    cal = calendar(
        *(rule(d, "09:00", "10:00") for d in range(7)),
        overrides=[
            DateOverride(date(2026, 1, 6)),
            DateOverride(date(2026, 1, 7), ((time(14), time(15)),)),
        ],
    )
    slots = slots_on(cal, service(60, step=60), WINTER_MONDAY, last_day=date(2026, 1, 8))
    assert [s.start for s in slots] == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 7, 14),
        utc(2026, 1, 8, 9),
    ]


# --- busy time ---------------------------------------------------------------


def test_busy_interval_removes_overlapping_slots_and_touching_is_fine():
    busy = [Interval(utc(2026, 1, 5, 10), utc(2026, 1, 5, 11))]
    cal = calendar(rule(MON, "09:00", "13:00"), busy=busy)
    slots = slots_on(cal, service(60, step=30), WINTER_MONDAY)
    # 09:00 ends exactly when the booking starts; 11:00 starts exactly when it ends.
    assert wall(slots) == ["09:00", "11:00", "11:30", "12:00"]


def test_busy_intervals_in_any_order_and_overlapping_each_other():
    busy = [
        Interval(utc(2026, 1, 5, 15), utc(2026, 1, 5, 16)),
        Interval(utc(2026, 1, 5, 10, 30), utc(2026, 1, 5, 11, 30)),
        Interval(utc(2026, 1, 5, 10), utc(2026, 1, 5, 11)),
        Interval(utc(2026, 1, 5, 11, 15), utc(2026, 1, 5, 11, 45)),
    ]
    cal = calendar(rule(MON, "09:00", "17:00"), busy=busy)
    slots = slots_on(cal, service(30, step=15), WINTER_MONDAY)
    assert wall(slots) == [
        *hhmm_range("09:00", "09:30", 15),
        *hhmm_range("11:45", "14:30", 15),
        *hhmm_range("16:00", "16:30", 15),
    ]


def test_busy_interval_nested_inside_a_longer_one_does_not_hide_it():
    # The short booking starts later but ends sooner; 11:00 is still inside the long one.
    busy = [
        Interval(utc(2026, 1, 5, 10, 15), utc(2026, 1, 5, 10, 30)),
        Interval(utc(2026, 1, 5, 10), utc(2026, 1, 5, 12)),
    ]
    cal = calendar(rule(MON, "09:00", "14:00"), busy=busy)
    assert wall(slots_on(cal, service(60, step=60), WINTER_MONDAY)) == ["09:00", "12:00", "13:00"]


def test_busy_instant_inside_a_slot_blocks_it():
    busy = [Interval(utc(2026, 1, 5, 9, 59), utc(2026, 1, 5, 10, 1))]
    cal = calendar(rule(MON, "09:00", "12:00"), busy=busy)
    assert wall(slots_on(cal, service(60, step=60), WINTER_MONDAY)) == ["11:00"]


def test_busy_all_day_leaves_nothing():
    busy = [Interval(utc(2026, 1, 4), utc(2026, 1, 7))]
    cal = calendar(rule(MON, "09:00", "17:00"), busy=busy)
    assert slots_on(cal, service(15), WINTER_MONDAY) == []


def test_busy_given_in_another_zone_is_compared_as_instants():
    # 11:00 in Kolkata is 05:30Z, so a booking there leaves London morning hours free;
    # 15:30–16:30 in Kolkata is 10:00–11:00Z.
    busy = [
        Interval(
            datetime(2026, 1, 5, 15, 30, tzinfo=KOLKATA),
            datetime(2026, 1, 5, 16, 30, tzinfo=KOLKATA),
        )
    ]
    cal = calendar(rule(MON, "09:00", "12:00"), busy=busy)
    assert wall(slots_on(cal, service(60, step=60), WINTER_MONDAY)) == ["09:00", "11:00"]


# --- buffers -----------------------------------------------------------------


def test_buffers_must_fit_inside_working_hours():
    svc = service(
        30, step=15, buffer_before=timedelta(minutes=15), buffer_after=timedelta(minutes=10)
    )
    slots = slots_on(calendar(rule(MON, "09:00", "12:00")), svc, WINTER_MONDAY)
    # First block 09:00–09:55 starts at 09:15; last block must end by 12:00, so start <= 11:20.
    assert wall(slots) == hhmm_range("09:15", "11:15", 15)
    # The slot itself is the service time, without the buffers.
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)


def test_buffers_must_not_overlap_busy_time():
    svc = service(
        30, step=15, buffer_before=timedelta(minutes=15), buffer_after=timedelta(minutes=10)
    )
    busy = [Interval(utc(2026, 1, 5, 10), utc(2026, 1, 5, 10, 30))]
    slots = slots_on(calendar(rule(MON, "09:00", "12:00"), busy=busy), svc, WINTER_MONDAY)
    # 09:15 blocks 09:00–09:55; 09:30 would block until 10:10. 10:45 blocks from 10:30: touching.
    assert wall(slots) == ["09:15", *hhmm_range("10:45", "11:15", 15)]


def test_buffer_after_alone():
    svc = service(60, step=60, buffer_after=timedelta(minutes=30))
    busy = [Interval(utc(2026, 1, 5, 12), utc(2026, 1, 5, 13))]
    slots = slots_on(calendar(rule(MON, "09:00", "17:00"), busy=busy), svc, WINTER_MONDAY)
    # 11:00 would need 11:00–12:30; 16:00 would need 16:00–17:30.
    assert wall(slots) == ["09:00", "10:00", "13:00", "14:00", "15:00"]


def test_buffer_before_alone():
    svc = service(60, step=60, buffer_before=timedelta(minutes=30))
    busy = [Interval(utc(2026, 1, 5, 12), utc(2026, 1, 5, 13))]
    slots = slots_on(calendar(rule(MON, "09:00", "17:00"), busy=busy), svc, WINTER_MONDAY)
    # 09:00 would need 08:30; 13:00 would need 12:30.
    assert wall(slots) == ["10:00", "11:00", "14:00", "15:00", "16:00"]


# --- minimum notice and booking horizon --------------------------------------


def test_min_notice_rounds_up_to_the_grid():
    now = utc(2026, 1, 5, 10, 7)
    svc = service(30, step=15, min_notice=timedelta(hours=2))
    slots = slots_on(calendar(rule(MON, "09:00", "17:00")), svc, WINTER_MONDAY, now=now)
    assert wall(slots) == hhmm_range("12:15", "16:30", 15)


def test_min_notice_boundary_is_inclusive():
    now = utc(2026, 1, 5, 10, 0)
    svc = service(60, step=60, min_notice=timedelta(hours=2))
    slots = slots_on(calendar(rule(MON, "09:00", "17:00")), svc, WINTER_MONDAY, now=now)
    assert wall(slots) == hhmm_range("12:00", "16:00", 60)
    just_after = now + timedelta(microseconds=1)
    slots = slots_on(calendar(rule(MON, "09:00", "17:00")), svc, WINTER_MONDAY, now=just_after)
    assert wall(slots) == hhmm_range("13:00", "16:00", 60)


def test_zero_notice_still_hides_the_past():
    now = utc(2026, 1, 5, 13, 20)
    slots = slots_on(calendar(rule(MON, "09:00", "17:00")), service(60), WINTER_MONDAY, now=now)
    assert wall(slots) == hhmm_range("13:30", "16:00", 15)


def test_min_notice_reaching_into_the_next_day():
    now = utc(2026, 1, 5, 16, 0)
    svc = service(60, step=60, min_notice=timedelta(hours=18))
    cal = calendar(rule(MON, "09:00", "17:00"), rule(TUE, "09:00", "17:00"))
    slots = slots_on(cal, svc, WINTER_MONDAY, now=now, last_day=date(2026, 1, 6))
    assert [s.start for s in slots] == [utc(2026, 1, 6, h) for h in range(10, 17)]


def test_whole_range_in_the_past_has_no_slots():
    cal = calendar(rule(MON, "09:00", "17:00"))
    assert slots_on(cal, service(30), WINTER_MONDAY, now=utc(2026, 1, 6)) == []


def test_max_days_ahead_limits_the_last_local_day():
    everyday = [rule(d, "09:00", "10:00") for d in range(7)]
    now = utc(2026, 1, 5, 12)  # Monday afternoon, after hours
    svc = service(60, step=60, max_days_ahead=2)
    slots = available_slots(calendar(*everyday), svc, LONDON, WINTER_MONDAY, date(2026, 1, 31), now)
    assert [s.start for s in slots] == [utc(2026, 1, 6, 9), utc(2026, 1, 7, 9)]


def test_max_days_ahead_zero_means_today_only():
    everyday = [rule(d, "09:00", "17:00") for d in range(7)]
    now = utc(2026, 1, 5, 15, 30)
    svc = service(60, step=60, max_days_ahead=0)
    slots = available_slots(calendar(*everyday), svc, LONDON, WINTER_MONDAY, date(2026, 1, 9), now)
    assert [s.start for s in slots] == [utc(2026, 1, 5, 16)]


def test_max_days_ahead_counts_from_the_local_date_of_now():
    # 20:00Z on Monday is already 01:30 on Tuesday in Kolkata, so "one day ahead" is Wednesday.
    everyday = [rule(d, "09:00", "10:00") for d in range(7)]
    now = utc(2026, 1, 5, 20)
    svc = service(60, step=60, max_days_ahead=1)
    slots = available_slots(calendar(*everyday), svc, KOLKATA, WINTER_MONDAY, date(2026, 1, 9), now)
    assert [s.start for s in slots] == [utc(2026, 1, 6, 3, 30), utc(2026, 1, 7, 3, 30)]
    # In London it is still Monday, so the horizon ends on Tuesday.
    slots = available_slots(calendar(*everyday), svc, LONDON, WINTER_MONDAY, date(2026, 1, 9), now)
    assert [s.start for s in slots] == [utc(2026, 1, 6, 9)]


def test_range_ending_before_it_starts_is_empty():
    cal = calendar(rule(MON, "09:00", "17:00"))
    assert (
        available_slots(cal, service(30), LONDON, WINTER_MONDAY, date(2026, 1, 4), LONG_AGO) == []
    )
    assert working_intervals(cal.rules, (), WINTER_MONDAY, date(2026, 1, 4), LONDON) == []


# --- the local grid ----------------------------------------------------------


def test_off_grid_opening_starts_at_the_next_grid_time():
    slots = slots_on(calendar(rule(MON, "09:10", "10:30")), service(30), WINTER_MONDAY)
    assert wall(slots) == ["09:15", "09:30", "09:45", "10:00"]


def test_off_grid_closing_is_respected():
    slots = slots_on(calendar(rule(MON, "09:00", "10:50")), service(30, step=30), WINTER_MONDAY)
    assert wall(slots) == ["09:00", "09:30", "10:00"]


def test_grid_is_local_in_a_half_hour_zone():
    slots = slots_on(
        calendar(rule(MON, "09:00", "12:00")), service(60, step=60), WINTER_MONDAY, tz=KOLKATA
    )
    assert [s.start for s in slots] == [
        utc(2026, 1, 5, 3, 30),
        utc(2026, 1, 5, 4, 30),
        utc(2026, 1, 5, 5, 30),
    ]
    assert wall(slots, KOLKATA) == ["09:00", "10:00", "11:00"]


def test_off_grid_opening_in_a_half_hour_zone():
    slots = slots_on(
        calendar(rule(MON, "09:10", "12:00")), service(60, step=60), WINTER_MONDAY, tz=KOLKATA
    )
    assert wall(slots, KOLKATA) == ["10:00", "11:00"]


def test_grid_is_local_on_lord_howe():
    # Lord Howe is +10:30 in July: local 09:00 is 22:30Z the day before.
    slots = slots_on(
        calendar(rule(MON, "09:00", "11:00")), service(60, step=60), SUMMER_MONDAY, tz=LORD_HOWE
    )
    assert [s.start for s in slots] == [utc(2026, 7, 5, 22, 30), utc(2026, 7, 5, 23, 30)]
    # ... and +11:00 in January.
    slots = slots_on(
        calendar(rule(MON, "09:00", "11:00")), service(60, step=60), WINTER_MONDAY, tz=LORD_HOWE
    )
    assert [s.start for s in slots] == [utc(2026, 1, 4, 22), utc(2026, 1, 4, 23)]


@pytest.mark.parametrize(("step", "expected"), [(5, 19), (10, 10), (20, 5), (30, 4), (60, 2)])
def test_step_sizes(step, expected):
    slots = slots_on(calendar(rule(MON, "09:00", "11:00")), service(30, step=step), WINTER_MONDAY)
    assert len(slots) == expected
    assert slots[0].start == utc(2026, 1, 5, 9)
    assert all(b.start - a.start == timedelta(minutes=step) for a, b in pairwise(slots))


def test_now_off_grid_with_seconds():
    now = utc(2026, 1, 5, 9, 0, 0) + timedelta(microseconds=1)
    slots = slots_on(calendar(rule(MON, "09:00", "10:00")), service(15), WINTER_MONDAY, now=now)
    assert wall(slots) == ["09:15", "09:30", "09:45"]


# --- multi-day ranges --------------------------------------------------------


def test_two_working_weeks():
    weekdays = [rule(d, "09:00", "17:00") for d in (MON, TUE, WED, THU, FRI)]
    slots = available_slots(
        calendar(*weekdays),
        service(60, step=60),
        LONDON,
        WINTER_MONDAY,
        date(2026, 1, 18),
        LONG_AGO,
    )
    assert len(slots) == 10 * 8
    assert slots == sorted(slots)
    days = sorted({s.start.date() for s in slots})
    assert days == [date(2026, 1, d) for d in (5, 6, 7, 8, 9, 12, 13, 14, 15, 16)]
    assert slots[0].start == utc(2026, 1, 5, 9)
    assert slots[-1].start == utc(2026, 1, 16, 16)


def test_range_spanning_the_spring_clock_change_in_london():
    weekdays = [rule(d, "09:00", "10:00") for d in range(7)]
    slots = available_slots(
        calendar(*weekdays),
        service(60, step=60),
        LONDON,
        date(2026, 3, 27),
        date(2026, 3, 31),
        LONG_AGO,
    )
    assert [s.start for s in slots] == [
        utc(2026, 3, 27, 9),
        utc(2026, 3, 28, 9),
        utc(2026, 3, 29, 8),
        utc(2026, 3, 30, 8),
        utc(2026, 3, 31, 8),
    ]


def test_working_intervals_over_a_week():
    cal = calendar(
        rule(MON, "09:00", "12:00"), rule(MON, "13:00", "17:00"), rule(WED, "10:00", "11:00")
    )
    intervals = working_intervals(
        cal.rules,
        [DateOverride(date(2026, 1, 6), ((time(8), time(9)),))],
        WINTER_MONDAY,
        date(2026, 1, 11),
        LONDON,
    )
    assert intervals == [
        Interval(utc(2026, 1, 5, 9), utc(2026, 1, 5, 12)),
        Interval(utc(2026, 1, 5, 13), utc(2026, 1, 5, 17)),
        Interval(utc(2026, 1, 6, 8), utc(2026, 1, 6, 9)),
        Interval(utc(2026, 1, 7, 10), utc(2026, 1, 7, 11)),
    ]


def test_slots_around_local_midnight_stay_on_their_local_day():
    # Kolkata 00:00–02:00 on Tuesday is Monday 18:30–20:30Z.
    cal = calendar(rule(TUE, "00:00", "02:00"))
    slots = slots_on(cal, service(60, step=60), date(2026, 1, 6), tz=KOLKATA)
    assert [s.start for s in slots] == [utc(2026, 1, 5, 18, 30), utc(2026, 1, 5, 19, 30)]
    assert slots_on(cal, service(60, step=60), WINTER_MONDAY, tz=KOLKATA) == []


# --- sub-second edges (regression) -------------------------------------------


def test_rule_ending_at_time_max_does_not_overrun_the_day():
    # Working hours end 1 µs before midnight, so a slot ending at midnight does not fit.
    cal = calendar(WeeklyRule(MON, time(22), time.max))
    slots = slots_on(cal, service(60, step=60), WINTER_MONDAY)
    assert wall(slots) == ["22:00"]
    (work,) = working_intervals(cal.rules, (), WINTER_MONDAY, WINTER_MONDAY, LONDON)
    assert all(work.contains(Interval(s.start, s.end)) for s in slots)


def test_duration_with_a_microsecond_over_does_not_fit_the_last_grid_time():
    svc = ServiceRules(duration=timedelta(minutes=30, microseconds=1), step=timedelta(minutes=30))
    slots = slots_on(calendar(rule(MON, "09:00", "10:00")), svc, WINTER_MONDAY)
    assert wall(slots) == ["09:00"]


# --- several providers -------------------------------------------------------


def test_any_provider_assigns_each_start_to_the_first_free_one():
    first = calendar(
        rule(MON, "09:00", "12:00"),
        busy=[Interval(utc(2026, 1, 5, 10), utc(2026, 1, 5, 11))],
        provider_id=1,
    )
    second = calendar(rule(MON, "10:00", "13:00"), provider_id=2)
    slots = available_slots_any(
        [first, second], service(60, step=60), LONDON, WINTER_MONDAY, WINTER_MONDAY, LONG_AGO
    )
    assert [(s.start.hour, s.provider_id) for s in slots] == [(9, 1), (10, 2), (11, 1), (12, 2)]


def test_any_provider_order_decides_who_gets_shared_starts():
    first = calendar(rule(MON, "09:00", "11:00"), provider_id=1)
    second = calendar(rule(MON, "09:00", "11:00"), provider_id=2)
    svc = service(60, step=60)
    one_two = available_slots_any(
        [first, second], svc, LONDON, WINTER_MONDAY, WINTER_MONDAY, LONG_AGO
    )
    two_one = available_slots_any(
        [second, first], svc, LONDON, WINTER_MONDAY, WINTER_MONDAY, LONG_AGO
    )
    assert [s.provider_id for s in one_two] == [1, 1]
    assert [s.provider_id for s in two_one] == [2, 2]
    assert (
        [s.start for s in one_two]
        == [s.start for s in two_one]
        == [utc(2026, 1, 5, 9), utc(2026, 1, 5, 10)]
    )


def test_any_provider_is_sorted_and_unique_across_offset_grids():
    # Provider 2 starts off-grid for 60 minutes but on the 30-minute grid.
    first = calendar(rule(MON, "09:00", "12:00"), provider_id=1)
    second = calendar(rule(MON, "09:30", "13:30"), provider_id=2)
    slots = available_slots_any(
        [first, second], service(60, step=30), LONDON, WINTER_MONDAY, WINTER_MONDAY, LONG_AGO
    )
    starts = [s.start for s in slots]
    assert starts == sorted(set(starts))
    assert wall(slots) == hhmm_range("09:00", "12:30", 30)
    assert [s.provider_id for s in slots] == [1, 1, 1, 1, 1, 2, 2, 2]


def test_any_provider_with_no_calendars_is_empty():
    assert (
        available_slots_any([], service(30), LONDON, WINTER_MONDAY, WINTER_MONDAY, LONG_AGO) == []
    )


def test_any_provider_with_everyone_busy_is_empty():
    busy = [Interval(utc(2026, 1, 5), utc(2026, 1, 6))]
    cals = [calendar(rule(MON, "09:00", "17:00"), busy=busy, provider_id=p) for p in (1, 2, 3)]
    assert (
        available_slots_any(cals, service(30), LONDON, WINTER_MONDAY, WINTER_MONDAY, LONG_AGO) == []
    )

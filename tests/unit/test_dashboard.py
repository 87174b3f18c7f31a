"""The dashboard's arithmetic: utilisation (across DST changes too), revenue, no-shows,
and the chart's scale."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from scheduling import DateOverride, Interval, ProviderCalendar, WeeklyRule
from services.workspace.dashboard import (
    DayFigures,
    Totals,
    bar_chart,
    day_loads,
    local_day_span,
    monday_of,
    no_show_rate,
    subtract,
    tick_step,
    utilisation,
)

LONDON = ZoneInfo("Europe/London")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekdays(start: time, end: time, days=range(5)) -> tuple[WeeklyRule, ...]:
    return tuple(WeeklyRule(d, start, end) for d in days)


def test_monday_of():
    assert monday_of(date(2026, 11, 25)) == date(2026, 11, 23)
    assert monday_of(date(2026, 11, 23)) == date(2026, 11, 23)
    assert monday_of(date(2026, 11, 29)) == date(2026, 11, 23)


def test_utilisation_is_a_share_or_nothing():
    assert utilisation(30, 120) == 0.25
    assert utilisation(0, 120) == 0.0
    assert utilisation(0, 0) is None  # no working time: no figure, not 0 %
    assert utilisation(90, 60) == 1.0  # never over 100 %


def test_no_show_rate_counts_only_appointments_with_an_outcome():
    assert no_show_rate(completed=3, no_shows=1) == 0.25
    assert no_show_rate(completed=0, no_shows=2) == 1.0
    assert no_show_rate(completed=5, no_shows=0) == 0.0
    assert no_show_rate(completed=0, no_shows=0) is None


def test_totals_leave_cancelled_bookings_out_of_count_and_revenue():
    totals = Totals.from_statuses(
        [
            ("confirmed", 2, 9000),
            ("cancelled", 5, 99999),
            ("completed", 1, Decimal(4500)),  # PostgreSQL sums come back as Decimal
            ("no_show", 1, 5500),
        ]
    )
    assert totals == Totals(bookings=4, revenue_cents=19000, completed=1, no_shows=1)
    assert Totals.from_statuses([("confirmed", 1, None)]).revenue_cents == 0
    assert Totals.from_statuses([]) == Totals()


def test_subtract_cuts_holes_and_merges_overlapping_ones():
    day = [Interval(utc(2026, 1, 5, 9), utc(2026, 1, 5, 17))]
    holes = [
        Interval(utc(2026, 1, 5, 12), utc(2026, 1, 5, 13)),
        Interval(utc(2026, 1, 5, 12, 30), utc(2026, 1, 5, 14)),
        Interval(utc(2026, 1, 5, 16), utc(2026, 1, 5, 18)),
    ]
    assert subtract(day, holes) == [
        Interval(utc(2026, 1, 5, 9), utc(2026, 1, 5, 12)),
        Interval(utc(2026, 1, 5, 14), utc(2026, 1, 5, 16)),
    ]
    assert subtract(day, []) == day
    assert subtract(day, [Interval(utc(2026, 1, 5, 8), utc(2026, 1, 5, 18))]) == []


def test_booked_time_counts_only_inside_working_time_less_time_off():
    # Mon 5 Jan 2026 (GMT): working 09–17; off 12–13; bookings 08:30–09:30 (half outside),
    # 12:00–12:30 (in the time off), 15:00–16:00, and one on Saturday (no hours).
    cal = ProviderCalendar(
        1,
        weekdays(time(9), time(17)),
        busy=(Interval(utc(2026, 1, 5, 12), utc(2026, 1, 5, 13)),),
    )
    booked = {
        1: [
            Interval(utc(2026, 1, 5, 8, 30), utc(2026, 1, 5, 9, 30)),
            Interval(utc(2026, 1, 5, 12), utc(2026, 1, 5, 12, 30)),
            Interval(utc(2026, 1, 5, 15), utc(2026, 1, 5, 16)),
            Interval(utc(2026, 1, 10, 10), utc(2026, 1, 10, 11)),
        ]
    }
    days = day_loads([cal], booked, date(2026, 1, 5), LONDON)

    assert [d.day for d in days] == [date(2026, 1, 5) + timedelta(days=i) for i in range(7)]
    monday = days[0]
    assert (monday.bookings, monday.booked_minutes, monday.available_minutes) == (3, 90, 420)
    assert monday.utilisation == pytest.approx(90 / 420)
    assert [d.available_minutes for d in days] == [420, 480, 480, 480, 480, 0, 0]
    saturday = days[5]
    assert (saturday.bookings, saturday.booked_minutes, saturday.utilisation) == (1, 0, None)


def test_providers_add_up_and_overlapping_bookings_count_once():
    ana = ProviderCalendar(1, weekdays(time(9), time(13)))
    tom = ProviderCalendar(2, weekdays(time(9), time(17)))
    booked = {
        1: [Interval(utc(2026, 1, 6, 9), utc(2026, 1, 6, 10))],
        # Overlapping (a cancelled booking would be left out before; still, never > 100 %)
        2: [
            Interval(utc(2026, 1, 6, 9), utc(2026, 1, 6, 11)),
            Interval(utc(2026, 1, 6, 10), utc(2026, 1, 6, 12)),
        ],
    }
    tuesday = day_loads([ana, tom], booked, date(2026, 1, 5), LONDON)[1]
    assert (tuesday.bookings, tuesday.booked_minutes, tuesday.available_minutes) == (3, 240, 720)


def test_a_closed_day_override_takes_the_hours_away():
    cal = ProviderCalendar(
        1, weekdays(time(9), time(17)), overrides=(DateOverride(date(2026, 1, 7)),)
    )
    days = day_loads([cal], {}, date(2026, 1, 5), LONDON)
    assert [d.available_minutes for d in days][:5] == [480, 480, 0, 480, 480]


@pytest.mark.parametrize(
    ("zone", "monday", "sunday_hours", "sunday_span_hours"),
    [
        ("Europe/London", date(2026, 10, 19), 7, 25),  # clocks go back on Sun 25 Oct
        ("Europe/London", date(2026, 3, 23), 5, 23),  # clocks go forward on Sun 29 Mar
        ("America/New_York", date(2026, 10, 26), 7, 25),  # back on Sun 1 Nov
        ("Australia/Lord_Howe", date(2026, 9, 28), 5.5, 23.5),  # forward 30 min on Sun 4 Oct
        ("Asia/Kolkata", date(2026, 10, 19), 6, 24),  # no DST
    ],
)
def test_a_week_across_a_dst_change_counts_real_minutes(
    zone, monday, sunday_hours, sunday_span_hours
):
    # Sunday 00:00–06:00 on the wall clock holds the change (at 01:00 or 02:00).
    tz = ZoneInfo(zone)
    cal = ProviderCalendar(1, (*weekdays(time(9), time(17)), WeeklyRule(6, time(0), time(6))))
    sunday = monday + timedelta(days=6)
    span = local_day_span(sunday, tz)
    assert span.end - span.start == timedelta(hours=sunday_span_hours)
    # Booked the whole of Sunday's working time, and an hour on Monday.
    start, end = (
        datetime.combine(sunday, time(0), tz).astimezone(UTC),
        datetime.combine(sunday, time(6), tz).astimezone(UTC),
    )
    monday_9 = datetime.combine(monday, time(9), tz).astimezone(UTC)
    booked = {1: [Interval(start, end), Interval(monday_9, monday_9 + timedelta(hours=1))]}

    days = day_loads([cal], booked, monday, tz)

    assert days[6].available_minutes == sunday_hours * 60
    assert days[6].booked_minutes == sunday_hours * 60
    assert days[6].utilisation == 1.0
    assert days[0].available_minutes == 480
    assert days[0].booked_minutes == 60
    week_available = sum(d.available_minutes for d in days)
    assert week_available == 5 * 480 + sunday_hours * 60


def test_tick_steps_are_round_and_few():
    assert [tick_step(n) for n in (0, 1, 4, 5, 8, 9, 20, 21, 40, 41, 100, 201)] == [
        1,
        1,
        1,
        2,
        2,
        5,
        5,
        10,
        10,
        20,
        50,
        100,
    ]


def test_bar_chart_scales_bars_to_the_busiest_day():
    first = date(2026, 11, 30)
    counts = [4, 0, 7, 1, 0, 0, 2]
    days = [DayFigures(first + timedelta(days=i), n, 0, 0) for i, n in enumerate(counts)]
    chart = bar_chart(days, width=640, height=220)

    assert [b.value for b in chart.bars] == counts
    assert [v for v, _ in chart.ticks] == [0, 2, 4, 6, 8]  # 7 rounds up to 8
    top = chart.ticks[-1][1]
    full = chart.baseline - top
    for bar in chart.bars:
        assert bar.height == pytest.approx(full * bar.value / 8, abs=0.1)
        assert bar.y + bar.height == pytest.approx(chart.baseline, abs=0.1)
    xs = [b.x for b in chart.bars]
    assert xs == sorted(xs)
    assert xs[0] >= chart.left
    assert xs[-1] + chart.bars[-1].width <= chart.width


def test_an_empty_week_still_has_an_axis():
    days = [DayFigures(date(2026, 11, 30) + timedelta(days=i), 0, 0, 0) for i in range(7)]
    chart = bar_chart(days)
    assert [v for v, _ in chart.ticks] == [0, 1]
    assert all(b.height == 0 for b in chart.bars)

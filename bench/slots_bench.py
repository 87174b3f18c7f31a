"""The scheduling engine alone: ``available_slots`` for one provider-day.

    .venv/bin/python -m bench.slots_bench

A London provider works 08:00–20:00 on a Monday with 50 bookings of 5 minutes spread over
the day; the service takes 5 minutes on a 5-minute grid, so every gap is looked at. The
floor is the same call on the same day with nothing booked. Target (issue 3): under 1 ms.
"""

from __future__ import annotations

import timeit
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling import Interval, ProviderCalendar, ServiceRules, WeeklyRule, available_slots

TZ = ZoneInfo("Europe/London")
DAY = date(2026, 12, 7)  # a Monday
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BOOKINGS = 50


def calendar(bookings: int) -> ProviderCalendar:
    opens = datetime.combine(DAY, time(8), TZ).astimezone(UTC)  # the engine works in UTC
    busy = tuple(
        Interval(opens + timedelta(minutes=14 * n), opens + timedelta(minutes=14 * n + 5))
        for n in range(bookings)
    )
    return ProviderCalendar(provider_id=1, rules=(WeeklyRule(0, time(8), time(20)),), busy=busy)


def per_call_us(cal: ProviderCalendar, rules: ServiceRules) -> float:
    def call() -> None:
        available_slots(cal, rules, TZ, DAY, DAY, NOW)

    number, _ = timeit.Timer(call).autorange()
    return min(timeit.repeat(call, number=number, repeat=7)) / number * 1e6


def main() -> None:
    rules = ServiceRules(duration=timedelta(minutes=5), step=timedelta(minutes=5))
    empty, full = calendar(0), calendar(BOOKINGS)
    free_empty = len(available_slots(empty, rules, TZ, DAY, DAY, NOW))
    free_full = len(available_slots(full, rules, TZ, DAY, DAY, NOW))
    floor = per_call_us(empty, rules)
    busy = per_call_us(full, rules)
    print("available_slots, one provider-day 08:00–20:00, 5-minute service on a 5-minute grid")
    print(f"  floor (empty day)       {floor:8.1f} µs per call   ({free_empty} slots)")
    print(f"  {BOOKINGS} bookings             {busy:8.1f} µs per call   ({free_full} slots)")
    print(f"50 bookings = {busy / floor:.2f}× the empty day; {busy:.0f} µs (target < 1000 µs)")


if __name__ == "__main__":
    main()

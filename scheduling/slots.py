"""Bookable start times from weekly rules, overrides and what is already busy."""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.localtime import boundary, local_date, offset_at, transitions_between
from scheduling.types import (
    DateOverride,
    Interval,
    ProviderCalendar,
    ServiceRules,
    Slot,
    WeeklyRule,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The smallest step of a datetime: ``t < last + _TICK`` is ``t <= last``.
_TICK = timedelta.resolution


def working_intervals(
    rules: Iterable[WeeklyRule],
    overrides: Iterable[DateOverride],
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
) -> list[Interval]:
    """The provider's working time on local days first_day..last_day, as merged UTC intervals."""
    by_weekday: dict[int, list[WeeklyRule]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    override_hours = {o.day: o.hours for o in overrides}

    spans = []
    day = first_day
    while day <= last_day:
        if day in override_hours:
            hours = override_hours[day]
        else:
            hours = tuple((r.start, r.end) for r in by_weekday.get(day.weekday(), ()))
        for opens, closes in hours:
            start = boundary(day, opens, tz, closing=False)
            end = boundary(day, closes, tz, closing=True)
            if start < end:
                spans.append(Interval(start, end))
        day += timedelta(days=1)
    return merge(spans)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same time; touching ones are joined."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def available_slots(
    calendar: ProviderCalendar,
    service: ServiceRules,
    tz: ZoneInfo,
    first_day: date,
    last_day: date,
    now: datetime,
) -> list[Slot]:
    """Start times on local days first_day..last_day at which ``service`` can be booked.

    A slot's blocked time (buffers included) lies inside working hours and overlaps
    nothing busy; it starts on the local step grid (15 minutes from local midnight by
    default), no sooner than the minimum notice and no later than max_days_ahead.
    """
    # A slot that starts right now has already begun: never offer it, even with no notice.
    earliest = now + max(service.min_notice, _TICK)
    last_day = min(last_day, local_date(now, tz) + timedelta(days=service.max_days_ahead))
    if last_day < first_day:
        return []
    busy = merge(calendar.busy)
    busy_starts = [b.start for b in busy]
    slots = []
    for work in working_intervals(calendar.rules, calendar.overrides, first_day, last_day, tz):
        first_start = max(work.start + service.buffer_before, earliest)
        last_start = work.end - service.buffer_after - service.duration
        for start in _grid(first_start, last_start, service.step, tz):
            if not _overlaps_any(service.block(start), busy, busy_starts):
                slots.append(Slot(start, start + service.duration, calendar.provider_id))
    return slots


def available_slots_any(
    calendars: Sequence[ProviderCalendar],
    service: ServiceRules,
    tz: ZoneInfo,
    first_day: date,
    last_day: date,
    now: datetime,
) -> list[Slot]:
    """Slots offered by any of ``calendars``; each start is assigned to the first
    provider, in the order given, that is free then."""
    chosen: dict[datetime, Slot] = {}
    for calendar in calendars:
        for slot in available_slots(calendar, service, tz, first_day, last_day, now):
            chosen.setdefault(slot.start, slot)
    return sorted(chosen.values())


def _grid(first: datetime, last: datetime, step: timedelta, tz: ZoneInfo) -> Iterator[datetime]:
    """Instants in [first, last] whose local wall-clock time is a whole number of steps
    after local midnight. Split at offset changes so the grid follows the wall clock."""
    if last < first:
        return
    edges = [first, *transitions_between(first, last, tz), last + _TICK]
    for piece_start, piece_end in itertools.pairwise(edges):
        offset = offset_at(piece_start, tz)
        # Wall-clock time since the epoch, rounded up to the grid, then back to UTC.
        steps = -(-(piece_start + offset - _EPOCH) // step)
        start = _EPOCH + steps * step - offset
        while start < piece_end:
            yield start
            start += step


def _overlaps_any(block: Interval, busy: list[Interval], busy_starts: list[datetime]) -> bool:
    i = bisect_right(busy_starts, block.start)
    if i and busy[i - 1].end > block.start:
        return True
    return i < len(busy) and busy[i].start < block.end

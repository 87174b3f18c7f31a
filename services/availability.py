"""Loading what the scheduling engine needs from the database, and asking it for slots."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models import Booking, DateOverride, Provider, Service, ServiceProvider, TimeOff, WeeklyHours
from scheduling import (
    DateOverride as Override,
)
from scheduling import (
    Interval,
    ProviderCalendar,
    ServiceRules,
    Slot,
    WeeklyRule,
    available_slots,
    available_slots_any,
)
from services.errors import Invalid

DEFAULT_STEP = timedelta(minutes=15)
MAX_RANGE_DAYS = 31


def rules_for(service: Service, step: timedelta = DEFAULT_STEP) -> ServiceRules:
    return ServiceRules(
        duration=timedelta(minutes=service.duration_minutes),
        buffer_before=timedelta(minutes=service.buffer_before_minutes),
        buffer_after=timedelta(minutes=service.buffer_after_minutes),
        min_notice=timedelta(minutes=service.min_notice_minutes),
        max_days_ahead=service.max_days_ahead,
        step=step,
    )


def providers_for(service: Service, provider_id: int | None = None) -> list[Provider]:
    """Active providers offering ``service``; just one when ``provider_id`` is given."""
    query = (
        Provider.select()
        .join(ServiceProvider)
        .where((ServiceProvider.service == service.id) & Provider.active)
        .order_by(Provider.id)
    )
    if provider_id is not None:
        query = query.where(Provider.id == provider_id)
    providers = list(query)
    if provider_id is not None and not providers:
        raise Invalid({"provider": "This provider does not offer this service."})
    return providers


def calendars(
    providers: list[Provider],
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
    *,
    ignore_booking: int | None = None,
    include_bookings: bool = True,
) -> list[ProviderCalendar]:
    """Each provider's rules, overrides and busy time around local days first..last.

    Four queries whatever the number of providers. ``ignore_booking`` leaves one booking
    out of the busy time, for moving a booking to a time that overlaps where it was.
    """
    ids = [p.id for p in providers]
    # Busy time a day either side, so buffers and zone offsets at the edges are covered.
    window_start = datetime.combine(first_day - timedelta(days=1), time(), tz)
    window_end = datetime.combine(last_day + timedelta(days=2), time(), tz)

    rules = defaultdict(list)
    for row in WeeklyHours.select().where(WeeklyHours.provider.in_(ids)):
        rules[row.provider_id].append(WeeklyRule(row.weekday, row.start_time, row.end_time))

    hours = defaultdict(lambda: defaultdict(list))
    overrides = DateOverride.select().where(
        DateOverride.provider.in_(ids) & DateOverride.day.between(first_day, last_day)
    )
    for row in overrides:
        day_hours = hours[row.provider_id][row.day]
        if row.start_time is not None:
            day_hours.append((row.start_time, row.end_time))

    busy = defaultdict(list)
    time_off = TimeOff.select().where(
        TimeOff.provider.in_(ids)
        & (TimeOff.start_at < window_end)
        & (TimeOff.end_at > window_start)
    )
    for row in time_off:
        busy[row.provider_id].append(Interval(row.start_at, row.end_at))
    if include_bookings:
        bookings = Booking.select(
            Booking.id, Booking.provider, Booking.block_start, Booking.block_end
        ).where(
            Booking.provider.in_(ids)
            & (Booking.status != "cancelled")
            & (Booking.block_start < window_end)
            & (Booking.block_end > window_start)
        )
        for row in bookings:
            if row.id != ignore_booking:
                busy[row.provider_id].append(Interval(row.block_start, row.block_end))

    return [
        ProviderCalendar(
            provider_id=pid,
            rules=tuple(rules[pid]),
            overrides=tuple(Override(day, tuple(h)) for day, h in hours[pid].items()),
            busy=tuple(busy[pid]),
        )
        for pid in ids
    ]


def by_least_busy(cals: list[ProviderCalendar]) -> list[ProviderCalendar]:
    """Who gets an "any provider" booking: the one with the least booked time nearby."""
    return sorted(
        cals, key=lambda c: (sum((b.end - b.start for b in c.busy), timedelta()), c.provider_id)
    )


def find_slots(
    service: Service,
    first_day: date,
    last_day: date,
    now: datetime,
    *,
    provider_id: int | None = None,
    ignore_booking: int | None = None,
) -> list[Slot]:
    """Free slots for ``service`` on local days first..last, for one provider or any."""
    if last_day < first_day:
        raise Invalid({"days": "The range ends before it starts."})
    if (last_day - first_day).days >= MAX_RANGE_DAYS:
        raise Invalid({"days": f"Ask for at most {MAX_RANGE_DAYS} days at a time."})
    tz = ZoneInfo(service.organisation.timezone)
    providers = providers_for(service, provider_id)
    if not providers:
        return []
    cals = calendars(providers, first_day, last_day, tz, ignore_booking=ignore_booking)
    return available_slots_any(
        by_least_busy(cals), rules_for(service), tz, first_day, last_day, now
    )


def would_be_slot(
    service: Service, start: datetime, now: datetime, provider_id: int | None
) -> bool:
    """Whether ``start`` would be offered if nothing were booked: tells "taken" from "never"."""
    tz = ZoneInfo(service.organisation.timezone)
    day = start.astimezone(tz).date()
    providers = providers_for(service, provider_id)
    rules = rules_for(service)
    for cal in calendars(providers, day, day, tz, include_bookings=False):
        if any(s.start == start for s in available_slots(cal, rules, tz, day, day, now)):
            return True
    return False


def nearest_slots(
    service: Service, start: datetime, now: datetime, provider_id: int | None, count: int = 5
) -> list[Slot]:
    """Free slots closest to ``start``, in time order: what to offer when it was taken."""
    tz = ZoneInfo(service.organisation.timezone)
    day = start.astimezone(tz).date()
    first = max(day - timedelta(days=3), now.astimezone(tz).date())
    slots = find_slots(service, first, day + timedelta(days=7), now, provider_id=provider_id)
    return sorted(sorted(slots, key=lambda s: abs(s.start - start))[:count])

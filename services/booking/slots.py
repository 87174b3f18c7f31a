"""Loading what the scheduling engine needs from the database, and asking it for slots."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import SQL

from models import (
    FREED,
    Booking,
    BusyBlock,
    DateOverride,
    Prepared,
    Provider,
    Service,
    ServiceProvider,
    TimeOff,
    WeeklyHours,
)
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
from services.booking import slot_cache
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


def _offering(service):
    return (
        Provider.select()
        .join(ServiceProvider)
        .where((ServiceProvider.service == service) & Provider.active)
        .order_by(Provider.id)
    )


_providers = Prepared(_offering, service=-70011)
_one_provider = Prepared(
    lambda service, provider: _offering(service).where(Provider.id == provider),
    service=-70011,
    provider=-70012,
)


def providers_for(service: Service, provider_id: int | None = None) -> list[Provider]:
    """Active providers offering ``service``; just one when ``provider_id`` is given.

    A service loaded by catalogue.service_of carries them already (active_providers)."""
    preloaded = getattr(service, "active_providers", None)
    if preloaded is not None:
        providers = [p for p in preloaded if provider_id in (None, p.id)]
    elif provider_id is None:
        providers = _providers(service=service.id)
    else:
        providers = _one_provider(service=service.id, provider=provider_id)
    if provider_id is not None and not providers:
        raise Invalid({"provider": "This provider does not offer this service."})
    return providers


def _hours_query(ids, first, last):
    weekly = WeeklyHours.select(
        WeeklyHours.provider,
        WeeklyHours.weekday,
        SQL("NULL"),
        WeeklyHours.start_time,
        WeeklyHours.end_time,
    ).where(WeeklyHours.provider.in_(ids))
    overrides = DateOverride.select(
        DateOverride.provider,
        SQL("NULL"),
        DateOverride.day,
        DateOverride.start_time,
        DateOverride.end_time,
    ).where(DateOverride.provider.in_(ids) & DateOverride.day.between(first, last))
    return weekly + overrides


def _away_query(ids, start, end):
    """The provider's own busy time: time off, and busy blocks from their calendars."""
    time_off = TimeOff.select(TimeOff.provider, TimeOff.start_at, TimeOff.end_at, SQL("0")).where(
        TimeOff.provider.in_(ids) & (TimeOff.start_at < end) & (TimeOff.end_at > start)
    )
    return time_off + BusyBlock.select(
        BusyBlock.provider, BusyBlock.start_at, BusyBlock.end_at, SQL("0")
    ).where(BusyBlock.provider.in_(ids) & (BusyBlock.start_at < end) & (BusyBlock.end_at > start))


def _busy_query(ids, start, end):
    return _away_query(ids, start, end) + Booking.select(
        Booking.provider, Booking.block_start, Booking.block_end, Booking.id
    ).where(
        Booking.provider.in_(ids)
        & Booking.status.not_in(FREED)
        & (Booking.block_start < end)
        & (Booking.block_end > start)
    )


_SAMPLE_DAY = (date(1901, 1, 2), date(1901, 1, 3))
_SAMPLE_SPAN = (datetime(1901, 1, 4, tzinfo=UTC), datetime(1901, 1, 5, tzinfo=UTC))
_hours = Prepared(_hours_query, rows=True, ids=(), first=_SAMPLE_DAY[0], last=_SAMPLE_DAY[1])
_away = Prepared(_away_query, rows=True, ids=(), start=_SAMPLE_SPAN[0], end=_SAMPLE_SPAN[1])
_busy = Prepared(_busy_query, rows=True, ids=(), start=_SAMPLE_SPAN[0], end=_SAMPLE_SPAN[1])


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

    Two queries whatever the number of providers: working hours (weekly and overrides),
    then busy time (time off, imported busy blocks and bookings). ``ignore_booking``
    leaves one booking out of the busy time, for moving a booking to a time that
    overlaps where it was.
    """
    ids = [p.id for p in providers]
    # Busy time a day either side, so buffers and zone offsets at the edges are covered.
    window_start = datetime.combine(first_day - timedelta(days=1), time(), tz)
    window_end = datetime.combine(last_day + timedelta(days=2), time(), tz)

    rules, hours = defaultdict(list), defaultdict(lambda: defaultdict(list))
    for pid, weekday, day, opens, closes in _hours(ids=tuple(ids), first=first_day, last=last_day):
        if day is None:
            rules[pid].append(WeeklyRule(weekday, _time(opens), _time(closes)))
        else:
            day_hours = hours[pid][_date(day)]  # an empty list closes the day
            if opens is not None:
                day_hours.append((_time(opens), _time(closes)))

    busy_query = _busy if include_bookings else _away
    busy = defaultdict(list)
    to_instant = Booking.block_start.python_value
    for pid, start, end, booking_id in busy_query(
        ids=tuple(ids), start=window_start, end=window_end
    ):
        if not booking_id or booking_id != ignore_booking:
            busy[pid].append(Interval(to_instant(start), to_instant(end)))

    return [
        ProviderCalendar(
            provider_id=pid,
            rules=tuple(rules[pid]),
            overrides=tuple(Override(day, tuple(h)) for day, h in hours[pid].items()),
            busy=tuple(busy[pid]),
        )
        for pid in ids
    ]


def _time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


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
    rules = rules_for(service)
    key = _SlotsKey(
        versions=tuple((p.id, p.calendar_version) for p in providers),
        rules=replace(rules, min_notice=timedelta(0)),
        timezone=tz.key,
        first_day=first_day,
        last_day=last_day,
        today=now.astimezone(tz).date(),
        ignore_booking=ignore_booking,
    )
    earliest = now + max(rules.min_notice, timedelta.resolution)  # as the engine does
    found = [slot for slot in _slots_for(key) if slot.start >= earliest]
    slot_cache.flush_stats()
    return found


@dataclass(frozen=True)
class _SlotsKey:
    """Everything free time depends on. The providers' calendar versions change (by
    database trigger) whenever a booking, time off or hours change, so a cached answer
    under the same key is still the right one. Its repr is the Redis key (slot_cache)."""

    versions: tuple[tuple[int, int], ...]
    rules: ServiceRules
    timezone: str
    first_day: date
    last_day: date
    today: date
    ignore_booking: int | None


@slot_cache.cached
def _slots_for(key: _SlotsKey) -> tuple[Slot, ...]:
    tz = ZoneInfo(key.timezone)
    providers = [Provider(id=pid) for pid, _ in key.versions]
    cals = calendars(providers, key.first_day, key.last_day, tz, ignore_booking=key.ignore_booking)
    # Minimum notice is applied by the caller, so "now" here is only today's start.
    start_of_today = datetime.combine(key.today, time(), tz)
    found = available_slots_any(
        by_least_busy(cals), key.rules, tz, key.first_day, key.last_day, start_of_today
    )
    return tuple(found)


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
    service: Service,
    start: datetime,
    now: datetime,
    provider_id: int | None,
    count: int = 5,
    ignore_booking: int | None = None,
) -> list[Slot]:
    """Free slots closest to ``start``, in time order: what to offer when it was taken."""
    tz = ZoneInfo(service.organisation.timezone)
    day = start.astimezone(tz).date()
    first = max(day - timedelta(days=3), now.astimezone(tz).date())
    slots = find_slots(
        service,
        first,
        day + timedelta(days=7),
        now,
        provider_id=provider_id,
        ignore_booking=ignore_booking,
    )
    return sorted(sorted(slots, key=lambda s: abs(s.start - start))[:count])

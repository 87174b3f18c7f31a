"""The workspace's day view: each visible provider's hours and bookings on one local day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import JOIN

from models import Booking, Provider, Service, User
from scheduling import Interval, working_intervals
from services.availability import calendars

DEFAULT_OPEN, DEFAULT_CLOSE = 8, 18


@dataclass
class Column:
    provider: Provider
    hours: list[Interval]
    bookings: list[Booking]


@dataclass
class Day:
    day: date
    timezone: str
    start: datetime  # the grid's first hour, local
    end: datetime  # the grid's last hour, local
    columns: list[Column]
    now: datetime | None  # only when the day is today

    def offset(self, instant: datetime) -> float:
        """Where ``instant`` falls on the grid, 0–100 (%)."""
        span = (self.end - self.start).total_seconds()
        return max(0.0, min(100.0, (instant - self.start).total_seconds() / span * 100))

    def height(self, start: datetime, end: datetime) -> float:
        return self.offset(end) - self.offset(start)

    @property
    def hours(self) -> list[datetime]:
        count = int((self.end - self.start).total_seconds() // 3600)
        return [self.start + timedelta(hours=h) for h in range(count)]


def day_schedule(providers: list[Provider], day: date, timezone: str, now: datetime) -> Day:
    tz = ZoneInfo(timezone)
    cals = {c.provider_id: c for c in calendars(providers, day, day, tz, include_bookings=False)}
    first = datetime.combine(day, time(), tz)
    last = first + timedelta(days=1)
    bookings: dict[int, list[Booking]] = {p.id: [] for p in providers}
    query = (
        Booking.select(Booking, Service, User)
        .join(Service)
        .switch(Booking)
        .join(User, JOIN.LEFT_OUTER, on=Booking.customer)
        .where(
            Booking.provider.in_([p.id for p in providers])
            & (Booking.start_at < last)
            & (Booking.end_at > first)
        )
        .order_by(Booking.start_at)
    )
    for booking in query:
        bookings[booking.provider_id].append(booking)
    columns = [
        Column(
            p,
            working_intervals(cals[p.id].rules, cals[p.id].overrides, day, day, tz),
            bookings[p.id],
        )
        for p in providers
    ]
    instants = [i for c in columns for i in c.hours] + [
        Interval(b.start_at, b.end_at) for c in columns for b in c.bookings
    ]
    open_hour = min((i.start.astimezone(tz).hour for i in instants), default=DEFAULT_OPEN)
    close_hour = max((_ceil_hour(i.end.astimezone(tz)) for i in instants), default=DEFAULT_CLOSE)
    start = datetime.combine(day, time(min(open_hour, DEFAULT_OPEN + 1)), tz)
    end = datetime.combine(day, time(0), tz) + timedelta(
        hours=min(24, max(close_hour, start.hour + 8))
    )
    today = now.astimezone(tz).date() == day
    return Day(day, timezone, start, end, columns, now if today else None)


def _ceil_hour(local: datetime) -> int:
    if local.hour == 0 and local.minute == 0:
        return 24  # ends at midnight
    return local.hour + (1 if local.minute or local.second else 0)

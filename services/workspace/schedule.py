"""The workspace's schedule: providers' hours, time off, busy time imported from their own
calendars and bookings on a local time grid, for one day (a column per provider) or one
provider's week (a column per day)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import JOIN

from models import FREED, Booking, Provider, Service, User
from scheduling import Interval, working_intervals
from services.booking.slots import calendars
from services.calendar import clashes
from services.payments import ledger

DEFAULT_OPEN, DEFAULT_CLOSE = 8, 18
CELL = timedelta(minutes=30)  # the size of an empty slot's "book here" target


@dataclass
class Column:
    provider: Provider
    day: date
    origin: datetime  # the top of the grid on this column's day
    span: timedelta  # the height of the grid
    hours: list[Interval] = field(default_factory=list)
    time_off: list[Interval] = field(default_factory=list)
    imported: list[Interval] = field(default_factory=list)  # busy in the provider's calendar
    bookings: list[Booking] = field(default_factory=list)  # not cancelled: marked below
    cancelled: list[Booking] = field(default_factory=list)
    free: list[datetime] = field(default_factory=list)  # starts of empty, bookable cells

    def top(self, instant: datetime) -> float:
        """Where ``instant`` falls on the grid, 0–100 (%)."""
        share = (instant - self.origin) / self.span * 100
        return round(max(0.0, min(100.0, share)), 3)

    def height(self, start: datetime, end: datetime) -> float:
        return round(self.top(end) - self.top(start), 3)

    @property
    def closed(self) -> bool:
        """No working hours and nothing booked (or cancelled) on this day: the week view
        draws it as a narrow column."""
        return not (self.hours or self.bookings or self.cancelled)

    def under_booking(self, span: Interval) -> bool:
        """Whether a booking is drawn over part of ``span`` (busy time that clashes)."""
        return any(span.overlaps(Interval(b.start_at, b.end_at)) for b in self.bookings)


@dataclass
class Grid:
    timezone: str
    first_hour: int
    last_hour: int
    columns: list[Column]
    now: datetime

    @property
    def hours(self) -> list[tuple[str, float]]:
        """Each hour's label and where it sits on the grid (%)."""
        count = self.last_hour - self.first_hour
        return [(f"{self.first_hour + h:02d}:00", h / count * 100) for h in range(count)]

    def shows_now(self, column: Column) -> bool:
        return column.origin <= self.now < column.origin + column.span


def day_grid(providers: list[Provider], day: date, timezone: str, now: datetime) -> Grid:
    """One local day, a column per provider."""
    return _grid([(p, day) for p in providers], timezone, now)


def week_grid(provider: Provider, monday: date, timezone: str, now: datetime) -> Grid:
    """One provider's local week from ``monday``, a column per day."""
    return _grid([(provider, monday + timedelta(days=d)) for d in range(7)], timezone, now)


def _grid(cells: list[tuple[Provider, date]], timezone: str, now: datetime) -> Grid:
    if not cells:  # a new business, before anyone takes bookings
        return Grid(timezone, DEFAULT_OPEN, DEFAULT_CLOSE, [], now)
    tz = ZoneInfo(timezone)
    days = sorted({day for _, day in cells})
    providers = list({p.id: p for p, _ in cells}.values())
    first, last = days[0], days[-1]
    cals = {c.provider_id: c for c in calendars(providers, first, last, tz, include_bookings=False)}
    booked = _bookings([p.id for p in providers], first, last, tz)
    imported = _imported([p.id for p in providers], first, last, tz)
    from_calendars = {p.id: set() for p in providers}
    for block in imported:
        from_calendars[block.provider_id].add(block.interval)
    columns = []
    for provider, day in cells:
        cal = cals[provider.id]
        column = Column(provider, day, datetime.combine(day, time(), tz), timedelta(hours=24))
        column.hours = working_intervals(cal.rules, cal.overrides, day, day, tz)
        day_span = Interval(column.origin, datetime.combine(day + timedelta(days=1), time(), tz))
        for busy in cal.busy:
            if busy.overlaps(day_span):
                away = column.imported if busy in from_calendars[provider.id] else column.time_off
                away.append(_clip(busy, day_span))
        for booking in booked.get((provider.id, day), []):
            (column.cancelled if booking.status in FREED else column.bookings).append(booking)
        columns.append(column)
    _mark_paid([b for c in columns for b in c.bookings])
    _mark_clashes([b for c in columns for b in c.bookings], imported)
    first_hour, last_hour = _hour_range(columns, tz)
    for column in columns:
        column.origin = datetime.combine(column.day, time(first_hour), tz)
        column.span = timedelta(hours=last_hour - first_hour)
        column.free = _free_cells(column, now)
    return Grid(timezone, first_hour, last_hour, columns, now)


def _bookings(ids: list[int], first: date, last: date, tz: ZoneInfo) -> dict:
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    query = (
        Booking.select(Booking, Service, User)
        .join(Service)
        .switch(Booking)
        .join(User, JOIN.LEFT_OUTER, on=Booking.customer)
        .where(Booking.provider.in_(ids) & (Booking.start_at < end) & (Booking.end_at > start))
        .order_by(Booking.start_at, Booking.id)
    )
    found: dict[tuple[int, date], list[Booking]] = {}
    for booking in query:
        key = (booking.provider_id, booking.start_at.astimezone(tz).date())
        found.setdefault(key, []).append(booking)
    return found


def _imported(ids: list[int], first: date, last: date, tz: ZoneInfo) -> list[clashes.BusyTime]:
    """Each provider's busy blocks from their own calendars around the days (a day either
    side, as calendars() reads busy time): to tell them from time off on the grid, and
    to find the bookings they clash with."""
    start = datetime.combine(first - timedelta(days=1), time(), tz)
    end = datetime.combine(last + timedelta(days=2), time(), tz)
    return clashes.busy_times(ids, start, end)


def _mark_paid(bookings: list[Booking]) -> None:
    """Give each booking its ``payment_mark`` for the grid: "paid", "deposit" (some of
    it) or "unpaid" (ledger.mark), from one query; None for a free one."""
    kept = ledger.kept_by_booking(b.id for b in bookings)
    for booking in bookings:
        paid = kept.get(booking.id, 0)
        booking.payment_mark = ledger.mark(booking, paid) if booking.price_cents else None


def _mark_clashes(bookings: list[Booking], imported: list[clashes.BusyTime]) -> None:
    """Give each booking its ``calendar_clashes``: the busy times from its provider's calendars
    over it (none, mostly), from the blocks the grid has already read."""
    found = clashes.clashes(bookings, imported)
    for booking in bookings:
        booking.calendar_clashes = found.get(booking.id, [])


def _hour_range(columns: list[Column], tz: ZoneInfo) -> tuple[int, int]:
    """The hours the grid shows: the working hours and bookings of every column, with at
    least DEFAULT_OPEN..DEFAULT_CLOSE when they fit inside (a steady grid day to day)."""
    spans = [
        (i.start.astimezone(tz), i.end.astimezone(tz))
        for c in columns
        for i in c.hours + [Interval(b.start_at, b.end_at) for b in c.bookings]
    ]
    opens = min((s.hour for s, _ in spans), default=DEFAULT_OPEN)
    closes = max((_ceil_hour(s, e) for s, e in spans), default=DEFAULT_CLOSE)
    return min(opens, DEFAULT_OPEN), max(closes, DEFAULT_CLOSE)


def _ceil_hour(start: datetime, end: datetime) -> int:
    if end.date() > start.date():
        return 24  # runs to (or past) midnight
    return end.hour + (1 if end.minute or end.second else 0)


def _free_cells(column: Column, now: datetime) -> list[datetime]:
    """Starts of the half hours inside working time with nothing booked and no time off,
    from the one under way now: where tapping books somebody in."""
    booked = [Interval(b.block_start, b.block_end) for b in column.bookings]
    taken = booked + column.time_off + column.imported
    cells, start = [], column.origin
    while start < column.origin + column.span:
        cell = Interval(start, start + CELL)
        if (
            cell.end > now
            and any(h.contains(cell) for h in column.hours)
            and not any(t.overlaps(cell) for t in taken)
        ):
            cells.append(start)
        start += CELL
    return cells


def _clip(interval: Interval, to: Interval) -> Interval:
    return Interval(max(interval.start, to.start), min(interval.end, to.end))


def version_tag(user_id: int, providers: list[Provider], days: str, now: datetime) -> str:
    """An ETag for a schedule: it changes when anything on these providers' calendars
    changes (calendar_version, kept by database triggers), and once a minute for the
    now-line. Polling with it costs one small query when nothing changed."""
    versions = ",".join(f"{p.id}:{p.calendar_version}" for p in providers)
    minute = now.replace(second=0, microsecond=0).isoformat()
    digest = hashlib.sha256(f"{user_id}|{versions}|{days}|{minute}".encode()).hexdigest()
    return f'"{digest[:32]}"'

"""The workspace dashboard: today's next appointments, and a week's figures and chart.

The database is asked a few questions per page (hours, time off, the week's bookings
grouped by status, their times); the arithmetic is done here on plain values, so that
it can be tested without a database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import JOIN, fn

from models import (
    FREED,
    Booking,
    BookingStatus,
    Invitation,
    Organisation,
    Payment,
    Provider,
    Service,
    User,
    WeeklyHours,
)
from models.payments import PaymentStatus
from scheduling import Interval, ProviderCalendar, working_intervals
from scheduling.localtime import boundary
from scheduling.slots import merge
from services.booking.slots import calendars
from services.workspace.staff import open_invitations

NEXT_TODAY = 6  # appointments listed under "Today at a glance"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_day_span(day: date, tz: ZoneInfo) -> Interval:
    """Local midnight to the next midnight, as UTC (23 or 25 hours on a DST change)."""
    return Interval(
        boundary(day, time(0), tz, closing=False),
        boundary(day + timedelta(days=1), time(0), tz, closing=False),
    )


def subtract(spans: Sequence[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """``spans`` without the time covered by ``holes``."""
    result = list(spans)
    for hole in merge(holes):
        kept = []
        for span in result:
            if not span.overlaps(hole):
                kept.append(span)
                continue
            if span.start < hole.start:
                kept.append(Interval(span.start, hole.start))
            if hole.end < span.end:
                kept.append(Interval(hole.end, span.end))
        result = kept
    return result


def overlap(spans: Iterable[Interval], window: Interval) -> timedelta:
    """How much of ``window`` the (disjoint) ``spans`` cover."""
    total = timedelta()
    for span in spans:
        start, end = max(span.start, window.start), min(span.end, window.end)
        if start < end:
            total += end - start
    return total


def minutes(span: timedelta) -> int:
    return round(span.total_seconds() / 60)


def utilisation(booked_minutes: int, available_minutes: int) -> float | None:
    """Booked share of the available time, 0–1; None when no time was available."""
    if available_minutes <= 0:
        return None
    return min(1.0, booked_minutes / available_minutes)


def no_show_rate(completed: int, no_shows: int) -> float | None:
    """No-shows among the appointments whose outcome is known; None before any is."""
    decided = completed + no_shows
    return no_shows / decided if decided else None


@dataclass(frozen=True)
class DayFigures:
    day: date
    bookings: int
    booked_minutes: int
    available_minutes: int

    @property
    def utilisation(self) -> float | None:
        return utilisation(self.booked_minutes, self.available_minutes)


@dataclass(frozen=True)
class Totals:
    """The week's bookings by outcome (cancelled ones left out)."""

    bookings: int = 0
    revenue_cents: int = 0
    completed: int = 0
    no_shows: int = 0

    @classmethod
    def from_statuses(cls, rows: Iterable[tuple[str, int, int]]) -> Totals:
        """From (status, count, sum of prices) rows, as the grouped query gives them."""
        by_status = {status: (int(n), int(cents or 0)) for status, n, cents in rows}
        kept = [v for status, v in by_status.items() if status not in FREED]
        return cls(
            bookings=sum(n for n, _ in kept),
            revenue_cents=sum(cents for _, cents in kept),
            completed=by_status.get(BookingStatus.COMPLETED, (0, 0))[0],
            no_shows=by_status.get(BookingStatus.NO_SHOW, (0, 0))[0],
        )


@dataclass(frozen=True)
class Week:
    first_day: date
    days: list[DayFigures]
    totals: Totals
    taken_cents: int = 0  # paid in the week (online and at the venue), refunds taken off

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=6)

    @property
    def booked_minutes(self) -> int:
        return sum(d.booked_minutes for d in self.days)

    @property
    def available_minutes(self) -> int:
        return sum(d.available_minutes for d in self.days)

    @property
    def utilisation(self) -> float | None:
        return utilisation(self.booked_minutes, self.available_minutes)

    @property
    def no_show_rate(self) -> float | None:
        return no_show_rate(self.totals.completed, self.totals.no_shows)


def day_loads(
    cals: Sequence[ProviderCalendar],
    booked: dict[int, list[Interval]],
    first_day: date,
    tz: ZoneInfo,
) -> list[DayFigures]:
    """Per local day of the week from ``first_day``: bookings started, and the minutes
    booked and available over the providers of ``cals``. Available time is each
    provider's working time minus their time off (``busy`` in the calendars); booked
    time counts only where it falls inside it."""
    days = [first_day + timedelta(days=i) for i in range(7)]
    spans = [local_day_span(day, tz) for day in days]
    available = [timedelta()] * 7
    used = [timedelta()] * 7
    for cal in cals:
        working = working_intervals(cal.rules, cal.overrides, days[0], days[-1], tz)
        working = subtract(working, cal.busy)
        appointments = merge(booked.get(cal.provider_id, []))
        for i, span in enumerate(spans):
            open_today = [
                Interval(max(w.start, span.start), min(w.end, span.end))
                for w in working
                if w.overlaps(span)
            ]
            available[i] += sum((w.end - w.start for w in open_today), timedelta())
            used[i] += sum((overlap(appointments, w) for w in open_today), timedelta())
    starts = [b.start for intervals in booked.values() for b in intervals]
    return [
        DayFigures(
            day,
            sum(1 for s in starts if span.start <= s < span.end),
            minutes(used[i]),
            minutes(available[i]),
        )
        for i, (day, span) in enumerate(zip(days, spans, strict=True))
    ]


def week_figures(
    providers: list[Provider], any_day: date, timezone: str, currency: str = ""
) -> Week:
    """The figures of the local week (Monday to Sunday) holding ``any_day``; the money
    taken counts payments in ``currency`` (the organisation's)."""
    tz = ZoneInfo(timezone)
    first = monday_of(any_day)
    if not providers:
        return Week(first, day_loads([], {}, first, tz), Totals())
    ids = [p.id for p in providers]
    start = local_day_span(first, tz).start
    end = local_day_span(first + timedelta(days=6), tz).end
    in_week = Booking.provider.in_(ids) & (Booking.start_at >= start) & (Booking.start_at < end)
    grouped = (
        Booking.select(Booking.status, fn.COUNT(Booking.id), fn.SUM(Booking.price_cents))
        .where(in_week)
        .group_by(Booking.status)
        .tuples()
    )
    booked: dict[int, list[Interval]] = defaultdict(list)
    times = Booking.select(Booking.provider, Booking.start_at, Booking.end_at).where(
        in_week & Booking.status.not_in(FREED)
    )
    for booking in times:
        booked[booking.provider_id].append(Interval(booking.start_at, booking.end_at))
    cals = calendars(providers, first, first + timedelta(days=6), tz, include_bookings=False)
    return Week(
        first,
        day_loads(cals, booked, first, tz),
        Totals.from_statuses(grouped),
        taken_cents(ids, Interval(start, end), currency),
    )


def taken_cents(provider_ids: list[int], span: Interval, currency: str) -> int:
    """What the business keeps of the payments made in ``span`` (by when they were
    paid, whenever the appointment is) for bookings with these providers."""
    kept = fn.SUM(Payment.amount_cents - Payment.refunded_cents)
    total = (
        Payment.select(kept)
        .join(Booking, on=(Payment.booking == Booking.id))
        .where(
            Booking.provider.in_(provider_ids)
            & (Payment.paid_at >= span.start)
            & (Payment.paid_at < span.end)
            & (Payment.currency == currency)
            & Payment.status.not_in((PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.CANCELED))
        )
        .scalar()
    )
    return int(total or 0)


@dataclass(frozen=True)
class Today:
    day: date
    total: int  # appointments today, cancelled ones left out
    remaining: int  # not yet over and not marked
    next: list[Booking]  # the first few of those


def _booked(providers: list[Provider], span: Interval):
    """The bookings (not cancelled) starting in ``span``, with their details, by time."""
    return (
        Booking.select(Booking, Service, Provider, User)
        .join(Service)
        .switch(Booking)
        .join(Provider)
        .switch(Booking)
        .join(User, JOIN.LEFT_OUTER, on=Booking.customer)
        .where(
            Booking.provider.in_([p.id for p in providers])
            & Booking.status.not_in(FREED)
            & (Booking.start_at >= span.start)
            & (Booking.start_at < span.end)
        )
        .order_by(Booking.start_at, Provider.name)
    )


def today(providers: list[Provider], now: datetime, timezone: str) -> Today:
    """Today's appointments with ``providers``, and the next ones still to come."""
    tz = ZoneInfo(timezone)
    day = now.astimezone(tz).date()
    if not providers:
        return Today(day, 0, 0, [])
    bookings = list(_booked(providers, local_day_span(day, tz)))
    coming = [b for b in bookings if b.status == BookingStatus.CONFIRMED and b.end_at > now]
    return Today(day, len(bookings), len(coming), coming[:NEXT_TODAY])


@dataclass(frozen=True)
class Ahead:
    """The first appointments of the next day that has any (tomorrow, or later)."""

    day: date
    first: list[Booking]  # the first few
    more: bool  # the day has more than these


def next_day_ahead(
    providers: list[Provider], after: date, timezone: str, days: int = 7
) -> Ahead | None:
    """For after hours, when today holds no more: the next day after ``after``, within
    ``days`` of it, with appointments, and its first few; None when there is none.
    One query, however busy the days are."""
    tz = ZoneInfo(timezone)
    if not providers:
        return None
    window = Interval(
        local_day_span(after + timedelta(days=1), tz).start,
        local_day_span(after + timedelta(days=days), tz).end,
    )
    found = list(_booked(providers, window).limit(NEXT_TODAY + 1))
    if not found:
        return None
    day = found[0].start_at.astimezone(tz).date()
    same_day = [b for b in found if b.start_at.astimezone(tz).date() == day]
    return Ahead(day, same_day[:NEXT_TODAY], len(same_day) > NEXT_TODAY)


# A new business: its booking link and what is left to set up ------------------------------


@dataclass(frozen=True)
class Step:
    key: str  # "staff", "hours", "service": the template words and links each
    done: bool


@dataclass(frozen=True)
class Setup:
    """What a business that has no bookings yet, or no services, still has to do."""

    steps: list[Step]

    @property
    def to_do(self) -> list[Step]:
        return [step for step in self.steps if not step.done]


def setup(org: Organisation, staff_provider: Provider | None, is_owner: bool) -> Setup | None:
    """For a new business (never booked, or offering no service): the steps not done
    yet, for the owner all of them, for a provider their own hours; None once the
    business is up and running, except for a provider with no hours (one who just
    joined): nobody can book them until they set some. One query."""
    active = Provider.select(Provider.id).where((Provider.organisation == org) & Provider.active)
    own = [staff_provider.id] if staff_provider else []
    hours_of = active if is_owner else Provider.select(Provider.id).where(Provider.id.in_(own))
    facts = (
        Organisation.select(
            fn.EXISTS(Booking.select(Booking.id).where(Booking.organisation == org)),
            fn.EXISTS(
                Service.select(Service.id).where((Service.organisation == org) & Service.active)
            ),
            fn.EXISTS(active),
            fn.EXISTS(Invitation.select(Invitation.id).where(open_invitations(org))),
            fn.EXISTS(WeeklyHours.select(WeeklyHours.id).where(WeeklyHours.provider.in_(hours_of))),
        )
        .where(Organisation.id == org.id)
        .tuples()
        .get()
    )
    booked, offered, providers, invited, hours = (bool(f) for f in facts)
    if booked and offered and (is_owner or hours):
        return None
    steps = [Step("hours", hours)]
    if is_owner:
        steps = [Step("staff", providers or invited), *steps, Step("service", offered)]
    return Setup(steps)


@dataclass(frozen=True)
class Bar:
    day: date
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """A bar chart of bookings per day, in SVG user units (the template draws it)."""

    width: int
    height: int
    left: float  # where the plot starts, after the axis labels
    baseline: float  # the y of zero
    bars: list[Bar]
    ticks: list[tuple[int, float]]  # (value, y) of each grid line


def tick_step(largest: int) -> int:
    """A round step (1, 2, 5, 10, 20, 50 …) giving at most four grid lines above zero."""
    step = 1
    while -(-largest // step) > 4:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return step


def bar_chart(days: Sequence[DayFigures], width: int = 480, height: int = 220) -> Chart:
    # Few units wide, so that the labels stay legible on a phone, where it is drawn small.
    left, top, bottom = 32.0, 24.0, 32.0  # room for the values above and the days below
    baseline = height - bottom
    largest = max((d.bookings for d in days), default=0)
    step = tick_step(largest)
    ceiling = step * max(1, -(-largest // step))
    scale = (baseline - top) / ceiling
    slot = (width - left) / max(1, len(days))
    bars = [
        Bar(
            d.day,
            d.bookings,
            x=round(left + i * slot + slot * 0.2, 1),
            y=round(baseline - d.bookings * scale, 1),
            width=round(slot * 0.6, 1),
            height=round(d.bookings * scale, 1),
        )
        for i, d in enumerate(days)
    ]
    ticks = [(v, round(baseline - v * scale, 1)) for v in range(0, ceiling + 1, step)]
    return Chart(width, height, left, baseline, bars, ticks)

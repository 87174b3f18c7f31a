"""Never orphan a booking: a change to a provider's hours that would leave future
bookings outside working time is not saved until someone decides what happens to them.

A change is described by what it does to the provider's ``Hours`` (a function from the
hours before to the hours after) and how it is written (a function that changes the
rows). ``apply_change`` runs both inside one transaction that holds the provider's
calendar still, so the bookings it checks are the bookings there are when it saves.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import JOIN

from models import (
    Booking,
    BookingStatus,
    DateOverride,
    Provider,
    Service,
    TimeOff,
    User,
    WeeklyHours,
    db,
    is_sqlite,
)
from scheduling import DateOverride as Override
from scheduling import Interval, WeeklyRule, working_intervals
from scheduling.localtime import local_date
from scheduling.slots import merge
from services.booking import appointments as bookings
from services.errors import DomainError
from services.notifications.outbox import Dispatch

KEEP, CANCEL = "keep", "cancel"
MESSAGE_LIMIT = 1000
NEED_MESSAGE = "Write the message the customers will get: why their booking is cancelled."


@dataclass(frozen=True)
class Hours:
    """What decides a provider's working time from today on."""

    rules: tuple[WeeklyRule, ...] = ()
    overrides: tuple[Override, ...] = ()
    time_off: tuple[Interval, ...] = ()


@dataclass(frozen=True)
class Decision:
    """What the staff member chose for the bookings they were shown (``seen``)."""

    choice: str | None = None  # KEEP or CANCEL
    message: str = ""
    seen: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Edit:
    """Who changes the hours and when, what they chose for the bookings shown, and where
    the notices of bookings cancelled go."""

    actor_id: int
    now: datetime
    decision: Decision = Decision()
    dispatch: Dispatch = field(kw_only=True)


@dataclass(frozen=True)
class Outcome:
    kept: int = 0
    cancelled: int = 0


class NeedsDecision(DomainError):
    """The change would orphan ``bookings``: ask what to do with them. ``problems`` are
    field messages about the decision itself (a cancellation without a message);
    ``changed`` says the bookings are not the ones shown before."""

    code = "needs_decision"

    def __init__(
        self, bookings: list[Booking], problems: dict[str, str] | None = None, changed=False
    ) -> None:
        super().__init__("This change leaves bookings outside working time.")
        self.bookings = bookings
        self.problems = problems or {}
        self.changed = changed


def apply_change(
    provider: Provider,
    edit: Edit,
    change: Callable[[Hours], Hours],
    write: Callable[[], None],
) -> Outcome:
    """Write a change to ``provider``'s hours unless it orphans bookings nobody decided
    about; cancel them with the message in the same transaction when that was the choice
    (their customers are told through ``edit.dispatch`` once it has committed)."""
    tz, now, decision = ZoneInfo(provider.organisation.timezone), edit.now, edit.decision
    cancelled = Dispatch()
    with _calendar_held(provider.id):
        before = current_hours(provider.id, tz, now)
        orphans = newly_orphaned(future_bookings(provider.id, now), before, change(before), tz)
        _check(orphans, decision)
        write()
        if orphans and decision.choice == CANCEL:
            reason = decision.message.strip()
            for orphan in orphans:
                bookings.cancel(
                    booking_id=orphan.id,
                    actor_id=edit.actor_id,
                    now=now,
                    reason=reason,
                    dispatch=cancelled,
                )
    edit.dispatch.merge(cancelled)
    if orphans and decision.choice == CANCEL:
        return Outcome(cancelled=len(orphans))
    return Outcome(kept=len(orphans))


def _check(orphans: list[Booking], decision: Decision) -> None:
    if not orphans:
        return
    if decision.choice not in (KEEP, CANCEL):
        raise NeedsDecision(orphans)
    if not {b.id for b in orphans} <= decision.seen:
        raise NeedsDecision(orphans, changed=True)  # somebody booked meanwhile
    if decision.choice == CANCEL:
        message = decision.message.strip()
        if not message:
            raise NeedsDecision(orphans, {"message": NEED_MESSAGE})
        if len(message) > MESSAGE_LIMIT:
            raise NeedsDecision(orphans, {"message": f"Use at most {MESSAGE_LIMIT} characters."})


@contextmanager
def _calendar_held(provider_id: int):
    """A transaction in which nobody else books, cancels or moves this provider's bookings.

    SQLite: the write lock, taken first. PostgreSQL: the provider's row, which booking,
    cancelling and moving lock first too (services.booking.appointments), so they wait for us.
    """
    with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
        if not is_sqlite():
            list(
                Provider.select(Provider.id)
                .where(Provider.id == provider_id)
                .for_update("FOR NO KEY UPDATE")
            )
        yield


def current_hours(provider_id: int, tz: ZoneInfo, now: datetime) -> Hours:
    """The provider's weekly rules, and the overrides and time off that matter from now on."""
    rules = tuple(
        WeeklyRule(r.weekday, as_time(r.start_time), as_time(r.end_time))
        for r in WeeklyHours.select().where(WeeklyHours.provider == provider_id)
    )
    days: dict[date, list[tuple[time, time]]] = defaultdict(list)
    since = local_date(now, tz) - timedelta(days=1)
    for row in DateOverride.select().where(
        (DateOverride.provider == provider_id) & (DateOverride.day >= since)
    ):
        hours = days[as_date(row.day)]  # a row without times closes the day
        if row.start_time is not None:
            hours.append((as_time(row.start_time), as_time(row.end_time)))
    time_off = tuple(
        Interval(t.start_at, t.end_at)
        for t in TimeOff.select().where((TimeOff.provider == provider_id) & (TimeOff.end_at > now))
    )
    overrides = tuple(Override(day, tuple(sorted(h))) for day, h in sorted(days.items()))
    return Hours(rules, overrides, time_off)


def future_bookings(provider_id: int, now: datetime) -> list[Booking]:
    """The provider's confirmed bookings that start after ``now``, with customer and service."""
    return list(
        Booking.select(Booking, Service, User)
        .join(Service)
        .switch(Booking)
        .join(User, JOIN.LEFT_OUTER, on=Booking.customer)
        .where(
            (Booking.provider == provider_id)
            & (Booking.status == BookingStatus.CONFIRMED)
            & (Booking.start_at > now)
        )
        .order_by(Booking.start_at)
    )


def newly_orphaned(
    found: list[Booking], before: Hours, after: Hours, tz: ZoneInfo
) -> list[Booking]:
    """Bookings that lie inside working time under ``before`` and not under ``after``.

    One already outside working time (kept when an earlier change was saved, or booked
    by staff outside hours on purpose) is not asked about again.
    """
    if not found:
        return []
    first = min(local_date(b.start_at, tz) for b in found) - timedelta(days=1)
    last = max(local_date(b.end_at, tz) for b in found) + timedelta(days=1)
    was, will = _Working(before, first, last, tz), _Working(after, first, last, tz)
    spans = [(b, Interval(b.start_at, b.end_at)) for b in found]
    return [b for b, span in spans if was.fits(span) and not will.fits(span)]


@dataclass
class _Working:
    """Working time on local days first..last, less time off, for looking bookings up."""

    hours: Hours
    first: date
    last: date
    tz: ZoneInfo
    work: list[Interval] = field(init=False)
    off: list[Interval] = field(init=False)

    def __post_init__(self) -> None:
        h = self.hours
        self.work = working_intervals(h.rules, h.overrides, self.first, self.last, self.tz)
        self.off = merge(h.time_off)

    def fits(self, span: Interval) -> bool:
        """Inside one working interval, and touching no time off."""
        return _within(span, self.work) and not _overlaps(span, self.off)


def _within(span: Interval, intervals: list[Interval]) -> bool:
    i = bisect_right([w.start for w in intervals], span.start)
    return bool(i) and intervals[i - 1].contains(span)


def _overlaps(span: Interval, intervals: Iterable[Interval]) -> bool:
    return any(span.overlaps(other) for other in intervals)


def as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)

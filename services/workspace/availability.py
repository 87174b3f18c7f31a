"""A provider's availability: weekly hours, date overrides and time off.

Hours are the organisation's wall-clock time. Every change goes through
services.workspace.orphans.apply_change, so none of them silently leaves a booking outside
working time. Input arrives as typed (strings); problems are reported per form field.

Time off is entered in local time and stored in UTC. A local time that does not exist
(skipped when the clocks go forward) is refused with a message rather than moved, so
nobody is off at a time they did not type; an ambiguous one (the hour repeated when
the clocks go back) starts at its first occurrence and ends at its second, keeping the
whole of what was typed. An "all day" range runs from the first day's midnight to the
midnight after the last day (a midnight that does not exist means the clocks' jump).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models import DateOverride, Provider, TimeOff, WeeklyHours, db
from scheduling import DateOverride as Override
from scheduling import Interval, WeeklyRule
from scheduling.localtime import boundary, instants, local_date, offset_at
from services import audit
from services.errors import Invalid, NotFound
from services.workspace.orphans import Edit, Hours, Outcome, apply_change, as_date, as_time

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
YEARS_AHEAD = 5
REASON_LIMIT = 200
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


@dataclass(frozen=True)
class TypedInterval:
    """One row of a form: ``field`` names it (e.g. "mon-0"), so problems are reported
    on "<field>-start" and "<field>-end"."""

    field: str
    start: str | None
    end: str | None


@dataclass(frozen=True)
class TypedTimeOff:
    start_date: str | None
    start_time: str | None
    end_date: str | None
    end_time: str | None
    all_day: bool = False
    reason: str | None = ""


@dataclass(frozen=True)
class OverrideDay:
    day: date
    hours: tuple[tuple[time, time], ...]  # empty: closed all day


@dataclass(frozen=True)
class TimeOffRange:
    id: int
    start_at: datetime
    end_at: datetime
    reason: str
    all_day: bool
    first_day: date
    last_day: date


def _tz(provider: Provider) -> ZoneInfo:
    return ZoneInfo(provider.organisation.timezone)


# Reading ---------------------------------------------------------------------------


def weekly_hours(provider: Provider) -> dict[int, list[tuple[time, time]]]:
    """Each weekday's intervals (0 = Monday), in order; a closed day has none."""
    week: dict[int, list[tuple[time, time]]] = {day: [] for day in range(7)}
    for row in WeeklyHours.select().where(WeeklyHours.provider == provider.id):
        week[row.weekday].append((as_time(row.start_time), as_time(row.end_time)))
    return {day: sorted(hours) for day, hours in week.items()}


def upcoming_overrides(provider: Provider, today: date) -> list[OverrideDay]:
    days: dict[date, list[tuple[time, time]]] = {}
    for row in DateOverride.select().where(
        (DateOverride.provider == provider.id) & (DateOverride.day >= today)
    ):
        hours = days.setdefault(as_date(row.day), [])
        if row.start_time is not None:
            hours.append((as_time(row.start_time), as_time(row.end_time)))
    return [OverrideDay(day, tuple(sorted(h))) for day, h in sorted(days.items())]


def upcoming_time_off(provider: Provider, now: datetime) -> list[TimeOffRange]:
    tz = _tz(provider)
    found = []
    for row in (
        TimeOff.select()
        .where((TimeOff.provider == provider.id) & (TimeOff.end_at > now))
        .order_by(TimeOff.start_at)
    ):
        start, end = row.start_at.astimezone(tz), row.end_at.astimezone(tz)
        all_day = start.time() == end.time() == time(0)
        last = (end - timedelta(days=1)).date() if all_day else end.date()
        found.append(
            TimeOffRange(row.id, row.start_at, row.end_at, row.reason, all_day, start.date(), last)
        )
    return found


# Weekly hours ----------------------------------------------------------------------


def save_week(
    provider: Provider,
    week: dict[int, Sequence[TypedInterval]],
    edit: Edit,
    *,
    opened: Mapping[int, str] | None = None,
) -> Outcome:
    """Replace the provider's weekly hours with ``week`` (weekday → rows typed; a closed
    day has none). ``opened`` names the days said to be open (weekday → the field that
    said so): each needs hours."""
    opened = opened or {}
    problems: dict[str, str] = {}
    rules: list[WeeklyRule] = []
    for weekday in range(7):
        try:
            hours = clean_intervals(week.get(weekday, ()))
        except Invalid as exc:
            problems |= exc.fields
        else:
            if not hours and weekday in opened:
                name = WEEKDAYS[weekday]
                problems[opened[weekday]] = f"Give the hours for {name}, or turn {name} off."
            rules += [WeeklyRule(weekday, start, end) for start, end in hours]
    if problems:
        raise Invalid(problems)

    def write() -> None:
        before = weekly_hours(provider)
        WeeklyHours.delete().where(WeeklyHours.provider == provider.id).execute()
        for r in rules:
            WeeklyHours.create(
                provider=provider.id, weekday=r.weekday, start_time=r.start, end_time=r.end
            )
        _audit_week(provider, edit, before, weekly_hours(provider))

    return apply_change(provider, edit, lambda before: replace(before, rules=tuple(rules)), write)


def clean_intervals(rows: Sequence[TypedInterval]) -> tuple[tuple[time, time], ...]:
    """The intervals typed, in order; blank rows are left out. Both ends are needed, the
    end after the start, and no two intervals may overlap (touching is fine)."""
    problems: dict[str, str] = {}
    good: list[tuple[time, time, str]] = []
    for row in rows:
        if not (row.start or "").strip() and not (row.end or "").strip():
            continue
        opens = _clock(row.start, f"{row.field}-start", problems, "Give a start time.")
        closes = _clock(row.end, f"{row.field}-end", problems, "Give an end time.")
        if opens is None or closes is None:
            continue
        if closes <= opens:
            problems[f"{row.field}-end"] = "The end must be after the start."
            continue
        good.append((opens, closes, row.field))
    good.sort()
    latest: tuple[time, time] | None = None  # of the intervals so far, the one ending last
    for opens, closes, name in good:
        if latest and opens < latest[1]:
            problems[f"{name}-start"] = (
                f"Overlaps {latest[0]:%H:%M}–{latest[1]:%H:%M}: a day's intervals may not overlap."
            )
        if latest is None or closes > latest[1]:
            latest = (opens, closes)
    if problems:
        raise Invalid(problems)
    return tuple((opens, closes) for opens, closes, _ in good)


def _clock(typed: str | None, name: str, problems: dict[str, str], missing: str) -> time | None:
    text = (typed or "").strip()
    if not text:
        problems[name] = missing
        return None
    found = _TIME.fullmatch(text)
    if found and int(found[1]) < 24 and int(found[2]) < 60 and int(found[3] or 0) < 60:
        return time(int(found[1]), int(found[2]))
    problems[name] = "Give a time as HH:MM, like 09:30."
    return None


# Date overrides --------------------------------------------------------------------


def add_override(
    provider: Provider,
    day_typed: str | None,
    closed: bool,
    rows: Sequence[TypedInterval],
    edit: Edit,
) -> Outcome:
    """Set the provider's hours on one date, replacing any override already there:
    ``closed`` all day, or the intervals typed in ``rows``."""
    problems: dict[str, str] = {}
    today = local_date(edit.now, _tz(provider))
    day = _day(day_typed, "day", problems, "Choose a date.", today, "Choose today or a later date.")
    hours: tuple[tuple[time, time], ...] = ()
    if not closed:
        try:
            hours = clean_intervals(rows)
        except Invalid as exc:
            problems |= exc.fields
        else:
            if not hours:
                problems["kind"] = "Give the hours for that date, or choose closed all day."
    if problems or day is None:
        raise Invalid(problems)

    def write() -> None:
        DateOverride.delete().where(
            (DateOverride.provider == provider.id) & (DateOverride.day == day)
        ).execute()
        for opens, closes in hours or [(None, None)]:
            DateOverride.create(provider=provider.id, day=day, start_time=opens, end_time=closes)
        _audit(
            provider,
            edit,
            "hours.date_set",
            f"Set {provider.name}'s hours on {_date(day)}: {_hours(hours)}.",
        )

    return apply_change(provider, edit, lambda before: _with_override(before, day, hours), write)


def delete_override(provider: Provider, day: date, edit: Edit) -> Outcome:
    """Go back to the weekly hours on ``day``. Nothing there to delete is not an error:
    the date is as asked either way (a second tap, or another tab, got there first)."""

    def write() -> None:
        removed = (
            DateOverride.delete()
            .where((DateOverride.provider == provider.id) & (DateOverride.day == day))
            .execute()
        )
        if removed:
            _audit(
                provider,
                edit,
                "hours.date_cleared",
                f"Removed {provider.name}'s special hours on {_date(day)}: the weekly hours apply.",
            )

    return apply_change(provider, edit, lambda before: _with_override(before, day, None), write)


def _with_override(before: Hours, day: date, hours: tuple | None) -> Hours:
    """``before`` with the override on ``day`` replaced by ``hours`` (None: removed)."""
    kept = tuple(o for o in before.overrides if o.day != day)
    added = () if hours is None else (Override(day, hours),)
    return replace(before, overrides=kept + added)


def _day(
    typed: str | None, name: str, problems: dict, missing: str, earliest: date, too_early: str
) -> date | None:
    text = (typed or "").strip()
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        problems[name] = "Give a date as YYYY-MM-DD."
        return None
    if day is None:
        problems[name] = missing
    elif day < earliest:
        problems[name] = too_early
    elif day > earliest + timedelta(days=366 * YEARS_AHEAD):
        problems[name] = f"Choose a date in the next {YEARS_AHEAD} years."
    else:
        return day
    return None


# Time off --------------------------------------------------------------------------


def add_time_off(provider: Provider, typed: TypedTimeOff, edit: Edit) -> Outcome:
    """Block a range of time: from a local date and time to another, or whole days."""
    span, reason = clean_time_off(typed, _tz(provider), edit.now)

    def write() -> None:
        TimeOff.create(provider=provider.id, start_at=span.start, end_at=span.end, reason=reason)
        _audit(
            provider,
            edit,
            "hours.time_off_added",
            f"Added time off for {provider.name}: {_span_words(span, _tz(provider))}"
            + (f" ({reason})." if reason else "."),
        )

    return apply_change(
        provider, edit, lambda before: replace(before, time_off=(*before.time_off, span)), write
    )


def clean_time_off(typed: TypedTimeOff, tz: ZoneInfo, now: datetime) -> tuple[Interval, str]:
    """The UTC range and the reason typed; Invalid names each field that is wrong."""
    problems: dict[str, str] = {}
    recent, old = local_date(now, tz) - timedelta(days=366), "Choose a more recent date."
    first = _day(typed.start_date, "start_date", problems, "Choose the first day.", recent, old)
    last = _day(typed.end_date, "end_date", problems, "Choose the last day.", recent, old)
    reason = " ".join((typed.reason or "").split())
    if len(reason) > REASON_LIMIT:
        problems["reason"] = f"Use at most {REASON_LIMIT} characters."
    span = _span(typed, first, last, tz, problems)
    # Started earlier is fine ("off since this morning"); over already is not.
    if span is not None and span.end <= now:
        problems["end_date"] = "This time is already over: choose a range that ends later."
    if problems or span is None:
        raise Invalid(problems)
    return span, reason


def _span(
    typed: TypedTimeOff, first: date | None, last: date | None, tz: ZoneInfo, problems: dict
) -> Interval | None:
    """The range typed, in UTC; None when part of it is missing or wrong."""
    if typed.all_day:
        if first is None or last is None:
            return None
        if last < first:
            problems["end_date"] = "The last day can't be before the first."
            return None
        midnight = time(0)
        return Interval(
            boundary(first, midnight, tz, closing=False),
            boundary(last + timedelta(days=1), midnight, tz, closing=False),
        )
    opens = _clock(typed.start_time, "start_time", problems, "Give the start time.")
    closes = _clock(typed.end_time, "end_time", problems, "Give the end time.")
    if None in (first, last, opens, closes):
        return None
    start = _instant(first, opens, tz, "start_time", problems, closing=False)
    end = _instant(last, closes, tz, "end_time", problems, closing=True)
    if start is None or end is None:
        return None
    if end <= start:
        problems["end_time"] = "The end must be after the start."
        return None
    return Interval(start, end)


def _instant(
    day: date, wall: time, tz: ZoneInfo, name: str, problems: dict[str, str], *, closing: bool
) -> datetime | None:
    """The UTC instant of ``wall`` on ``day``; see the module's note for the DST edges."""
    found = instants(datetime.combine(day, wall), tz)
    if found:
        return found[-1] if closing else found[0]
    jump = boundary(day, wall, tz, closing=False)  # when the clocks jump past ``wall``
    after = jump.astimezone(tz)
    before = after - (offset_at(jump, tz) - offset_at(jump - timedelta(seconds=1), tz))
    gap = f"{before:%H:%M} to {after:%H:%M}"
    problems[name] = (
        f"{wall:%H:%M} does not exist on {day:%a} {day.day} {day:%b}: the clocks go forward "
        f"from {gap}. Choose a time before {before:%H:%M} or from {after:%H:%M}."
    )
    return None


def delete_time_off(provider: Provider, time_off_id: int, actor_id: int, now: datetime) -> None:
    """Remove one of the provider's time off ranges (it frees time: nothing is orphaned)."""
    mine = (TimeOff.id == time_off_id) & (TimeOff.provider == provider.id)
    with db.atomic():
        found = TimeOff.get_or_none(mine)
        if found is None or not TimeOff.delete().where(mine).execute():
            raise NotFound("No such time off.")
        span = _span_words(Interval(found.start_at, found.end_at), _tz(provider))
        audit.record(
            provider.organisation_id,
            actor_id,
            "hours.time_off_removed",
            f"Removed {provider.name}'s time off: {span}.",
            now,
            subject=("provider", provider.id),
        )


# The audit log -----------------------------------------------------------------------


def _audit(provider: Provider, edit: Edit, action: str, summary: str, **detail) -> None:
    subject = ("provider", provider.id)
    audit.record(
        provider.organisation_id,
        edit.actor_id,
        action,
        summary,
        edit.now,
        subject=subject,
        detail=detail,
    )


def _audit_week(provider: Provider, edit: Edit, before: dict, after: dict) -> None:
    changes = {
        WEEKDAYS[day]: [_hours(before[day]), _hours(after[day])]
        for day in range(7)
        if before[day] != after[day]
    }
    if changes:
        days = ", ".join(changes)
        _audit(
            provider,
            edit,
            "hours.weekly",
            f"Changed {provider.name}'s weekly hours: {days}.",
            changes=changes,
        )


def _hours(intervals) -> str:
    """ "09:00–13:00, 14:00–17:00", or "closed"."""
    return ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in intervals) or "closed"


def _date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _span_words(span: Interval, tz: ZoneInfo) -> str:
    """ "Mon 7 Dec 2026 09:00 – Tue 8 Dec 2026 17:00", in local time."""
    start, end = span.start.astimezone(tz), span.end.astimezone(tz)
    return f"{_date(start.date())} {start:%H:%M} – {_date(end.date())} {end:%H:%M}"

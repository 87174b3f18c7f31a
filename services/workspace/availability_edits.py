"""Edits to the weekly hours as typed, before they are saved: a break added to a day, an
interval removed, a day's hours copied to the other weekdays.

The form asks for these with buttons, so they work without JavaScript. Nothing is
checked or saved here (that is availability.save_week, when the hours are saved), and
what was typed, even half typed, is kept as it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.errors import Invalid
from services.workspace.availability import WEEKDAYS

BREAK = 60  # minutes: the break put into an interval
SHORTEST = 30  # minutes: neither part of a split interval is shorter
WORKDAYS = range(5)  # Monday to Friday
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::\d{2})?")


@dataclass(frozen=True)
class TypedDay:
    open: bool
    rows: tuple[tuple[str, str], ...]  # (start, end) as typed


Week = Sequence[TypedDay]  # Monday first


@dataclass(frozen=True)
class Edited:
    week: tuple[TypedDay, ...]
    said: str  # what was done, in words
    row: int | None = None  # the interval to go on typing in, if one was added


def add_break(week: Week, day: int) -> Edited:
    """Split the day's longest interval with an hour's break in its middle (09:00–17:00
    becomes 09:00–13:00 and 14:00–17:00). When none is long enough, add an empty
    interval to type in."""
    rows, name = list(week[day].rows), WEEKDAYS[day]
    spans = {i: span for i, row in enumerate(rows) if (span := _span(row)) is not None}
    longest = max(spans, key=lambda i: spans[i][1] - spans[i][0], default=None)
    cut = None if longest is None else _break_in(*spans[longest])
    if longest is None or cut is None:
        rows.append(("", ""))
        said, row = f"An interval added on {name}", len(rows) - 1
    else:
        start, end = rows[longest]
        rows[longest : longest + 1] = [(start, _clock(cut)), (_clock(cut + BREAK), end)]
        said = f"A break {_clock(cut)}–{_clock(cut + BREAK)} added on {name}"
        row = longest + 1
    return Edited(_with(week, day, TypedDay(True, tuple(rows))), said, row)


def remove_interval(week: Week, day: int, index: int) -> Edited:
    """Take one interval out of the day; the day's last one closes it."""
    rows = list(week[day].rows)
    if not 0 <= index < len(rows):
        raise Invalid({"edit": "That interval is no longer there: nothing was changed."})
    start, end = rows.pop(index)
    what = f"{start}–{end}" if start and end else "an empty interval"
    return Edited(
        _with(week, day, TypedDay(bool(rows), tuple(rows))), f"Removed {what} on {WEEKDAYS[day]}"
    )


def copy_to_weekdays(week: Week, day: int) -> Edited:
    """The day's hours (or its being closed) on every other day Monday to Friday."""
    others = [d for d in WORKDAYS if d != day]
    copied = tuple(week[day] if d in others else week[d] for d in range(7))
    hours = f"{WEEKDAYS[day]}'s hours" if week[day].open else f"{WEEKDAYS[day]} closed"
    return Edited(copied, f"{hours} copied to {_and(WEEKDAYS[d] for d in others)}")


def _with(week: Week, day: int, changed: TypedDay) -> tuple[TypedDay, ...]:
    return tuple(changed if d == day else week[d] for d in range(7))


def _break_in(start: int, end: int) -> int | None:
    """Where a break in start–end (minutes) starts: near the middle, on the hour if it
    can be, else on the half hour; None when the interval is too short."""
    middle = (start + end) // 2 - BREAK // 2
    for step in (60, 30):
        cut = (middle + step // 2) // step * step
        if cut - start >= SHORTEST and end - cut - BREAK >= SHORTEST:
            return cut
    return None


def _span(row: tuple[str, str]) -> tuple[int, int] | None:
    start, end = _minutes(row[0]), _minutes(row[1])
    return (start, end) if start is not None and end is not None and end > start else None


def _minutes(typed: str) -> int | None:
    found = _CLOCK.fullmatch((typed or "").strip())
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        return None
    return int(found[1]) * 60 + int(found[2])


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _and(names) -> str:
    names = list(names)
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)

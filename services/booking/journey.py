"""What the customer's booking journey shows: a month of availability and a day's slots."""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from models import Booking, Provider, Service
from scheduling import Slot
from services.booking.slots import find_slots, providers_for
from services.errors import Invalid

EARLIEST_MONTH, LATEST_MONTH = date(1900, 1, 1), date(9000, 12, 1)
PARTS_OF_DAY = (("Morning", 0, 12), ("Afternoon", 12, 17), ("Evening", 17, 24))
SOONEST_SEARCH_MONTHS = 13  # bounded work per request, however far ahead a service books


class Soonest(NamedTuple):
    """The first free time from today on, in whichever month: the "Next available" shortcut."""

    day: date
    slot: Slot


@dataclass
class Month:
    first: date
    today: date
    last_bookable: date
    free: dict[date, list[Slot]] = field(default_factory=dict)
    # Kept with the month (the picker's templates get the month, not the Picker).
    soonest: Soonest | None = None

    @property
    def weeks(self) -> list[list[date | None]]:
        """The month as weeks from Monday; None pads the first and last week."""
        return [
            [d if d.month == self.first.month else None for d in week]
            for week in calendar.Calendar(firstweekday=0).monthdatescalendar(
                self.first.year, self.first.month
            )
        ]

    @property
    def previous(self) -> date | None:
        prev = (self.first - timedelta(days=1)).replace(day=1)
        return prev if prev >= self.today.replace(day=1) else None

    @property
    def next(self) -> date | None:
        following = (self.first + timedelta(days=32)).replace(day=1)
        return following if following <= self.last_bookable else None

    def first_free_day(self) -> date | None:
        return min(self.free, default=None)


def parse_month(value: str | None, today: date) -> date:
    if not value:
        return today.replace(day=1)
    try:
        first = date.fromisoformat(f"{value}-01")
    except ValueError:
        raise Invalid({"month": "Give a month as YYYY-MM."}) from None
    if not EARLIEST_MONTH <= first <= LATEST_MONTH:  # the weeks around it must exist too
        raise Invalid({"month": "Give a month between 1900 and 9000."})
    return first


def provider_choice(value: str | None, service: Service) -> Provider | None:
    """The provider a customer picked, or None for anyone available."""
    if value in (None, "", "any"):
        return None
    # ASCII digits only ("²" is a digit to isdigit(), not to int()), and few enough of
    # them to fit the database's integer.
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise Invalid({"provider": "No such provider."})
    return providers_for(service, int(value))[0]


def month_availability(
    service: Service,
    month_first: date,
    now: datetime,
    provider_id: int | None,
    ignore_booking: int | None = None,
) -> Month:
    tz = ZoneInfo(service.organisation.timezone)
    today = now.astimezone(tz).date()
    last_bookable = today + timedelta(days=service.max_days_ahead)
    month = Month(month_first, today, last_bookable)
    days_in_month = calendar.monthrange(month_first.year, month_first.month)[1]
    first = max(month_first, today)
    last = min(month_first.replace(day=days_in_month), last_bookable)
    if first > last:
        return month
    free = defaultdict(list)
    found = find_slots(
        service, first, last, now, provider_id=provider_id, ignore_booking=ignore_booking
    )
    for slot in found:
        free[slot.start.astimezone(tz).date()].append(slot)
    month.free = dict(free)
    return month


def by_part_of_day(slots: list[Slot], tz: ZoneInfo) -> list[tuple[str, list[Slot]]]:
    """Slots grouped as morning, afternoon and evening in local time; empty parts left out."""
    groups = []
    for label, start_hour, end_hour in PARTS_OF_DAY:
        part = [s for s in slots if start_hour <= s.start.astimezone(tz).hour < end_hour]
        if part:
            groups.append((label, part))
    return groups


@dataclass
class Picker:
    """What the day-and-time picker shows: a month, the chosen day, its times by part of day."""

    month: Month
    day: date | None
    slots: list[tuple[str, list[Slot]]]


def picker(
    service: Service,
    now: datetime,
    *,
    month_asked: str | None,
    day_asked: date | None,
    provider_id: int | None,
    moving: Booking | None = None,
) -> Picker:
    """The picker for a new booking, or for ``moving`` one: then its own time counts as
    free (it may move onto where it overlaps itself), but is not offered as a move, and
    the picker opens on its day."""
    tz = ZoneInfo(service.organisation.timezone)
    today = now.astimezone(tz).date()
    if moving is not None:
        own_day = moving.start_at.astimezone(tz).date()
        month_asked = month_asked or own_day.strftime("%Y-%m")
        day_asked = day_asked or own_day
    first = max(parse_month(month_asked, today), today.replace(day=1))
    month = _free_in(service, first, now, provider_id, moving)
    if not month_asked and not month.free and month.next:  # nothing left: show next month
        month = _free_in(service, month.next, now, provider_id, moving)
    month.soonest = soonest_free(service, now, provider_id, moving, month)
    day = day_asked if day_asked in month.free else month.first_free_day()
    return Picker(month, day, by_part_of_day(month.free.get(day, []), tz))


def _free_in(
    service: Service, first: date, now: datetime, provider_id: int | None, moving: Booking | None
) -> Month:
    """A month's free times; when ``moving`` a booking, without the time it has now."""
    ignore = moving.id if moving is not None else None
    month = month_availability(service, first, now, provider_id, ignore_booking=ignore)
    if moving is not None:
        month.free = {
            d: kept
            for d, slots in month.free.items()
            if (kept := [s for s in slots if s.start != moving.start_at])
        }
    return month


def soonest_free(
    service: Service,
    now: datetime,
    provider_id: int | None,
    moving: Booking | None,
    shown: Month,
) -> Soonest | None:
    """The first free time from today to the last bookable day, month by month (``shown``
    is one of them, already looked at; the others' slots are cached by find_slots), for
    at most a year ahead."""
    first = shown.today.replace(day=1)
    for _ in range(SOONEST_SEARCH_MONTHS):
        if first > shown.last_bookable:
            break
        month = (
            shown if first == shown.first else _free_in(service, first, now, provider_id, moving)
        )
        if month.free:
            day = min(month.free)
            return Soonest(day, min(month.free[day], key=lambda s: s.start))
        first = (first + timedelta(days=32)).replace(day=1)
    return None

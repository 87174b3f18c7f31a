"""Plain values the engine works on. All instants are aware datetimes in UTC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open span of time [start, end)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty or negative interval {self.start} – {self.end}")

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True)
class WeeklyRule:
    """Working hours on one weekday (0 = Monday), in the organisation's wall-clock time."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0–6, got {self.weekday}")
        if self.end <= self.start:
            raise ValueError(f"rule ends before it starts: {self.start}–{self.end}")


@dataclass(frozen=True)
class DateOverride:
    """Replaces the weekly rules on one local date. No hours means closed all day."""

    day: date
    hours: tuple[tuple[time, time], ...] = ()

    @property
    def closed(self) -> bool:
        return not self.hours


@dataclass(frozen=True)
class ServiceRules:
    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    max_days_ahead: int = 365
    step: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise ValueError("duration must be positive")
        if self.step <= timedelta(0) or timedelta(days=1) % self.step:
            raise ValueError("step must divide a day evenly")

    def block(self, start: datetime) -> Interval:
        """The time a booking starting at ``start`` keeps the provider busy."""
        return Interval(start - self.buffer_before, start + self.duration + self.buffer_after)


@dataclass(frozen=True)
class ProviderCalendar:
    """What the engine needs to know about one provider.

    ``busy`` holds existing bookings (their blocked ranges, buffers included) and
    time off, in any order.
    """

    provider_id: int
    rules: tuple[WeeklyRule, ...]
    overrides: tuple[DateOverride, ...] = ()
    busy: tuple[Interval, ...] = field(default=())


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    provider_id: int

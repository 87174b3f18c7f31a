"""From an ICS text to the busy intervals it holds over a window of time.

recurring-ical-events expands the recurring events (RRULE and RDATE, less EXDATE, with
RECURRENCE-ID instances replacing the ones they move), in each event's own time zone, so
a weekly 09:00 stays 09:00 local across a DST change. What is left here is deciding what
counts as busy:

- an event marked free (TRANSP:TRANSPARENT) or cancelled (STATUS:CANCELLED) does not;
- an all-day event makes the whole local day busy, in the organisation's time zone;
- a time without a zone ("floating") is read in the organisation's time zone;
- an event of no length blocks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone


class Unreadable(Exception):
    """The text is not a calendar we can read: the message says so for the provider."""


@dataclass(frozen=True, order=True)
class Busy:
    start: datetime  # aware, UTC
    end: datetime
    uid: str


def busy_times(text: bytes, start: datetime, end: datetime, tz: ZoneInfo) -> list[Busy]:
    """The busy intervals of the calendar ``text`` that overlap [start, end), in order."""
    try:
        calendar = x_wr_timezone.to_standard(icalendar.Calendar.from_ical(text))
        events = recurring_ical_events.of(calendar).between(start, end)
    except Exception as exc:  # the parsers raise many kinds for a malformed calendar
        raise Unreadable("The address did not give a calendar that could be read.") from exc
    found = set()
    for event in events:
        if not _blocks(event):
            continue
        interval = _interval(event, tz)
        if interval is not None and interval[0] < end and interval[1] > start:
            found.add(Busy(*interval, str(event.get("UID", ""))))
    return sorted(found)


def _blocks(event) -> bool:
    transparent = str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
    cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
    return not transparent and not cancelled


def _interval(event, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    begins = event["DTSTART"].dt
    ends = event["DTEND"].dt if "DTEND" in event else None
    if ends is None and "DURATION" in event:
        ends = begins + event["DURATION"].dt
    if ends is None:  # RFC 5545: a date lasts the day, a date-time no time at all
        ends = begins + timedelta(days=1) if not isinstance(begins, datetime) else begins
    start, end = _instant(begins, tz), _instant(ends, tz)
    return (start, end) if end > start else None


def _instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    """A date is the start of that local day; a floating time is local time."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)

"""Busy time imported from the calendars providers already use, by their ICS address.

A provider adds an address; ``sync`` fetches it (services/calendar/fetch.py), expands its
events over the booking horizon (recurrence.py) and puts the busy times in place of the
calendar's old blocks, in one transaction. A failure keeps the old blocks (a calendar
server being down for an hour should not open up the provider's day) and is tried again
after 1, 2, 4 … minutes, at most an hour apart; a success comes back every SYNC_EVERY.
Blocks count as busy time in the slots and under the booking lock (services/booking).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from peewee import fn

from models import (
    BusyBlock,
    CalendarPush,
    ExternalCalendar,
    Organisation,
    Provider,
    Service,
    db,
    is_sqlite,
)
from services.calendar import fetch, recurrence
from services.errors import Forbidden, Invalid, NotFound

SYNC_EVERY = timedelta(minutes=15)
MAX_BACKOFF_MINUTES = 60
DEFAULT_HORIZON_DAYS = 90
NOT_A_PROVIDER = "Importing calendars is for providers: this account has no schedule."
NO_SUCH_CALENDAR = "No such calendar."


def provider_of(user_id: int) -> Provider:
    """The provider whose schedule ``user_id`` keeps; Forbidden for a customer."""
    provider = Provider.get_or_none(Provider.user == user_id)
    if provider is None:
        raise Forbidden(NOT_A_PROVIDER)
    return provider


def listed(provider_id: int) -> list[ExternalCalendar]:
    return list(
        ExternalCalendar.select()
        .where(ExternalCalendar.provider == provider_id)
        .order_by(ExternalCalendar.id)
    )


def calendar_of(provider_id: int, calendar_id: int) -> ExternalCalendar:
    """One of the provider's calendars; NotFound for anyone else's."""
    calendar = ExternalCalendar.get_or_none(
        (ExternalCalendar.id == calendar_id) & (ExternalCalendar.provider == provider_id)
    )
    if calendar is None:
        raise NotFound(NO_SUCH_CALENDAR)
    return calendar


def add(
    provider_id: int, url: object, now: datetime, allow_hosts: Iterable[str] = ()
) -> ExternalCalendar:
    """A new ICS calendar for the provider, due for its first sync now. An address that
    would not be fetched is Invalid (on the field "url"), and nothing is fetched then."""
    if isinstance(url, str) and url.strip().lower().startswith("webcal://"):
        url = "https://" + url.strip()[len("webcal://") :]  # how calendar apps share them
    try:
        fetch.checked(url.strip() if isinstance(url, str) else url, allow_hosts)
    except fetch.Refused as exc:
        raise Invalid({"url": str(exc)}) from exc
    return ExternalCalendar.create(
        provider=provider_id, kind="ics", url=url.strip(), next_try_at=now, created_at=now
    )


def remove(provider_id: int, calendar_id: int) -> None:
    """The calendar, its busy blocks and what waited to be written to it (they
    cascade). The events Kairos wrote there stay: they are the provider's now."""
    calendar = calendar_of(provider_id, calendar_id)
    with db.atomic():
        BusyBlock.delete().where(BusyBlock.calendar == calendar.id).execute()
        CalendarPush.delete().where(CalendarPush.calendar == calendar.id).execute()
        calendar.delete_instance()


def due(now: datetime) -> list[int]:
    """The calendars whose next try has come, oldest first."""
    query = (
        ExternalCalendar.select(ExternalCalendar.id)
        .where(ExternalCalendar.next_try_at <= now)
        .order_by(ExternalCalendar.next_try_at)
    )
    return [calendar.id for calendar in query]


def sync(calendar_id: int, now: datetime, allow_hosts: Iterable[str] = ()) -> ExternalCalendar:
    """Fetch the calendar and put its busy times in place; records how it went either
    way and returns the calendar as it now stands. Safe to run twice."""
    calendar = ExternalCalendar.get_or_none(ExternalCalendar.id == calendar_id)
    if calendar is None:  # removed since it was found due
        raise NotFound(NO_SUCH_CALENDAR)
    org = Organisation.select().join(Provider).where(Provider.id == calendar.provider_id).get()
    tz = ZoneInfo(org.timezone)
    try:
        fetched = fetch.fetch(
            calendar.url,
            etag=calendar.etag,
            last_modified=calendar.last_modified,
            allow_hosts=allow_hosts,
        )
        busy = None
        if fetched.body is not None:
            busy = recurrence.busy_times(fetched.body, *window(org.id, now), tz)
    except (fetch.Refused, fetch.FetchFailed, recurrence.Unreadable) as exc:
        return failed(calendar, str(exc), now)
    with one_sync_at_a_time(calendar.id):
        if busy is not None:
            replace_blocks(calendar, busy)
        succeeded(calendar.id, now, etag=fetched.etag, last_modified=fetched.last_modified)
    return ExternalCalendar.get_by_id(calendar.id)


@contextmanager
def one_sync_at_a_time(calendar_id: int) -> Iterator[None]:
    """A transaction in which no other sync of the calendar writes (the task, "sync now")."""
    with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
        if not is_sqlite():
            ExternalCalendar.select().where(ExternalCalendar.id == calendar_id).for_update().get()
        yield


def succeeded(calendar_id: int, now: datetime, **fields: object) -> None:
    """Note a sync that went through: ok, no error, next one in SYNC_EVERY."""
    ExternalCalendar.update(
        status="ok",
        last_synced_at=now,
        last_error=None,
        failures=0,
        next_try_at=now + SYNC_EVERY,
        **fields,
    ).where(ExternalCalendar.id == calendar_id).execute()


def window(organisation_id: int, now: datetime) -> tuple[datetime, datetime]:
    """From a day ago to the furthest any of the business's services can be booked."""
    days = (
        Service.select(fn.MAX(Service.max_days_ahead))
        .where(Service.organisation == organisation_id)
        .scalar()
    )
    return now - timedelta(days=1), now + timedelta(days=(days or DEFAULT_HORIZON_DAYS) + 1)


def replace_blocks(
    calendar: ExternalCalendar, busy: list[recurrence.Busy], only: set[str] | None = None
) -> None:
    """The calendar's blocks become ``busy`` (or, given ``only``, those of the events
    with these uids do: an incremental read); left alone when they are that already, so
    an unchanged calendar does not change the provider's calendar_version."""
    old = BusyBlock.select().where(BusyBlock.calendar == calendar.id)
    if only is not None:
        old = old.where(BusyBlock.uid.in_(sorted(only)))
    if sorted((b.start_at, b.end_at, b.uid) for b in old) == sorted(
        (b.start, b.end, b.uid) for b in busy
    ):
        return
    gone = BusyBlock.delete().where(BusyBlock.calendar == calendar.id)
    if only is not None:
        gone = gone.where(BusyBlock.uid.in_(sorted(only)))
    gone.execute()
    rows = [
        {
            "calendar": calendar.id,
            "provider": calendar.provider_id,
            "start_at": b.start,
            "end_at": b.end,
            "uid": b.uid,
        }
        for b in busy
    ]
    for start in range(0, len(rows), 500):
        BusyBlock.insert_many(rows[start : start + 500]).execute()


def failed(calendar: ExternalCalendar, message: str, now: datetime) -> ExternalCalendar:
    """Record the failure; the old blocks stay. Next try after ``backoff``."""
    failures = calendar.failures + 1
    ExternalCalendar.update(
        status="error",
        last_error=message,
        failures=failures,
        next_try_at=now + backoff(failures),
    ).where(ExternalCalendar.id == calendar.id).execute()
    return ExternalCalendar.get_by_id(calendar.id)


def backoff(failures: int) -> timedelta:
    """How long to wait after ``failures`` in a row: 1, 2, 4 … minutes, at most
    MAX_BACKOFF_MINUTES."""
    return timedelta(minutes=min(2 ** min(failures - 1, 6), MAX_BACKOFF_MINUTES))

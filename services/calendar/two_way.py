"""Two-way calendars: a provider's CalDAV (iCloud, Fastmail, Nextcloud …), Google or
Microsoft 365 calendar, which Kairos writes its bookings to and reads busy time from.

Connecting: ``add_caldav`` (the calendar's URL, a username and an app password) or, for
Google and Microsoft, ``consent`` then ``connected`` (OAuth 2 with PKCE; a second
consent for a calendar whose token was revoked reconnects it). Secrets are encrypted at
rest (models.EncryptedTextField). The provider's upcoming bookings are queued at once.

Writing: the outbox (services/calendar/outbox.py) says which appointments changed;
``push`` writes each as it now stands (moved, renamed, or deleted when cancelled or
moved to a colleague) and removes its row, or leaves it to be tried again after
imports.backoff. Kairos addresses only events it made (its own names and ids).

Reading: ``sync`` writes what waits and then reads what changed in the calendar since
the last time (sync-token, syncToken, delta link), everything once a day (FULL_READ_EVERY,
so a recurring event is expanded into the days that come into the booking horizon),
and replaces the busy blocks of the events that changed. A refused token puts the
calendar in the "reconnect" state: shown to the provider, not tried again until they
give consent again. Other failures are tried again with backoff; nothing is lost.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from config import Settings
from models import (
    Booking,
    BookingStatus,
    CalendarPush,
    ExternalCalendar,
    Organisation,
    Provider,
    User,
    db,
)
from services.booking import calendar_links
from services.calendar import caldav, fetch, google, imports, microsoft, oauth, outbox, recurrence
from services.errors import Invalid, NotFound

FULL_READ_EVERY = timedelta(days=1)
NOT_UNTIL_RECONNECTED = timedelta(days=3650)  # a calendar waiting for consent is not tried
OAUTH_KINDS = {"google": google, "microsoft": microsoft}
KIND_NAMES = {"caldav": "CalDAV", "google": "Google Calendar", "microsoft": "Outlook"}
RECONNECT = "{name} no longer lets Kairos in. Connect it again to keep it in sync."
FAILURES = (
    caldav.CalDavError,
    oauth.CalendarApiError,
    fetch.Refused,
    fetch.FetchFailed,
    recurrence.Unreadable,
)


# Connecting ------------------------------------------------------------------------


def add_caldav(
    provider_id: int,
    url: object,
    username: object,
    password: object,
    now: datetime,
    allow_hosts: Iterable[str] = (),
    show_names: bool = False,
) -> ExternalCalendar:
    """A CalDAV calendar for the provider (the URL of the calendar collection), due for
    its first sync now; Invalid, on the fields given wrong, and nothing fetched then."""
    problems = {}
    url = url.strip() if isinstance(url, str) else url
    try:
        address = fetch.checked(url, allow_hosts)
    except fetch.Refused as exc:
        problems["url"] = str(exc).replace("(an ICS link)", "(the calendar's CalDAV link)")
    if not isinstance(username, str) or not username.strip():
        problems["username"] = "Give the username you sign in to that calendar with."
    if not isinstance(password, str) or not password:
        problems["password"] = "Give an app password made for Kairos in that account."
    if problems:
        raise Invalid(problems)
    if not url.endswith("/"):  # a collection; its events' names are joined onto it
        url += "/"
    with db.atomic():
        calendar = ExternalCalendar.create(
            provider=provider_id,
            kind="caldav",
            url=url,
            name=address.host,
            username=username.strip(),
            secret=password,
            show_names=bool(show_names),
            next_try_at=now,
            created_at=now,
        )
        _queue_upcoming(calendar, now)
    return calendar


@dataclass(frozen=True)
class Consent:
    """Where to send the provider to agree, and what to keep until they come back."""

    url: str
    state: str
    verifier: str


def consent(kind: str, settings: Settings, redirect_uri: str) -> Consent:
    """The consent page of Google or Microsoft for calendar access."""
    state = secrets.token_urlsafe(24)
    url, verifier = oauth.authorize_url(_api(kind).provider(settings), state, redirect_uri)
    return Consent(url, state, verifier)


def configured(kind: str, settings: Settings) -> bool:
    """Whether the deployment has an OAuth client for ``kind`` (else it is not offered)."""
    return bool(_api(kind).provider(settings).client_id)


def connected(
    provider_id: int,
    kind: str,
    code: str,
    verifier: str,
    redirect_uri: str,
    settings: Settings,
    now: datetime,
    calendar_id: int | None = None,
) -> ExternalCalendar:
    """The provider agreed: the code is traded for tokens and their default calendar
    is connected (or, with ``calendar_id``, that calendar is connected again)."""
    api = _api(kind)
    tokens = oauth.exchange(api.provider(settings), code, redirect_uri, verifier, now)
    if not tokens.refresh:
        raise oauth.CalendarApiError("no refresh token came with the consent")
    if kind == "microsoft":
        remote_id, name = microsoft.default_calendar(settings, tokens.access)
    else:
        remote_id, name = "primary", "Google Calendar"
    secrets_now = {
        "secret": tokens.refresh,
        "access_token": tokens.access,
        "access_expires_at": tokens.expires_at,
    }
    with db.atomic():
        if calendar_id is not None:
            calendar = imports.calendar_of(provider_id, calendar_id)
            ExternalCalendar.update(
                **secrets_now,
                reconnect=False,
                status="new",
                last_error=None,
                failures=0,
                next_try_at=now,
            ).where(ExternalCalendar.id == calendar.id).execute()
            CalendarPush.update(next_try_at=now).where(
                CalendarPush.calendar == calendar.id
            ).execute()
            return ExternalCalendar.get_by_id(calendar.id)
        calendar = ExternalCalendar.create(
            provider=provider_id,
            kind=kind,
            url=f"{_base(kind, settings)}/{remote_id}",
            name=name,
            remote_id=remote_id,
            next_try_at=now,
            created_at=now,
            **secrets_now,
        )
        _queue_upcoming(calendar, now)
    return calendar


def show_names(provider_id: int, calendar_id: int, show: bool, now: datetime) -> ExternalCalendar:
    """Whether the events written to the calendar carry customers' names; the upcoming
    ones are written again with the new titles."""
    calendar = imports.calendar_of(provider_id, calendar_id)
    if calendar.kind == "ics":
        raise Invalid({"show_names": "Nothing is written to a calendar read by its address."})
    if calendar.show_names == show:
        return calendar
    with db.atomic():
        ExternalCalendar.update(show_names=show).where(ExternalCalendar.id == calendar.id).execute()
        _queue_upcoming(calendar, now)
    return ExternalCalendar.get_by_id(calendar.id)


def _queue_upcoming(calendar: ExternalCalendar, now: datetime) -> None:
    """Every booking of the provider's still to come goes to the new calendar."""
    upcoming = Booking.select().where(
        (Booking.provider == calendar.provider_id)
        & (Booking.end_at > now)
        & Booking.status.in_(SHOWN)
    )
    known = {booking.id: booking for booking in upcoming}
    firsts = {calendar_links.lineage(booking, known)[0] for booking in known.values()}
    outbox.queue([calendar.id], sorted(firsts), now)


# Writing ---------------------------------------------------------------------------

SHOWN = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


@dataclass
class Remote:
    """One connection, opened: the calendar and how to talk to it now."""

    calendar: ExternalCalendar
    settings: Settings
    access: str = ""  # OAuth kinds
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def caldav(self) -> caldav.Calendar:
        return caldav.Calendar(self.calendar.url, self.calendar.username, self.calendar.secret)


def push(calendar_id: int, settings: Settings, now: datetime, everything: bool = False) -> int:
    """Write the calendar's due appointments (``everything``: all waiting); how many
    were written. A failure is noted on the calendar and the rows wait for their next
    try; a refused token puts the calendar in the reconnect state."""
    calendar = ExternalCalendar.get_or_none(ExternalCalendar.id == calendar_id)
    if calendar is None or calendar.reconnect or calendar.kind == "ics":
        return 0
    rows = _waiting(calendar.id, now, everything)
    if not rows:
        return 0
    try:
        remote = _open(calendar, settings, now)
    except oauth.Reconnect:
        _needs_consent(calendar, now)
        return 0
    except FAILURES as exc:  # the token endpoint, say: the rows wait as for any failure
        _wait(rows, _push_failed(calendar, exc), now)
        return 0
    try:
        return _push(remote, rows, now)
    except oauth.Reconnect:
        _needs_consent(calendar, now)
    except FAILURES:
        pass  # noted on the calendar and the rows by _push
    finally:
        remote.session.close()
    return 0


def _waiting(calendar_id: int, now: datetime, everything: bool) -> list[CalendarPush]:
    rows = CalendarPush.select().where(CalendarPush.calendar == calendar_id)
    if not everything:
        rows = rows.where(CalendarPush.next_try_at <= now)
    return list(rows.order_by(CalendarPush.id))


def _push(remote: Remote, rows: list[CalendarPush], now: datetime) -> int:
    """Write ``rows`` in order; at the first failure, it and the rest wait (and the
    calendar says why) and the failure is raised."""
    for done, row in enumerate(rows):
        try:
            _write(remote, row.booking_id)
        except FAILURES as exc:
            _wait(rows[done:], _push_failed(remote.calendar, exc), now)
            raise
        # Gone only if no change came meanwhile (the row would say one more).
        CalendarPush.delete().where(
            (CalendarPush.id == row.id) & (CalendarPush.changes == row.changes)
        ).execute()
    return len(rows)


def _push_failed(calendar: ExternalCalendar, exc: Exception) -> str:
    """Note on the calendar that bookings could not be written; the message."""
    message = _said(calendar, exc)
    ExternalCalendar.update(status="error", last_error=message).where(
        ExternalCalendar.id == calendar.id
    ).execute()
    return message


def _wait(rows: list[CalendarPush], message: str, now: datetime) -> None:
    """The rows not written wait for their next try, each longer than the last."""
    for row in rows:
        attempts = row.attempts + 1
        CalendarPush.update(
            attempts=attempts, last_error=message, next_try_at=now + imports.backoff(attempts)
        ).where(CalendarPush.id == row.id).execute()


def _write(remote: Remote, first_booking_id: int) -> None:
    """Put the appointment in the calendar as it now stands, or take it out."""
    first = Booking.get_or_none(Booking.id == first_booking_id)
    if first is None:
        return
    uid = calendar_links.uid(first)
    booking = calendar_links.latest(first)
    shown = booking.status in SHOWN and booking.provider_id == remote.calendar.provider_id
    kind, settings, calendar = remote.calendar.kind, remote.settings, remote.calendar
    if kind == "caldav":
        name = uid.partition("@")[0]  # kairos-booking-12.ics
        if shown:
            summary = _summary(booking, calendar)
            body = calendar_links.stored(booking, summary, "Booked with Kairos.")
            caldav.put_event(remote.caldav, name, body, remote.session)
        else:
            caldav.delete_event(remote.caldav, name, remote.session)
        return
    api = _api(kind)
    if shown:
        api.put_event(
            settings,
            remote.access,
            calendar.remote_id,
            uid,
            booking.start_at,
            booking.end_at,
            _summary(booking, calendar),
            remote.session,
        )
    else:
        api.delete_event(settings, remote.access, calendar.remote_id, uid, remote.session)


def _summary(booking: Booking, calendar: ExternalCalendar) -> str:
    """The event's title: the service, and the customer's name if the provider chose so."""
    service = booking.service.name
    if calendar.show_names and booking.customer_id is not None:
        name = User.select(User.name).where(User.id == booking.customer_id).scalar()
        if name:
            return f"{service} — {name}"
    return f"{service} (Kairos booking)"


# Reading ---------------------------------------------------------------------------


@dataclass
class Read:
    """What a read found: busy time of the events that changed, by event key (a CalDAV
    href, a Google or Graph id), keys of events that no longer block, and the token."""

    busy: list[recurrence.Busy]
    changed: set[str]
    token: str | None
    complete: bool


def sync(calendar_id: int, now: datetime, settings: Settings) -> ExternalCalendar:
    """Sync one calendar of any kind now, both directions for two-way ones; returns it
    as it now stands (its status says how it went). NotFound if it is gone."""
    calendar = ExternalCalendar.get_or_none(ExternalCalendar.id == calendar_id)
    if calendar is None:
        raise NotFound(imports.NO_SUCH_CALENDAR)
    if calendar.kind == "ics":
        return imports.sync(calendar.id, now, settings.calendar_allow_hosts)
    if calendar.reconnect:
        return calendar
    remote = None
    try:
        remote = _open(calendar, settings, now)
        _push(remote, _waiting(calendar.id, now, everything=True), now)
        read = _read(remote, now)
    except oauth.Reconnect:
        return _needs_consent(calendar, now)
    except FAILURES as exc:
        return imports.failed(calendar, _said(calendar, exc), now)
    finally:
        if remote is not None:
            remote.session.close()
    with imports.one_sync_at_a_time(calendar.id):
        imports.replace_blocks(calendar, read.busy, None if read.complete else read.changed)
        extra = {"full_read_at": now} if read.complete else {}
        imports.succeeded(calendar.id, now, sync_token=read.token, **extra)
    return ExternalCalendar.get_by_id(calendar.id)


def _read(remote: Remote, now: datetime) -> Read:
    calendar = remote.calendar
    full = calendar.full_read_at is None or now - calendar.full_read_at >= FULL_READ_EVERY
    token = None if full or not calendar.sync_token else calendar.sync_token
    org = Organisation.select().join(Provider).where(Provider.id == calendar.provider_id).get()
    start, end = imports.window(org.id, now)
    if calendar.kind == "caldav":
        found = caldav.changes(remote.caldav, token, start, end, remote.session)
        busy = []
        for href, text in found.events.items():
            if caldav.is_own(href):
                continue
            for time in recurrence.busy_times(text.encode(), start, end, ZoneInfo(org.timezone)):
                busy.append(recurrence.Busy(time.start, time.end, href))
        changed = set(found.events) | set(found.gone)
        return Read(busy, changed, found.token, found.complete)
    if calendar.kind == "google":
        found = google.changes(
            remote.settings, remote.access, calendar.remote_id, token, remote.session
        )
    else:
        found = microsoft.changes(
            remote.settings, remote.access, calendar.remote_id, token, start, end, remote.session
        )
    busy = [recurrence.Busy(b.start, b.end, key) for key, b in found.busy.items()]
    return Read(busy, set(found.busy) | set(found.gone), found.token, found.complete)


# Connections -----------------------------------------------------------------------


def _open(calendar: ExternalCalendar, settings: Settings, now: datetime) -> Remote:
    """The connection, with a fresh access token for the OAuth kinds (a refreshed one is
    kept, and so is a rotated refresh token)."""
    if calendar.kind == "caldav":  # an address the provider gave: every connection checked
        return Remote(calendar, settings, session=fetch.safe_session(settings.calendar_allow_hosts))
    tokens = oauth.Tokens(
        calendar.access_token or "", calendar.secret or "", calendar.access_expires_at or now
    )
    if not tokens.access or tokens.expired(now):
        tokens = oauth.refresh(_api(calendar.kind).provider(settings), tokens, now)
        ExternalCalendar.update(
            access_token=tokens.access, secret=tokens.refresh, access_expires_at=tokens.expires_at
        ).where(ExternalCalendar.id == calendar.id).execute()
    return Remote(calendar, settings, access=tokens.access)


def _needs_consent(calendar: ExternalCalendar, now: datetime) -> ExternalCalendar:
    ExternalCalendar.update(
        status="error",
        reconnect=True,
        access_token=None,
        last_error=RECONNECT.format(name=KIND_NAMES[calendar.kind]),
        next_try_at=now + NOT_UNTIL_RECONNECTED,
    ).where(ExternalCalendar.id == calendar.id).execute()
    return ExternalCalendar.get_by_id(calendar.id)


def _said(calendar: ExternalCalendar, exc: Exception) -> str:
    """A failure as the provider reads it on their calendars page."""
    text = str(exc)
    if isinstance(exc, (fetch.Refused, fetch.FetchFailed, recurrence.Unreadable)):
        return text
    return f"{KIND_NAMES[calendar.kind]}: {text[:1].upper()}{text[1:]}."


def _api(kind: str):
    if kind not in OAUTH_KINDS:
        raise NotFound("No such calendar service.")
    return OAUTH_KINDS[kind]


def _base(kind: str, settings: Settings) -> str:
    return settings.google_api_base if kind == "google" else settings.ms_graph_base

"""Talking CalDAV (RFC 4791) to a provider's calendar: writing Kairos's own events into
it, and reading what changed there since the last time (RFC 6578 sync-collection, or a
time-range query where the server has no sync tokens).

Only the few requests sync needs, over plain HTTP with the provider's username and app
password. Kairos names its events itself (``kairos-<uid>.ics``), and only ever writes or
deletes those: events the provider made are read, never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import requests
from defusedxml import ElementTree

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
TIMEOUT = (5, 20)  # connect, read (seconds)
MAX_BYTES = 5 * 1024 * 1024


class CalDavError(Exception):
    """The server refused, or answered what CalDAV does not allow; ``status`` if HTTP."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SyncTokenExpired(CalDavError):
    """The server no longer knows the sync token: read everything again."""


@dataclass(frozen=True)
class Calendar:
    url: str  # the calendar collection, ending in "/"
    username: str
    password: str

    def href(self, name: str) -> str:
        return urljoin(self.url, name)


@dataclass
class Changes:
    """What changed since the last sync: events by href (iCalendar text), hrefs gone,
    and the token to ask with next time (None: the server has no sync tokens)."""

    events: dict[str, str] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    token: str | None = None
    complete: bool = False  # everything, not only changes (the first sync, or a reset)


def own_name(uid: str) -> str:
    return f"kairos-{uid}.ics"


def is_own(href: str) -> bool:
    return href.rstrip("/").rsplit("/", 1)[-1].startswith("kairos-")


def put_event(calendar: Calendar, uid: str, ics: bytes, session=None) -> str:
    """Create or replace Kairos's event ``uid``; returns its ETag (may be empty)."""
    response = _request(
        session,
        "PUT",
        calendar,
        calendar.href(own_name(uid)),
        data=ics,
        headers={"Content-Type": "text/calendar; charset=utf-8"},
    )
    if response.status_code not in (200, 201, 204):
        raise CalDavError(f"PUT answered {response.status_code}", response.status_code)
    return response.headers.get("ETag", "")


def delete_event(calendar: Calendar, uid: str, session=None) -> None:
    """Remove Kairos's event ``uid``; one already gone is fine."""
    response = _request(session, "DELETE", calendar, calendar.href(own_name(uid)))
    if response.status_code not in (200, 204, 404):
        raise CalDavError(f"DELETE answered {response.status_code}", response.status_code)


def changes(
    calendar: Calendar, token: str | None, start: datetime, end: datetime, session=None
) -> Changes:
    """What changed since ``token`` (everything, when None), with the next token. A
    server without sync tokens gets a calendar-query over [start, end) each time."""
    try:
        return _sync_collection(calendar, token, session)
    except SyncTokenExpired:
        return _sync_collection(calendar, None, session)
    except CalDavError as error:
        if error.status not in (403, 404, 405, 501) or token is not None:
            raise
        return _query(calendar, start, end, session)


def _sync_collection(calendar: Calendar, token: str | None, session) -> Changes:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{_escape(token or '')}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    response = _report(calendar, calendar.url, body, session, depth=None)
    if response.status_code in (403, 409) and token is not None:
        raise SyncTokenExpired("the sync token is no longer valid", response.status_code)
    if response.status_code != 207:
        raise CalDavError(f"sync-collection answered {response.status_code}", response.status_code)
    tree = ElementTree.fromstring(response.content)
    found = Changes(token=tree.findtext(f"{DAV}sync-token"), complete=token is None)
    changed = []
    for item in tree.findall(f"{DAV}response"):
        href = item.findtext(f"{DAV}href") or ""
        if not href.endswith(".ics"):
            continue
        status = item.findtext(f"{DAV}status") or ""
        if " 404 " in status:
            found.gone.append(href)
        else:
            changed.append(href)
    found.events = _multiget(calendar, changed, session) if changed else {}
    return found


def _query(calendar: Calendar, start: datetime, end: datetime, session) -> Changes:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f'<C:time-range start="{_utc(start)}" end="{_utc(end)}"/>'
        "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    )
    response = _report(calendar, calendar.url, body, session, depth="1")
    if response.status_code != 207:
        raise CalDavError(f"calendar-query answered {response.status_code}", response.status_code)
    return Changes(events=_calendar_data(response.content), token=None, complete=True)


def _multiget(calendar: Calendar, hrefs: list[str], session) -> dict[str, str]:
    wanted = "".join(f"<D:href>{_escape(h)}</D:href>" for h in hrefs)
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop><D:getetag/><C:calendar-data/></D:prop>{wanted}</C:calendar-multiget>"
    )
    response = _report(calendar, calendar.url, body, session, depth="1")
    if response.status_code != 207:
        raise CalDavError(
            f"calendar-multiget answered {response.status_code}", response.status_code
        )
    return _calendar_data(response.content)


def _calendar_data(content: bytes) -> dict[str, str]:
    found = {}
    for item in ElementTree.fromstring(content).findall(f"{DAV}response"):
        href = item.findtext(f"{DAV}href")
        data = item.find(f".//{CALDAV}calendar-data")
        if href and data is not None and data.text:
            found[href] = data.text
    return found


def _report(calendar: Calendar, url: str, body: str, session, depth: str | None):
    headers = {"Content-Type": "application/xml; charset=utf-8"}
    if depth is not None:
        headers["Depth"] = depth
    return _request(session, "REPORT", calendar, url, data=body.encode(), headers=headers)


def _request(session, method: str, calendar: Calendar, url: str, **kwargs):
    """One request, with the calendar's credentials, no redirects followed (a redirect is
    an error here: the address is what the provider gave), and a size limit."""
    http = session or requests
    try:
        response = http.request(
            method,
            url,
            auth=(calendar.username, calendar.password),
            timeout=TIMEOUT,
            allow_redirects=False,
            stream=True,
            **kwargs,
        )
    except requests.RequestException as exc:
        raise CalDavError(f"{method} failed: {type(exc).__name__}") from exc
    if response.status_code == 401:
        raise CalDavError("the username or app password was refused", 401)
    if 300 <= response.status_code < 400:
        raise CalDavError(f"{method} was redirected", response.status_code)
    content = response.raw.read(MAX_BYTES + 1, decode_content=True)
    if len(content) > MAX_BYTES:
        raise CalDavError(f"{method}: the answer is larger than {MAX_BYTES} bytes")
    response._content = content
    return response


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give an aware instant")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

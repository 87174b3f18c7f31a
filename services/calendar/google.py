"""Google Calendar (API v3) for calendar sync: consent through OAuth 2, writing Kairos's
own events, and reading busy time incrementally with ``syncToken``.

Kairos chooses the id of each event it writes (``kairos`` + the booking's uid in
base32hex, which Google allows as an event id), so it can update and delete its events
without remembering Google's ids, and never addresses an event the provider made.
Hosts come from settings (``GOOGLE_API_BASE``, ``GOOGLE_OAUTH_BASE``) so tests can point
them at a local stand-in.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config import Settings
from services.calendar import oauth
from services.calendar.oauth import (
    Busy,
    CalendarApiError,
    Changes,
    SyncTokenExpired,
)
from services.calendar.oauth import Reconnect as Reconnect  # for callers: google.Reconnect

SCOPE = "https://www.googleapis.com/auth/calendar.events"
DEFAULT_OAUTH_BASE = "https://accounts.google.com"
# Google's consent page is on accounts.google.com, its token endpoint on another host;
# a stand-in configured as GOOGLE_OAUTH_BASE serves both.
TOKEN_URL = "https://oauth2.googleapis.com/token"
OWN_PREFIX = "kairos"


def provider(settings: Settings) -> oauth.Provider:
    base = settings.google_oauth_base
    return oauth.Provider(
        authorize_url=f"{base}/o/oauth2/v2/auth",
        token_url=TOKEN_URL if base == DEFAULT_OAUTH_BASE else f"{base}/token",
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret,
        scope=SCOPE,
        # a refresh token comes only with offline access, and again only on a new consent
        extra={"access_type": "offline", "prompt": "consent"},
    )


def event_id(uid: str) -> str:
    """Kairos's id for booking ``uid``: base32hex (0-9, a-v), as Google requires."""
    encoded = base64.b32hexencode(uid.encode()).decode().rstrip("=").lower()
    return OWN_PREFIX + encoded


def is_own(google_id: str) -> bool:
    return google_id.startswith(OWN_PREFIX)


def put_event(
    settings: Settings,
    access: str,
    calendar_id: str,
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    session=None,
) -> None:
    """Create Kairos's event ``uid``, or move and rename it when it exists (or existed:
    Google keeps a deleted event's id, so it is patched back to confirmed)."""
    body = {
        "id": event_id(uid),
        "summary": summary,
        "start": {"dateTime": oauth.utc_text(start) + "Z"},
        "end": {"dateTime": oauth.utc_text(end) + "Z"},
        "status": "confirmed",
        "extendedProperties": {"private": {"kairosUid": uid}},
    }
    status, _ = oauth.request_json(
        "POST", _events(settings, calendar_id), access, session, json=body
    )
    if status == 409:  # the id is taken: it is ours, so update it
        url = f"{_events(settings, calendar_id)}/{body['id']}"
        status, _ = oauth.request_json("PATCH", url, access, session, json=body)
    if status not in (200, 201):
        raise CalendarApiError(f"writing the event answered {status}", status)


def delete_event(settings: Settings, access: str, calendar_id: str, uid: str, session=None) -> None:
    """Remove Kairos's event ``uid``; one already gone (404, 410) is fine."""
    url = f"{_events(settings, calendar_id)}/{event_id(uid)}"
    status, _ = oauth.request_json("DELETE", url, access, session)
    if status not in (200, 204, 404, 410):
        raise CalendarApiError(f"deleting the event answered {status}", status)


def changes(
    settings: Settings, access: str, calendar_id: str, token: str | None, session=None
) -> Changes:
    """Busy time changed since ``token`` (everything, when None, or when Google has
    forgotten the token), and the next token."""
    try:
        return _list(settings, access, calendar_id, token, session)
    except SyncTokenExpired:
        return _list(settings, access, calendar_id, None, session)


def _list(settings: Settings, access: str, calendar_id: str, token: str | None, session):
    found = Changes(complete=token is None)
    params = {"singleEvents": "true", "maxResults": "250"}
    if token:
        params["syncToken"] = token
    for _ in range(oauth.MAX_PAGES):
        status, page = oauth.request_json(
            "GET", _events(settings, calendar_id), access, session, params=params
        )
        if status == 410 and token:
            raise SyncTokenExpired("Google no longer knows the sync token", 410)
        if status != 200:
            raise CalendarApiError(f"listing events answered {status}", status)
        zone = _zone(page.get("timeZone"))
        for event in page.get("items", []):
            _sort(event, zone, found)
        if not page.get("nextPageToken"):
            found.token = page.get("nextSyncToken")
            return found
        params = {**params, "pageToken": page["nextPageToken"]}
    raise CalendarApiError(f"more than {oauth.MAX_PAGES} pages of events")


def _sort(event: dict, zone: ZoneInfo, found: Changes) -> None:
    """Put one listed event among the busy or the gone."""
    google_id = str(event.get("id", ""))
    free = event.get("transparency") == "transparent"
    mark = event.get("extendedProperties", {}).get("private", {}).get("kairosUid")
    own = is_own(google_id) and mark is not None
    if event.get("status") == "cancelled" or free or own:
        found.gone.append(google_id)
        return
    try:
        found.busy[google_id] = Busy(_instant(event["start"], zone), _instant(event["end"], zone))
    except (KeyError, TypeError, ValueError) as exc:
        raise CalendarApiError(f"event {google_id!r} has no readable start or end") from exc


def _instant(moment: dict, zone: ZoneInfo) -> datetime:
    """A start or end: ``dateTime`` (RFC 3339, with an offset) or an all-day ``date``,
    which begins at midnight in the event's (or else the calendar's) time zone."""
    if "dateTime" in moment:
        parsed = datetime.fromisoformat(moment["dateTime"].replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_zone(moment.get("timeZone")) or zone)
        return parsed.astimezone(UTC)
    day = datetime.fromisoformat(moment["date"]).date()
    own_zone = _zone(moment.get("timeZone")) if moment.get("timeZone") else zone
    return datetime.combine(day, time(), own_zone).astimezone(UTC)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _events(settings: Settings, calendar_id: str) -> str:
    return f"{settings.google_api_base}/calendar/v3/calendars/{quote(calendar_id, safe='')}/events"

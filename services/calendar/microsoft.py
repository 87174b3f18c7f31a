"""Microsoft 365 / Outlook calendars through Microsoft Graph for calendar sync: consent
through OAuth 2 (Microsoft identity platform v2.0), writing Kairos's own events, and
reading busy time incrementally with ``calendarView/delta`` and its delta link.

Graph chooses event ids, so Kairos marks each event it writes with a single-value
extended property holding the booking's uid, finds its events by that property, and
sends ``transactionId`` ``kairos-<uid>`` so a retried create does not make a second
event. Events without the mark are read, never written. Hosts come from settings
(``MS_GRAPH_BASE``, ``MS_LOGIN_BASE``) so tests can point them at a local stand-in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from config import Settings
from services.calendar import oauth
from services.calendar.oauth import (
    Busy,
    CalendarApiError,
    Changes,
    SyncTokenExpired,
)
from services.calendar.oauth import Reconnect as Reconnect  # for callers: microsoft.Reconnect

SCOPE = "offline_access Calendars.ReadWrite"
TENANT = "common"  # work, school and personal accounts alike
# Kairos's own property set (a fixed GUID) and name: "String {guid} Name kairosUid".
OWN_PROPERTY = "String {6f1c2b7e-4d0a-4c1e-9a57-0b3e2f1d8c44} Name kairosUid"
OWN_PREFIX = "kairos-"
FREE = {"free", "workingElsewhere"}
UTC_PREFERENCE = {"Prefer": 'outlook.timezone="UTC", odata.maxpagesize=200'}


def provider(settings: Settings) -> oauth.Provider:
    base = f"{settings.ms_login_base}/{TENANT}/oauth2/v2.0"
    return oauth.Provider(
        authorize_url=f"{base}/authorize",
        token_url=f"{base}/token",
        client_id=settings.ms_client_id,
        client_secret=settings.ms_client_secret,
        scope=SCOPE,
    )


def default_calendar(settings: Settings, access: str, session=None) -> tuple[str, str]:
    """The id and name of the signed-in user's default calendar (where Kairos writes)."""
    status, body = oauth.request_json(
        "GET", f"{settings.ms_graph_base}/v1.0/me/calendar", access, session
    )
    if status != 200 or not body.get("id"):
        raise CalendarApiError(f"finding the calendar answered {status}", status)
    return str(body["id"]), str(body.get("name") or "Calendar")


def put_event(
    settings: Settings,
    access: str,
    calendar_id: str,
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    session=None,
) -> str:
    """Create Kairos's event ``uid``, or move and rename it; returns Graph's id."""
    body = {
        "subject": summary,
        "start": {"dateTime": oauth.utc_text(start), "timeZone": "UTC"},
        "end": {"dateTime": oauth.utc_text(end), "timeZone": "UTC"},
        "showAs": "busy",
    }
    existing = _find_own(settings, access, calendar_id, uid, session)
    if existing:
        url = f"{settings.ms_graph_base}/v1.0/me/events/{quote(existing, safe='')}"
        status, answer = oauth.request_json("PATCH", url, access, session, json=body)
    else:
        body["transactionId"] = OWN_PREFIX + uid
        body["singleValueExtendedProperties"] = [{"id": OWN_PROPERTY, "value": uid}]
        url = f"{_calendar(settings, calendar_id)}/events"
        status, answer = oauth.request_json("POST", url, access, session, json=body)
    if status not in (200, 201):
        raise CalendarApiError(f"writing the event answered {status}", status)
    return str(answer.get("id") or existing)


def delete_event(settings: Settings, access: str, calendar_id: str, uid: str, session=None) -> None:
    """Remove Kairos's event ``uid``; one already gone is fine."""
    existing = _find_own(settings, access, calendar_id, uid, session)
    if not existing:
        return
    url = f"{settings.ms_graph_base}/v1.0/me/events/{quote(existing, safe='')}"
    status, _ = oauth.request_json("DELETE", url, access, session)
    if status not in (200, 204, 404):
        raise CalendarApiError(f"deleting the event answered {status}", status)


def changes(
    settings: Settings,
    access: str,
    calendar_id: str,
    delta_link: str | None,
    start: datetime,
    end: datetime,
    session=None,
) -> Changes:
    """Busy time in [start, end) changed since ``delta_link`` (everything, when None, or
    when Graph has forgotten the sync state), and the delta link to ask with next time."""
    try:
        return _delta(settings, access, calendar_id, delta_link, start, end, session)
    except SyncTokenExpired:
        return _delta(settings, access, calendar_id, None, start, end, session)


def _delta(settings, access, calendar_id, delta_link, start, end, session) -> Changes:
    found = Changes(complete=delta_link is None)
    url = delta_link or (
        f"{_calendar(settings, calendar_id)}/calendarView/delta"
        f"?startDateTime={oauth.utc_text(start)}Z&endDateTime={oauth.utc_text(end)}Z"
    )
    _check_host(settings, url)
    for _ in range(oauth.MAX_PAGES):
        status, page = oauth.request_json("GET", url, access, session, headers=UTC_PREFERENCE)
        if status == 410 and delta_link:
            raise SyncTokenExpired("Graph no longer knows the delta link", 410)
        if status != 200:
            raise CalendarApiError(f"reading changes answered {status}", status)
        for event in page.get("value", []):
            _sort(event, found)
        if "@odata.nextLink" in page:
            url = page["@odata.nextLink"]
            _check_host(settings, url)
            continue
        found.token = page.get("@odata.deltaLink")
        return found
    raise CalendarApiError(f"more than {oauth.MAX_PAGES} pages of changes")


def _sort(event: dict, found: Changes) -> None:
    """Put one changed event among the busy or the gone."""
    graph_id = str(event.get("id", ""))
    own = str(event.get("transactionId") or "").startswith(OWN_PREFIX)
    if "@removed" in event or event.get("isCancelled") or event.get("showAs") in FREE or own:
        found.gone.append(graph_id)
        return
    try:
        found.busy[graph_id] = Busy(_instant(event["start"]), _instant(event["end"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CalendarApiError(f"event {graph_id!r} has no readable start or end") from exc


def _find_own(settings, access, calendar_id, uid, session) -> str | None:
    """Graph's id of Kairos's event ``uid``, found by its extended property."""
    value = uid.replace("'", "''")
    query = (
        f"singleValueExtendedProperties/Any(ep: ep/id eq '{OWN_PROPERTY}'"
        f" and ep/value eq '{value}')"
    )
    status, page = oauth.request_json(
        "GET",
        f"{_calendar(settings, calendar_id)}/events",
        access,
        session,
        params={"$filter": query, "$select": "id"},
    )
    if status != 200:
        raise CalendarApiError(f"finding the event answered {status}", status)
    found = page.get("value") or []
    return str(found[0]["id"]) if found else None


def _instant(moment: dict) -> datetime:
    """Graph's ``{"dateTime": "2026-12-03T10:00:00.0000000", "timeZone": "UTC"}`` (UTC,
    as the Prefer header asks) as an aware instant."""
    if moment.get("timeZone", "UTC") != "UTC":
        raise ValueError("not in UTC")
    whole_seconds = moment["dateTime"].partition(".")[0]  # Graph writes 7 decimals
    return datetime.fromisoformat(whole_seconds).replace(tzinfo=UTC)


def _check_host(settings: Settings, url: str) -> None:
    """Follow only links back to the configured Graph host: a link is sent with the token."""
    if not url.startswith(f"{settings.ms_graph_base}/"):
        raise CalendarApiError("Graph answered a link to another host")


def _calendar(settings: Settings, calendar_id: str) -> str:
    return f"{settings.ms_graph_base}/v1.0/me/calendars/{quote(calendar_id, safe='')}"

"""A local stand-in for Microsoft Graph v1.0 calendars and the Microsoft identity
platform's OAuth 2 endpoints, for tests.

It serves, on one base URL (``MS_GRAPH_BASE`` and ``MS_LOGIN_BASE`` both):

* ``GET /v1.0/me/calendar``: the signed-in user's default calendar, ``{"id", "name"}``;
* ``GET /common/oauth2/v2.0/authorize`` and ``POST /common/oauth2/v2.0/token``: see
  tests/standins/_oauth.py; refresh tokens rotate, as Microsoft's do;
* ``POST /v1.0/me/calendars/{id}/events``: 201 with the event; a ``transactionId`` already
  used by a live event answers that event instead of making a second;
* ``GET /v1.0/me/calendars/{id}/events?$filter=singleValueExtendedProperties/Any(ep: ep/id
  eq '...' and ep/value eq '...')``: the events carrying that extended property (the only
  ``$filter`` it understands; others are 400);
* ``PATCH`` / ``DELETE /v1.0/me/events/{id}``: 200 with the event / 204; 404
  ``ErrorItemNotFound`` for an unknown or deleted one;
* ``GET /v1.0/me/calendars/{id}/calendarView/delta?startDateTime=&endDateTime=``: the
  events overlapping the window, in pages (``page_size``) linked by ``@odata.nextLink``,
  the last with ``@odata.deltaLink``; that link later gives the events changed since,
  deleted ones (or ones moved out of the window) as ``{"id", "@removed": {"reason"}}``. A
  link older than :meth:`MsGraph.expire_delta_links` is 410 ``syncStateNotFound``.

Times are answered in UTC (``"2026-12-03T10:00:00.0000000"``, ``"timeZone": "UTC"``), as
with ``Prefer: outlook.timezone="UTC"``. Requests need ``Authorization: Bearer`` with a live
access token, else 401 ``InvalidAuthenticationToken``. Events made by someone else (the
owner, in Outlook) are added with :meth:`MsGraph.add_event`.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from email.message import Message
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from tests.standins._oauth import OAuthServer, json_answer, read_json

CALENDAR = re.compile(r"/v1\.0/me/calendars/(?P<cal>[^/]+)/(?P<rest>events|calendarView/delta)")
EVENT = re.compile(r"/v1\.0/me/events/(?P<id>[^/]+)")
PROPERTY_FILTER = re.compile(
    r"singleValueExtendedProperties/Any\(ep: ep/id eq '(?P<id>(?:[^']|'')*)'"
    r" and ep/value eq '(?P<value>(?:[^']|'')*)'\)"
)
DEFAULT_CALENDAR = "AAMkADefaultCalendar"
HIDDEN = ("singleValueExtendedProperties", "calendar")


class MsGraph(OAuthServer):
    authorize_path = "/common/oauth2/v2.0/authorize"
    token_path = "/common/oauth2/v2.0/token"
    rotates_refresh_tokens = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.events: dict[str, dict] = {}  # by id, deleted ones kept with "_deleted"
        self.page_size = 50
        self._version = 0
        self._links: dict[str, tuple[int, str, str, int, int]] = {}
        self._expired: set[str] = set()

    def add_event(
        self, calendar_id: str, subject: str, start: datetime, end: datetime, **fields
    ) -> dict:
        """An event the calendar's owner made, outside Kairos."""
        event = {
            "subject": subject,
            "start": {"dateTime": _graph_time(start), "timeZone": "UTC"},
            "end": {"dateTime": _graph_time(end), "timeZone": "UTC"},
            "showAs": "busy",
            "isCancelled": False,
            **fields,
        }
        return self._store(calendar_id, secrets.token_urlsafe(16), event)

    def change_event(self, event_id: str, **fields) -> dict:
        current = self.events[event_id]
        return self._store(current["calendar"], event_id, {**current, **fields})

    def expire_delta_links(self) -> None:
        """Graph forgot the sync state of every link given so far."""
        with self._lock:
            self._expired.update(self._links)

    def live_events(self, calendar_id: str) -> dict[str, dict]:
        return {
            k: v
            for k, v in self.events.items()
            if v["calendar"] == calendar_id and not v.get("_deleted")
        }

    def _respond(self, method: str, path: str, headers: Message, body: bytes):
        oauth = self._oauth_route(method, path, headers, body)
        if oauth is not None:
            return oauth
        if not self.bearer(headers):
            return _error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
        url = urlsplit(path)
        query = dict(parse_qsl(url.query))
        if url.path == "/v1.0/me/calendar" and method == "GET":
            return json_answer(200, {"id": DEFAULT_CALENDAR, "name": "Calendar"})
        if match := CALENDAR.fullmatch(url.path):
            calendar_id = unquote(match["cal"])
            if match["rest"] != "events" and method == "GET":
                return self._delta(calendar_id, query)
            if method == "POST":
                return self._create(calendar_id, read_json(body))
            if method == "GET":
                return self._find(calendar_id, query)
        elif match := EVENT.fullmatch(url.path):
            event_id = unquote(match["id"])
            if method == "PATCH":
                return self._update(event_id, read_json(body))
            if method == "DELETE":
                return self._delete(event_id)
        else:
            return _error(404, "ResourceNotFound", "Resource not found for the segment.")
        return _error(405, "Request_BadRequest", "Method not allowed.")

    def _create(self, calendar_id: str, event: dict | None):
        if event is None or "start" not in event or "end" not in event:
            return _error(400, "ErrorInvalidRequest", "The event needs a start and an end.")
        transaction = event.get("transactionId")
        for existing in self.live_events(calendar_id).values():
            if transaction and existing.get("transactionId") == transaction:
                return json_answer(201, _public(existing))
        event = {"showAs": "busy", "isCancelled": False, **event}
        return json_answer(201, self._store(calendar_id, secrets.token_urlsafe(16), event))

    def _find(self, calendar_id: str, query: dict):
        wanted = PROPERTY_FILTER.fullmatch(query.get("$filter", ""))
        if wanted is None:
            return _error(400, "ErrorInvalidUrlQueryFilter", "The query filter is not supported.")
        marker = {
            "id": wanted["id"].replace("''", "'"),
            "value": wanted["value"].replace("''", "'"),
        }
        found = [
            {"id": event_id}
            for event_id, event in self.live_events(calendar_id).items()
            if marker in event.get("singleValueExtendedProperties", [])
        ]
        return json_answer(200, {"value": found})

    def _update(self, event_id: str, changes: dict | None):
        current = self.events.get(event_id)
        if current is None or current.get("_deleted"):
            return _error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        if changes is None:
            return _error(400, "ErrorInvalidRequest", "The body is not a JSON object.")
        return json_answer(200, self._store(current["calendar"], event_id, {**current, **changes}))

    def _delete(self, event_id: str):
        current = self.events.get(event_id)
        if current is None or current.get("_deleted"):
            return _error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        self._store(current["calendar"], event_id, {**current, "_deleted": True})
        return 204, {}, b""

    def _delta(self, calendar_id: str, query: dict):
        if "$deltatoken" in query or "$skiptoken" in query:
            link = query.get("$deltatoken") or query.get("$skiptoken")
            if link not in self._links:
                return _error(400, "ErrorInvalidRequest", "The token is not valid.")
            if link in self._expired:
                return _error(410, "syncStateNotFound", "The sync state generation is not found.")
            since, start, end, offset, upto = self._links[link]
            if "$deltatoken" in query:  # changes from the link's time until now
                offset, upto = 0, self._version
        else:
            start, end = query.get("startDateTime", ""), query.get("endDateTime", "")
            since, offset, upto = 0, 0, self._version
        items = self._changes_between(calendar_id, since, upto, (_parse(start), _parse(end)))
        page = {"value": items[offset : offset + self.page_size]}
        if offset + self.page_size < len(items):
            state = (since, start, end, offset + self.page_size, upto)
            page["@odata.nextLink"] = self._link(calendar_id, "$skiptoken", state)
        else:
            state = (upto, start, end, 0, 0)
            page["@odata.deltaLink"] = self._link(calendar_id, "$deltatoken", state)
        return json_answer(200, page)

    def _changes_between(self, calendar_id: str, since: int, upto: int, window) -> list[dict]:
        """Events changed in (since, upto]: live ones in the window, the rest as removed."""
        items = []
        with self._lock:
            events = sorted(self.events.values(), key=lambda e: e["_version"])
        for event in events:
            if event["calendar"] != calendar_id or not since < event["_version"] <= upto:
                continue
            inside = _parse(event["start"]["dateTime"]) < window[1] and window[0] < _parse(
                event["end"]["dateTime"]
            )
            if event.get("_deleted") or not inside:
                if since:  # a first read leaves out what is not there
                    items.append({"id": event["id"], "@removed": {"reason": "deleted"}})
            else:
                items.append(_public(event))
        return items

    def _link(self, calendar_id: str, kind: str, state: tuple) -> str:
        """A next or delta link, holding (since, start, end, offset, upto) on this side."""
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._links[token] = state
        path = f"/v1.0/me/calendars/{calendar_id}/calendarView/delta"
        return f"{self.base_url}{path}?{urlencode({kind: token})}"

    def _store(self, calendar_id: str, event_id: str, event: dict) -> dict:
        with self._lock:
            self._version += 1
            stored = {**event, "id": event_id, "calendar": calendar_id, "_version": self._version}
            stored["@odata.etag"] = f'W/"{self._version}"'
            self.events[event_id] = stored
        return _public(stored)


def _public(event: dict) -> dict:
    return {k: v for k, v in event.items() if not k.startswith("_") and k not in HIDDEN}


def _graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000")


def _parse(text: str) -> datetime:
    """Graph's times, with or without decimals and a trailing Z, as UTC."""
    whole = text.rstrip("Z").partition(".")[0]
    return datetime.fromisoformat(whole).replace(tzinfo=UTC)


def _error(status: int, code: str, message: str):
    return json_answer(status, {"error": {"code": code, "message": message, "innerError": {}}})

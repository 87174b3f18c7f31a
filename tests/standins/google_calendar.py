"""A local stand-in for Google Calendar API v3 and Google's OAuth 2 server, for tests.

It serves, on one base URL (``GOOGLE_API_BASE`` and ``GOOGLE_OAUTH_BASE`` both):

* ``GET /o/oauth2/v2/auth`` and ``POST /token``: see tests/standins/_oauth.py;
* ``POST   /calendar/v3/calendars/{calendarId}/events`` (events.insert): a client-chosen
  ``id`` must be base32hex (``0-9a-v``), 5 to 1024 characters, else 400 ``invalidParameter``;
  an id already used, even by a deleted event, is 409 ``duplicate``;
* ``PATCH  .../events/{eventId}`` (events.patch): 404 ``notFound`` for an unknown id;
* ``DELETE .../events/{eventId}`` (events.delete): 204; 410 ``deleted`` when already
  deleted; 404 when unknown;
* ``GET    .../events`` (events.list): without ``syncToken`` the events that are not
  deleted; with it, every event changed since, deleted ones as ``status: cancelled``; pages
  of ``maxResults`` (or ``page_size``) with ``nextPageToken``, the last with
  ``nextSyncToken``. A token older than :meth:`GoogleCalendar.expire_sync_tokens` is 410
  ``fullSyncRequired``. There are no recurring events here, so ``singleEvents`` changes
  nothing.

Requests need ``Authorization: Bearer`` with a live access token, else 401. Errors have
Google's shape: ``{"error": {"code", "message", "errors": [{"domain", "reason", ...}]}}``.
Events made by someone else (the calendar's owner, in Google's own app) are added with
:meth:`GoogleCalendar.add_event`.
"""

from __future__ import annotations

import re
import secrets
from email.message import Message
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.standins._oauth import OAuthServer, json_answer, read_json

EVENTS = re.compile(r"/calendar/v3/calendars/(?P<cal>[^/]+)/events(?:/(?P<id>[^/]+))?")
EVENT_ID = re.compile(r"[0-9a-v]{5,1024}")


class GoogleCalendar(OAuthServer):
    authorize_path = "/o/oauth2/v2/auth"
    token_path = "/token"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.calendars: dict[str, dict[str, dict]] = {}
        self.time_zone = "Europe/London"
        self.page_size: int | None = None
        self._version = 0  # the number of the last change; a sync token names one
        self._generation = 0  # sync tokens of an older generation are forgotten

    def add_event(self, calendar_id: str, **fields) -> dict:
        """An event the calendar's owner made, outside Kairos."""
        event_id = fields.pop("id", None) or secrets.token_hex(13)
        return self._store(calendar_id, {"id": event_id, "status": "confirmed", **fields})

    def change_event(self, calendar_id: str, event_id: str, **fields) -> dict:
        return self._store(calendar_id, {**self.calendars[calendar_id][event_id], **fields})

    def expire_sync_tokens(self) -> None:
        """Google forgot every sync token given so far (they expire after a while)."""
        with self._lock:
            self._generation += 1

    def live_events(self, calendar_id: str) -> dict[str, dict]:
        events = self.calendars.get(calendar_id, {})
        return {k: v for k, v in events.items() if v["status"] != "cancelled"}

    def _respond(self, method: str, path: str, headers: Message, body: bytes):
        oauth = self._oauth_route(method, path, headers, body)
        if oauth is not None:
            return oauth
        url = urlsplit(path)
        match = EVENTS.fullmatch(url.path)
        if match is None:
            return _error(404, "notFound", "Not Found")
        if not self.bearer(headers):
            return _error(401, "authError", "Request had invalid authentication credentials.")
        calendar_id, event_id = unquote(match["cal"]), match["id"] and unquote(match["id"])
        query = dict(parse_qsl(url.query))
        if method == "GET" and event_id is None:
            return self._list(calendar_id, query)
        if method == "POST" and event_id is None:
            return self._insert(calendar_id, read_json(body))
        if method == "PATCH" and event_id:
            return self._patch(calendar_id, event_id, read_json(body))
        if method == "DELETE" and event_id:
            return self._delete(calendar_id, event_id)
        return _error(405, "methodNotAllowed", "Method Not Allowed")

    def _insert(self, calendar_id: str, event: dict | None):
        if event is None:
            return _error(400, "parseError", "Parse Error")
        event_id = event.get("id") or secrets.token_hex(13)
        if not EVENT_ID.fullmatch(event_id):
            return _error(400, "invalidParameter", "Invalid resource id value.")
        if event_id in self.calendars.get(calendar_id, {}):
            return _error(409, "duplicate", "The requested identifier already exists.")
        if "start" not in event or "end" not in event:
            return _error(400, "required", "Missing end time.")
        return json_answer(
            200, self._store(calendar_id, {"status": "confirmed", **event, "id": event_id})
        )

    def _patch(self, calendar_id: str, event_id: str, changes: dict | None):
        if changes is None:
            return _error(400, "parseError", "Parse Error")
        current = self.calendars.get(calendar_id, {}).get(event_id)
        if current is None:
            return _error(404, "notFound", "Not Found")
        return json_answer(200, self._store(calendar_id, {**current, **changes, "id": event_id}))

    def _delete(self, calendar_id: str, event_id: str):
        current = self.calendars.get(calendar_id, {}).get(event_id)
        if current is None:
            return _error(404, "notFound", "Not Found")
        if current["status"] == "cancelled":
            return _error(410, "deleted", "Resource has been deleted")
        self._store(calendar_id, {**current, "status": "cancelled"})
        return 204, {}, b""

    def _list(self, calendar_id: str, query: dict):
        token = query.get("syncToken")
        since = 0
        if token:
            generation, _, version = token.removeprefix("sync-").partition("-")
            if generation != str(self._generation) or not version.isdigit():
                message = "Sync token is no longer valid, a full sync is required."
                return _error(410, "fullSyncRequired", message)
            since = int(version)
        with self._lock:
            events = sorted(
                self.calendars.get(calendar_id, {}).values(), key=lambda e: e["_version"]
            )
            version = self._version
        if token:
            events = [e for e in events if e["_version"] > since]
        else:
            events = [e for e in events if e["status"] != "cancelled"]
        size = self.page_size or int(query.get("maxResults", "250"))
        start = int(query.get("pageToken", "0"))
        page = {
            "kind": "calendar#events",
            "summary": calendar_id,
            "timeZone": self.time_zone,
            "items": [_public(e) for e in events[start : start + size]],
        }
        if start + size < len(events):
            page["nextPageToken"] = str(start + size)
        else:
            page["nextSyncToken"] = f"sync-{self._generation}-{version}"
        return json_answer(200, page)

    def _store(self, calendar_id: str, event: dict) -> dict:
        with self._lock:
            self._version += 1
            stored = {
                "kind": "calendar#event",
                "etag": f'"{self._version}"',
                **event,
                "_version": self._version,
            }
            self.calendars.setdefault(calendar_id, {})[event["id"]] = stored
        return _public(stored)


def _public(event: dict) -> dict:
    if event["status"] == "cancelled":  # what a sync shows of a deleted event
        return {
            "kind": "calendar#event",
            "etag": event["etag"],
            "id": event["id"],
            "status": "cancelled",
        }
    return {k: v for k, v in event.items() if not k.startswith("_")}


def _error(status: int, reason: str, message: str):
    error = {"domain": "global", "reason": reason, "message": message}
    return json_answer(status, {"error": {"code": status, "message": message, "errors": [error]}})

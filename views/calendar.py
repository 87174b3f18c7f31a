"""The private calendar feeds calendar apps subscribe to: /cal/<token>.ics, no sign-in
(the token in the address is the proof), cheap to poll (ETag, 304)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from services.calendar import feeds
from views.support import absolute_url, now

bp = Blueprint("calendar", __name__)


def feed_urls(token: str) -> tuple[str, str]:
    """(https address, webcal:// address) of the feed with ``token``."""
    https = absolute_url("calendar.feed", token=token)
    return https, "webcal://" + https.partition("://")[2]


def secret() -> str:
    return current_app.config["SETTINGS"].secret_key


@bp.get("/cal/<token>.ics")
def feed(token: str):
    found = feeds.find(token)
    if found is None:
        abort(404)
    tag = feeds.etag(found, now())
    feeds.fetched(found, now())
    if request.if_none_match.contains(tag):
        response = Response(status=304)
    else:
        built = feeds.build(found, now())
        response = Response(built.body, mimetype="text/calendar")
        response.last_modified = built.last_modified
    response.set_etag(tag)
    response.cache_control.private = True
    response.cache_control.no_cache = True  # keep it, but ask each time (a 304 is cheap)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response

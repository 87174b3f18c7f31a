"""The private calendar feeds calendar apps subscribe to: /cal/<token>.ics, no sign-in
(the token in the address is the proof), cheap to poll (ETag, 304). And the one address
Google and Microsoft send a provider back to after their consent to calendar sync
(views/workspace/calendars.py sent them)."""

from __future__ import annotations

import hmac

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from services.calendar import feeds, imports, oauth, two_way
from services.errors import NotFound
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


@bp.get("/calendar/connected/<kind>")
@login_required
def connected(kind: str):
    """Back from the consent page: with a code, the calendar is connected; without one
    (the provider said no), or with a state that is not the one we sent, nothing is."""
    asked = session.pop("calendar_consent", None)
    if not asked or asked.get("kind") != kind:
        abort(400)
    back = url_for("workspace.calendars", slug=asked["slug"])
    name = two_way.KIND_NAMES.get(kind, "The calendar")
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if not hmac.compare_digest(state.encode(), asked["state"].encode()):
        abort(400)
    if not code:
        flash(f"{name} was not connected: the permission was not given.", "error")
        return redirect(back, 303)
    provider = imports.provider_of(current_user.id)
    try:
        two_way.connected(
            provider.id,
            kind,
            code,
            asked["verifier"],
            absolute_url("calendar.connected", kind=kind),
            current_app.config["SETTINGS"],
            now(),
            calendar_id=asked.get("calendar"),
        )
    except NotFound:
        abort(404)
    except oauth.CalendarApiError:
        flash(f"{name} could not be connected just now. Please try again.", "error")
        return redirect(back, 303)
    flash(f"{name} connected: your bookings go there within a minute.", "success")
    return redirect(back, 303)

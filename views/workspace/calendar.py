"""Calendar feed: "Add to your calendar" for a provider's own bookings and, for an
owner, the whole business's (services/calendar/feeds.py)."""

from __future__ import annotations

import segno
from flask import g, redirect, request, url_for
from flask_login import current_user
from markupsafe import Markup

from models import FEED_SCOPES
from services.calendar import feeds
from services.errors import Invalid
from views.calendar import feed_urls, secret
from views.support import now
from views.web import page
from views.workspace import bp, staff_only


def qr_svg(text: str) -> Markup:
    """A QR code of ``text`` as inline SVG, made here (no third party sees the address)."""
    code = segno.make(text, error="m")
    svg = code.svg_inline(scale=4, border=2, dark="#111", light="#fff", omitsize=True)
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code of the address" ', 1))


def _scopes() -> list[str]:
    """The feeds this staff member may have: their own column's, and the business's for
    an owner."""
    mine = ["provider"] if g.staff.provider is not None and g.staff.provider.active else []
    return mine + (["business"] if g.staff.is_owner else [])


def _open(scope: str) -> feeds.Address:
    if scope not in FEED_SCOPES:
        raise Invalid({"scope": "Choose one of your calendar feeds."})
    return feeds.open_feed(current_user.id, g.staff.organisation, scope, now(), secret())


@bp.get("/calendar-feed")
@staff_only
def calendar_feed():
    shown = []
    for scope in _scopes():
        address = _open(scope)
        https, webcal = feed_urls(address.token)
        shown.append({"scope": scope, "feed": address.feed, "https": https, "webcal": webcal})
    for item in shown:
        item["qr"] = qr_svg(item["webcal"])
    return page("workspace/calendar_feed.html", org=g.staff.organisation, shown=shown)


def _back():
    return redirect(url_for("workspace.calendar_feed", slug=g.staff.organisation.slug), 303)


@bp.post("/calendar-feed/names")
@staff_only
def calendar_feed_names():
    address = _open(request.form.get("scope", ""))
    feeds.show_names(address, request.form.get("show") == "y", current_user.id, now())
    return _back()


@bp.post("/calendar-feed/new")
@staff_only
def calendar_feed_new():
    address = _open(request.form.get("scope", ""))
    feeds.regenerate(address, current_user.id, now(), secret())
    return _back()

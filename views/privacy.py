"""A person's data: the privacy page, and downloading everything about oneself (from
Account, and from the API with a bearer token)."""

from __future__ import annotations

from email.utils import parseaddr

from flask import Blueprint, Response, current_app, g, render_template
from flask_login import current_user, login_required

from models import Booking
from services.privacy import export, retention
from views.api import token_required
from views.support import absolute_url, now

bp = Blueprint("privacy", __name__)
api = Blueprint("privacy_api", __name__, url_prefix="/api/v1/me")


@bp.get("/privacy")
def page():
    mine = retention.periods_for(current_user.id) if current_user.is_authenticated else []
    contact = parseaddr(current_app.config["SETTINGS"].mail_from)[1]
    return render_template(
        "privacy/page.html",
        default_months=retention.DEFAULT_MONTHS,
        most_months=retention.MOST_MONTHS,
        periods=mine,
        contact=contact,
    )


@bp.get("/account/my-data.json")
@login_required
def download_json():
    body = export.export_json(current_user, now())
    return _download(body, "kairos-data", "json", "application/json")


@bp.get("/account/my-bookings.ics")
@login_required
def download_calendar():
    body = export.bookings_calendar(current_user, _manage_url)
    return _download(body, "kairos-bookings", "ics", "text/calendar")


@api.get("/export")
@token_required
def api_export():
    return export.export(g.api_user, now())


@api.get("/export.ics")
@token_required
def api_calendar():
    body = export.bookings_calendar(g.api_user, _manage_url)
    return Response(body, mimetype="text/calendar")


def _manage_url(booking: Booking) -> str:
    return absolute_url("appointments.detail", booking_id=booking.id)


def _download(body: str | bytes, name: str, extension: str, mimetype: str) -> Response:
    """A file to save (named for today), not a page to show; kept by no cache."""
    filename = f"{name}-{now().date().isoformat()}.{extension}"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response

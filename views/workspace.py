"""The provider and owner workspace, tablet first. Every route goes through staff_only."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, g, request
from flask_login import current_user, login_required

from services import policy, schedule
from views.support import now, parse_date
from views.web import page

bp = Blueprint("workspace", __name__, url_prefix="/w/<slug>")


def staff_only(view):
    """Signed-in staff of this organisation only: others are sent to sign in (anonymous)
    or refused (403); another organisation's ids are not found (404)."""

    @wraps(view)
    @login_required
    def wrapper(slug: str, **kwargs):
        g.staff = policy.staff_of(current_user.id, slug)
        return view(**kwargs)

    return wrapper


@bp.get("")
@staff_only
def day():
    org = g.staff.organisation
    today = now().astimezone(ZoneInfo(org.timezone)).date()
    shown = parse_date(request.args["date"], "date") if request.args.get("date") else today
    plan = schedule.day_schedule(g.staff.visible_providers(), shown, org.timezone, now())
    return page(
        "workspace/day.html",
        "schedule",
        org=org,
        staff=g.staff,
        plan=plan,
        today=today,
        previous=shown - timedelta(days=1),
        following=shown + timedelta(days=1),
    )


@bp.get("/bookings/<int:booking_id>")
@staff_only
def booking(booking_id: int):
    found = policy.booking_for(g.staff, booking_id)
    return page(
        "workspace/booking.html",
        "panel",
        org=g.staff.organisation,
        booking=found,
        history=list(found.events.order_by(found.events.model.created_at)),
    )

"""The schedule: a day (and week) of bookings per provider, and a booking's panel."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import g, request

from services import policy, schedule
from views.support import now, parse_date
from views.web import page
from views.workspace import bp, staff_only


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

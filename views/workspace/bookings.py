"""A booking from the schedule: its panel and what staff do with it (mark completed or
no-show, cancel with a reason, move, keep notes), and booking a walk-in or a phone call.

Panel actions answer htmx with the panel again (and an event that refreshes the
schedule); without JavaScript they are plain forms that redirect back to the booking.
"""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for

from services import access
from services.booking import journey
from services.booking.appointments import reschedule
from services.errors import DomainError, SlotTaken
from services.notifications import delivery
from services.workspace import bookings
from views.errors import status_for
from views.support import now, parse_date, parse_instant, picker_context
from views.web import page, wants_fragment
from views.workspace import bp, staff_only

PANEL = "workspace/booking.html"


def panel(booking, status: int = 200, **extra):
    """The booking's panel (a whole page without htmx), telling the schedule to refresh."""
    extra.setdefault("problems", {})
    extra.setdefault("form", {})
    response = page(
        PANEL,
        "panel",
        status=status,
        org=g.staff.organisation,
        booking=booking,
        history=list(booking.events.order_by(booking.events.model.created_at)),
        notes=bookings.booking_notes(booking),
        deliveries=delivery.log_for(booking),
        markable=bookings.markable(booking, g.staff.organisation.timezone, now()),
        **extra,
    )
    if request.method == "POST" and status < 400:
        response.headers["HX-Trigger"] = "schedule-changed"
    return response


def _acted(booking_id: int, action, done_message: str):
    """Run a panel action; the panel again (htmx) or back to the booking (a plain form)."""
    try:
        booking = action()
    except DomainError as refused:
        booking = access.booking_for(g.staff, booking_id)
        problem = getattr(refused, "fields", None) or {"action": refused.message}
        return panel(booking, status_for(refused), problems=problem, form=request.form)
    if wants_fragment():
        return panel(booking, message=done_message)
    flash(done_message, "success")
    return redirect(url_for(".booking", slug=g.staff.organisation.slug, booking_id=booking.id), 303)


@bp.get("/bookings/<int:booking_id>")
@staff_only
def booking(booking_id: int):
    return panel(access.booking_for(g.staff, booking_id))


@bp.post("/bookings/<int:booking_id>/status")
@staff_only
def mark(booking_id: int):
    status = request.form.get("status", "")
    done = {"completed": "Marked completed.", "no_show": "Marked as a no-show."}
    return _acted(
        booking_id,
        lambda: bookings.mark(g.staff, booking_id, status, now()),
        done.get(status, "Marked as not yet seen."),
    )


@bp.post("/bookings/<int:booking_id>/cancel")
@staff_only
def cancel(booking_id: int):
    reason = request.form.get("reason")
    return _acted(
        booking_id,
        lambda: bookings.cancel(g.staff, booking_id, reason, now(), dispatch=g.dispatch),
        "Cancelled.",
    )


@bp.post("/bookings/<int:booking_id>/notes")
@staff_only
def add_note(booking_id: int):
    body = request.form.get("body")
    return _acted(
        booking_id,
        lambda: bookings.add_note(g.staff, booking_id, body, now()).booking,
        "Note added.",
    )


@bp.get("/bookings/<int:booking_id>/move")
@staff_only
def move(booking_id: int):
    """The customers' day-and-time picker, for this booking's provider."""
    found = access.booking_for(g.staff, booking_id)
    day_asked = parse_date(request.args["day"], "day") if request.args.get("day") else None
    shown = journey.picker(
        found.service,
        now(),
        month_asked=request.args.get("month"),
        day_asked=day_asked,
        provider_id=found.provider_id,
        moving=found,
    )
    args = {"slug": g.staff.organisation.slug, "booking_id": found.id}
    return page(
        "workspace/move.html",
        "picker",
        booking=found,
        org=g.staff.organisation,
        service=found.service,
        provider=None,  # no "anyone available" link: staff move within the column
        **picker_context(shown, "workspace.move", "workspace.move_confirm", args),
    )


@bp.route("/bookings/<int:booking_id>/move/confirm", methods=["GET", "POST"])
@staff_only
def move_confirm(booking_id: int):
    found = access.booking_for(g.staff, booking_id)
    start = parse_instant(request.values.get("start"))
    context = {"booking": found, "org": g.staff.organisation, "start": start}
    if request.method == "GET":
        return page("workspace/move_confirm.html", **context)
    try:
        moved = reschedule(
            booking_id=found.id,
            actor_id=g.staff.user_id,
            start=start,
            provider_id=found.provider_id,
            now=now(),
            dispatch=g.dispatch,
        )
    except SlotTaken as taken:
        return page("workspace/move_confirm.html", status=409, taken=taken, **context)
    except DomainError as refused:
        status = status_for(refused)
        return page("workspace/move_confirm.html", status=status, error=refused.message, **context)
    flash("Moved to the new time.", "success")
    return redirect(url_for(".booking", slug=g.staff.organisation.slug, booking_id=moved.id), 303)

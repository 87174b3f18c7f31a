"""The customer's own appointments: list, detail, add to calendar, cancel and move."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_login import current_user, login_required

from models import Booking
from scheduling import change_deadline, customer_may_change
from services.booking import appointments as bookings
from services.booking import calendar_links, journey
from services.errors import DomainError, SlotTaken
from views.errors import status_for
from views.notifications import push_offer
from views.support import LARGEST_INT, now, parse_date, parse_instant, picker_context
from views.web import page

bp = Blueprint("appointments", __name__, url_prefix="/appointments")


@bp.before_request
@login_required
def signed_in() -> None:
    """Every page here is the signed-in customer's own."""


def own(booking_id: int) -> Booking:
    booking = None
    if booking_id <= LARGEST_INT:  # a larger id overflows the database driver
        booking = (
            Booking.with_details()
            .where((Booking.id == booking_id) & (Booking.customer == current_user.id))
            .get_or_none()
        )
    if booking is None:
        abort(404, "We couldn't find that appointment.")
    return booking


def policy(booking: Booking) -> dict:
    window = timedelta(hours=booking.service.cancellation_window_hours)
    deadline = change_deadline(booking.start_at, window)
    changeable = booking.status == "confirmed" and customer_may_change(
        booking.start_at, window, now()
    )
    return {"deadline": deadline, "changeable": changeable, "past": booking.start_at <= now()}


@bp.get("")
def index():
    mine = Booking.with_details().where(Booking.customer == current_user.id)
    moment = now()
    upcoming = mine.where((Booking.start_at >= moment) & (Booking.status == "confirmed"))
    past = mine.where((Booking.start_at < moment) | (Booking.status != "confirmed"))
    return page(
        "appointments/index.html",
        upcoming=list(upcoming.order_by(Booking.start_at)),
        past=list(past.order_by(Booking.start_at.desc()).limit(50)),
    )


@bp.get("/<int:booking_id>")
def detail(booking_id: int):
    booking = own(booking_id)
    return page(
        "appointments/detail.html",
        booking=booking,
        org=booking.organisation,
        **policy(booking),
        **_calendar(booking),
    )


@bp.get("/<int:booking_id>/confirmed")
def confirmed(booking_id: int):
    booking = own(booking_id)
    if booking.status != "confirmed":  # an old link to a booking since cancelled or moved
        return redirect(url_for(".detail", booking_id=booking.id))
    return page(
        "appointments/confirmed.html",
        booking=booking,
        org=booking.organisation,
        **policy(booking),
        **_calendar(booking),
        **push_offer(),
    )


@bp.get("/<int:booking_id>/calendar.ics")
def ics(booking_id: int):
    booking = own(booking_id)
    body = calendar_links.ics(booking, _manage_url(booking))
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="appointment-{booking.id}.ics"'},
    )


@bp.route("/<int:booking_id>/cancel", methods=["GET", "POST"])
def cancel(booking_id: int):
    booking = own(booking_id)
    if request.method == "GET":
        return page(
            "appointments/cancel.html", booking=booking, org=booking.organisation, **policy(booking)
        )
    reason = request.form.get("reason", "")[:500]
    try:
        bookings.cancel(
            booking_id=booking.id,
            actor_id=current_user.id,
            reason=reason,
            now=now(),
            dispatch=g.dispatch,
        )
    except DomainError as refused:
        return page(
            "appointments/cancel.html",
            status=status_for(refused),
            booking=booking,
            error=refused.message,
            org=booking.organisation,
            reason=reason,
            **policy(booking),
        )
    flash("Your appointment is cancelled.", "success")
    return redirect(url_for(".detail", booking_id=booking.id), 303)


@bp.get("/<int:booking_id>/move")
def move(booking_id: int):
    """The same day-and-time picker, with this booking's own time counted as free."""
    booking = own(booking_id)
    org, service = booking.organisation, booking.service
    day_asked = parse_date(request.args["day"], "day") if request.args.get("day") else None
    shown = journey.picker(
        service,
        now(),
        month_asked=request.args.get("month"),
        day_asked=day_asked,
        provider_id=booking.provider_id,
        moving=booking,
    )
    args = {"booking_id": booking.id}
    return page(
        "appointments/move.html",
        "picker",
        booking=booking,
        org=org,
        service=service,
        provider=booking.provider,
        **picker_context(shown, "appointments.move", "appointments.move_confirm", args),
        **policy(booking),
    )


@bp.route("/<int:booking_id>/move/confirm", methods=["GET", "POST"])
def move_confirm(booking_id: int):
    booking = own(booking_id)
    start = parse_instant(request.values.get("start"))
    context = {"booking": booking, "org": booking.organisation, "start": start, **policy(booking)}
    if request.method == "GET":
        return page("appointments/move_confirm.html", **context)
    try:
        moved = bookings.reschedule(
            booking_id=booking.id,
            actor_id=current_user.id,
            start=start,
            provider_id=booking.provider_id,
            now=now(),
            dispatch=g.dispatch,
        )
    except SlotTaken as taken:
        return page("appointments/move_confirm.html", status=409, taken=taken, **context)
    except DomainError as refused:
        return page(
            "appointments/move_confirm.html",
            status=status_for(refused),
            error=refused.message,
            **context,
        )
    flash("Your appointment has been moved.", "success")
    return redirect(url_for(".detail", booking_id=moved.id), 303)


def _manage_url(booking: Booking) -> str:
    return url_for(".detail", booking_id=booking.id, _external=True)


def _calendar(booking: Booking) -> dict:
    manage = _manage_url(booking)
    return {
        "google_url": calendar_links.google_url(booking, manage),
        "outlook_url": calendar_links.outlook_url(booking, manage),
    }

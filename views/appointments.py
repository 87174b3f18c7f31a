"""The customer's own appointments: list, detail, add to calendar, cancel and move."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_login import current_user, login_required

from models import Booking, BookingStatus
from services import access
from services.booking import appointments as bookings
from services.booking import calendar_links, history
from services.errors import DomainError
from services.payments import refunds
from views import moves
from views.appointment_forms import REASON_LIMIT, CancelForm
from views.errors import status_for
from views.notifications import push_offer
from views.support import absolute_url, now
from views.web import page

bp = Blueprint("appointments", __name__, url_prefix="/appointments")


@bp.before_request
@login_required
def signed_in() -> None:
    """Every page here is the signed-in customer's own."""


MISSING = "We couldn't find that appointment."


def mine(booking_id: int) -> Booking:
    """The signed-in customer's own booking, else a 404: services/access.py decides, this
    only names the customer and the page's wording."""
    return access.customer_booking(current_user.id, booking_id, missing=MISSING)


def opened(booking_id: int) -> Booking:
    """``mine``, except that a page of a booking since moved (an old link in an email or
    a calendar) redirects to the same page of the booking the appointment is now."""
    if request.method != "GET":  # a form sent for the old booking changes nothing
        return mine(booking_id)
    booking = history.current_for_customer(current_user.id, booking_id, MISSING)
    if booking.id != booking_id:
        args = {**request.args.to_dict(), **request.view_args, "booking_id": booking.id}
        abort(redirect(url_for(request.endpoint, **args), 303))
    return booking


@bp.get("")
def index():
    # One card per appointment: a booking moved to another time is not listed.
    booked = history.current_only(access.customer_bookings(current_user.id))
    moment = now()
    # Upcoming: confirmed, or held while its payment is made (until the hold runs out).
    ahead = (Booking.status == BookingStatus.CONFIRMED) | (
        (Booking.status == BookingStatus.PENDING_PAYMENT) & (Booking.hold_expires_at > moment)
    )
    upcoming = booked.where((Booking.start_at >= moment) & ahead)
    past = booked.where((Booking.start_at < moment) | ~ahead)
    return page(
        "appointments/index.html",
        upcoming=history.with_moved_from(list(upcoming.order_by(Booking.start_at))),
        past=history.with_moved_from(list(past.order_by(Booking.start_at.desc()).limit(50))),
    )


@bp.get("/<id:booking_id>")
def detail(booking_id: int):
    booking = opened(booking_id)
    return page(
        "appointments/detail.html",
        booking=booking,
        org=booking.organisation,
        history=history.customer_history(booking),
        **access.change_facts(booking, now()),
        **_calendar(booking),
    )


@bp.get("/<id:booking_id>/confirmed")
def confirmed(booking_id: int):
    booking = opened(booking_id)
    if booking.status == BookingStatus.PENDING_PAYMENT:  # not paid yet
        return redirect(url_for("payments.pay_page", booking_id=booking.id))
    if (
        booking.status != BookingStatus.CONFIRMED
    ):  # an old link to a booking since cancelled or moved
        return redirect(url_for(".detail", booking_id=booking.id))
    return page(
        "appointments/confirmed.html",
        booking=booking,
        org=booking.organisation,
        **access.change_facts(booking, now()),
        **_calendar(booking),
        **push_offer(),
    )


@bp.get("/<id:booking_id>/calendar.ics")
def ics(booking_id: int):
    booking = calendar_links.latest(mine(booking_id))  # an old link: the appointment now
    body = calendar_links.ics(booking, _manage_url(booking))
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="appointment-{booking.id}.ics"'},
    )


@bp.route("/<id:booking_id>/cancel", methods=["GET", "POST"])
def cancel(booking_id: int):
    booking = opened(booking_id)
    form = CancelForm()
    context = {
        "booking": booking,
        "org": booking.organisation,
        "form": form,
        **access.change_facts(booking, now()),
        # What cancelling now gives back of what was paid online, and what is kept.
        "money": refunds.totals(
            refunds.on_cancel_split(
                booking, by_business=False, inside_window=access.inside_window(booking, now())
            )
        ),
    }
    if request.method == "GET":
        return page("appointments/cancel.html", **context)
    reason = (form.reason.data or "")[:REASON_LIMIT]
    try:
        bookings.cancel(
            booking_id=booking.id,
            actor_id=current_user.id,
            reason=reason,
            now=now(),
            dispatch=g.dispatch,
        )
    except DomainError as refused:
        form.form_errors.append(refused.message)
        return page("appointments/cancel.html", status=status_for(refused), **context)
    flash("Your appointment is cancelled.", "success")
    return redirect(url_for(".detail", booking_id=booking.id), 303)


def mover() -> moves.Mover:
    return moves.Mover(
        actor_id=current_user.id,
        find=opened,
        picker_endpoint="appointments.move",
        confirm_endpoint="appointments.move_confirm",
        done_endpoint="appointments.detail",
        moved_message="Your appointment has been moved.",
        layout="base.html",
        staff=False,
        offer_anyone=True,
    )


@bp.get("/<id:booking_id>/move")
def move(booking_id: int):
    return moves.picker(mover(), booking_id)


@bp.route("/<id:booking_id>/move/confirm", methods=["GET", "POST"])
def move_confirm(booking_id: int):
    return moves.confirm(mover(), booking_id)


def _manage_url(booking: Booking) -> str:
    return absolute_url("appointments.detail", booking_id=booking.id)


def _calendar(booking: Booking) -> dict:
    manage = _manage_url(booking)
    return {
        "google_url": calendar_links.google_url(booking, manage),
        "outlook_url": calendar_links.outlook_url(booking, manage),
    }

"""Moving a booking to another time: one flow for its customer and for staff.

The routes stay where their people are (views/appointments.py, views/workspace/bookings.py)
and are thin: each describes its mover (a ``Mover``) and calls ``picker`` or ``confirm``.
Who may move which booking, and when, is services/access.py's to say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import flash, g, redirect, request, url_for

from models import Booking
from services import access
from services.booking import journey
from services.booking.appointments import reschedule
from services.errors import DomainError, SlotTaken
from views.errors import status_for
from views.support import now, parse_date, parse_instant, picker_context
from views.web import page

PICKER, CONFIRM = "moves/move.html", "moves/move_confirm.html"


@dataclass(frozen=True)
class Mover:
    """Who is moving a booking, and what that changes in the flow and on its pages."""

    actor_id: int
    find: Callable[[int], Booking]  # the booking, if this actor may see it (else NotFound)
    picker_endpoint: str  # the day-and-time picker
    confirm_endpoint: str  # "move it to this time?"
    done_endpoint: str  # the booking's own page, where a move ends
    moved_message: str  # flashed there
    layout: str  # the page layout the move pages extend
    staff: bool  # staff's wording and rule for changing it (any time), else the customer's
    offer_anyone: bool  # "anyone available" when the provider has no free time this month
    url_args: dict = field(default_factory=dict)  # besides booking_id, e.g. the workspace's slug

    def url(self, endpoint: str, booking: Booking, **args) -> str:
        return url_for(endpoint, booking_id=booking.id, **self.url_args, **args)

    def facts(self, booking: Booking) -> dict:
        return access.change_facts(booking, now(), as_staff=self.staff)


def picker(mover: Mover, booking_id: int):
    """The customers' day-and-time picker, for the booking's provider, with the booking's
    own time counted as free."""
    booking = mover.find(booking_id)
    day_asked = parse_date(request.args["day"], "day") if request.args.get("day") else None
    shown = journey.picker(
        booking.service,
        now(),
        month_asked=request.args.get("month"),
        day_asked=day_asked,
        provider_id=booking.provider_id,
        moving=booking,
    )
    args = {"booking_id": booking.id, **mover.url_args}
    return page(
        PICKER,
        "picker",
        mover=mover,
        booking=booking,
        org=booking.organisation,
        service=booking.service,
        provider=booking.provider if mover.offer_anyone else None,
        **picker_context(shown, mover.picker_endpoint, mover.confirm_endpoint, args),
        **mover.facts(booking),
    )


def confirm(mover: Mover, booking_id: int):
    """GET: the move to ``start``, to confirm. POST: make it, then go to the new booking;
    a time just taken is a 409 with the nearest free ones, other refusals their status."""
    booking = mover.find(booking_id)
    start = parse_instant(request.values.get("start"))
    context = {
        "mover": mover,
        "booking": booking,
        "org": booking.organisation,
        "start": start,
        **mover.facts(booking),
    }
    if request.method == "GET":
        return page(CONFIRM, **context)
    try:
        moved = reschedule(
            booking_id=booking.id,
            actor_id=mover.actor_id,
            start=start,
            provider_id=booking.provider_id,
            now=now(),
            dispatch=g.dispatch,
        )
    except SlotTaken as taken:
        return page(CONFIRM, status=409, taken=taken, **context)
    except DomainError as refused:
        return page(CONFIRM, status=status_for(refused), error=refused.message, **context)
    flash(mover.moved_message, "success")
    return redirect(mover.url(mover.done_endpoint, moved), 303)

"""A booking from the schedule: its panel and what staff do with it (mark completed or
no-show, cancel with a reason, move, keep notes), and booking a walk-in or a phone call.

Panel actions answer htmx with the panel again (and an event that refreshes the
schedule); without JavaScript they are plain forms that redirect back to the booking.
"""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from htmx_flask import make_response as htmx_response

from models import BookingStatus
from services import access
from services.amounts import amount_text
from services.booking import history
from services.calendar import clashes
from services.errors import DomainError, Invalid
from services.formats import money
from services.notifications import delivery
from services.payments import ledger, venue
from services.workspace import bookings
from views import forms, moves
from views.errors import status_for
from views.support import now
from views.web import page, wants_fragment
from views.workspace import bp, staff_only
from views.workspace.forms import CancelForm, MarkForm, NoteForm, VenuePaymentForm

PANEL = "workspace/booking.html"


def panel(booking, status: int = 200, acted=None, **extra):
    """The booking's panel (a whole page without htmx), telling the schedule to refresh.
    ``acted``: the form of an action that was refused, with its problems."""
    paid = ledger.for_booking(booking.id)
    balance = venue.balance_cents(booking, paid)
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
        calendar_clashes=clashes.clashes_of(booking),
        paid=paid,
        balance=balance,
        may_record=venue.may_record(booking, paid),
        refused=acted.form_errors[0] if acted and acted.form_errors else None,
        **_forms(acted, booking, balance),
        **extra,
    )
    if request.method == "POST" and status < 400:
        return htmx_response(response, trigger="schedule-changed")
    return response


def _forms(acted, booking, balance: int) -> dict:
    """The panel's forms, empty, but for the one of an action that was refused."""
    shown = {
        "cancel_form": CancelForm(formdata=None),
        "note_form": NoteForm(formdata=None),
        "pay_form": VenuePaymentForm(formdata=None, kind="cash", amount=amount_text(balance)),
    }
    for name, form in shown.items():
        if type(acted) is type(form):
            shown[name] = acted
    amount = shown["pay_form"].amount
    amount.label.text = f"Amount ({booking.currency})"
    amount.description = f"{money(balance, booking.currency)} is due; less is a part payment."
    return shown


def _acted(booking_id: int, form, action, done_message: str):
    """Run a panel action; the panel again (htmx) or back to the booking (a plain form)."""
    try:
        booking = action(form)
    except DomainError as refused:
        booking = access.booking_for(g.staff, booking_id)
        if isinstance(refused, Invalid):
            forms.show_problems(form, refused)
        else:
            form.form_errors.append(refused.message)
        return panel(booking, status_for(refused), acted=form)
    if wants_fragment():
        return panel(booking, message=done_message)
    flash(done_message, "success")
    return redirect(url_for(".booking", slug=g.staff.organisation.slug, booking_id=booking.id), 303)


@bp.get("/bookings/<id:booking_id>")
@staff_only
def booking(booking_id: int):
    shown = history.current_for_staff(g.staff, booking_id)
    if shown.id != booking_id:  # moved since: its old link opens where it is now
        return redirect(url_for(".booking", slug=g.staff.organisation.slug, booking_id=shown.id))
    return panel(shown)


@bp.post("/bookings/<id:booking_id>/status")
@staff_only
def mark(booking_id: int):
    form = MarkForm()
    done = {
        BookingStatus.COMPLETED: "Marked completed.",
        BookingStatus.NO_SHOW: "Marked as a no-show.",
    }
    return _acted(
        booking_id,
        form,
        lambda f: bookings.mark(g.staff, booking_id, f.status.data or "", now()),
        done.get(form.status.data, "Marked as not yet seen."),
    )


@bp.post("/bookings/<id:booking_id>/cancel")
@staff_only
def cancel(booking_id: int):
    return _acted(
        booking_id,
        CancelForm(),
        lambda f: bookings.cancel(g.staff, booking_id, f.reason.data, now(), dispatch=g.dispatch),
        "Cancelled.",
    )


@bp.post("/bookings/<id:booking_id>/notes")
@staff_only
def add_note(booking_id: int):
    return _acted(
        booking_id,
        NoteForm(),
        lambda f: bookings.add_note(g.staff, booking_id, f.body.data, now()).booking,
        "Note added.",
    )


@bp.post("/bookings/<id:booking_id>/payments")
@staff_only
def record_payment(booking_id: int):
    def record(form: VenuePaymentForm):
        venue.record(g.staff, booking_id, form.kind.data or "", form.amount.data, now())
        return access.booking_for(g.staff, booking_id)

    return _acted(booking_id, VenuePaymentForm(), record, "Payment recorded.")


def mover() -> moves.Mover:
    """Staff move a booking within its column, at any time while it is confirmed."""
    return moves.Mover(
        actor_id=g.staff.user_id,
        find=lambda booking_id: access.booking_for(g.staff, booking_id),
        picker_endpoint="workspace.move",
        confirm_endpoint="workspace.move_confirm",
        done_endpoint="workspace.booking",
        moved_message="Moved to the new time.",
        layout="workspace/layout.html",
        staff=True,
        offer_anyone=False,
        url_args={"slug": g.staff.organisation.slug},
    )


@bp.get("/bookings/<id:booking_id>/move")
@staff_only
def move(booking_id: int):
    return moves.picker(mover(), booking_id)


@bp.route("/bookings/<id:booking_id>/move/confirm", methods=["GET", "POST"])
@staff_only
def move_confirm(booking_id: int):
    return moves.confirm(mover(), booking_id)

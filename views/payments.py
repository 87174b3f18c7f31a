"""Paying for a booking: the customer's payment step, and Stripe's webhook.

The payment step is a page (GET) whose script collects the card with Stripe.js and
sends what Stripe.js gave it here (POST, JSON); the payment is confirmed on the server
(services/payments/checkout.py). When the bank asks for 3-D Secure, the script has
Stripe.js do it and then asks here again (``check``).
"""

from __future__ import annotations

import contextlib

from flask import Blueprint, g, jsonify, redirect, request, url_for
from flask_login import current_user, login_required

from models import BookingStatus
from services.booking import appointments as bookings
from services.errors import DomainError
from services.formats import money
from services.payments import checkout, gateway, ledger, policy, webhooks
from views.appointments import mine
from views.errors import error_body, status_for
from views.support import now
from views.web import page

bp = Blueprint("payments", __name__, url_prefix="/appointments")
webhook = Blueprint("stripe_webhook", __name__)


@bp.before_request
@login_required
def signed_in() -> None:
    """Only the booking's customer pays for it."""


@bp.get("/<id:booking_id>/pay")
def pay_page(booking_id: int):
    booking = mine(booking_id)
    if booking.status != BookingStatus.PENDING_PAYMENT:
        endpoint = (
            "appointments.confirmed"
            if booking.status == BookingStatus.CONFIRMED
            else "appointments.detail"
        )
        return redirect(url_for(endpoint, booking_id=booking.id))
    payment = checkout.online_payment(booking.id)
    account = gateway.account_for(booking.organisation)
    return page(
        "payments/pay.html",
        booking=booking,
        org=booking.organisation,
        payment=payment,
        publishable_key=account.publishable_key if account else "",
        stripe_js_url=gateway.js_url(),
        policy_text=policy.describe(booking.service, lambda cents: money(cents, booking.currency)),
        seconds_left=max(0, int((booking.hold_expires_at - now()).total_seconds())),
    )


@bp.post("/<id:booking_id>/pay")
def pay(booking_id: int):
    """JSON in ({"token"} or {"payment_method"}), JSON out: {"status", "client_secret"?,
    "next"?}; a declined card is a 402 with Stripe's message, the hold kept."""
    booking = mine(booking_id)
    body = request.get_json(silent=True) or {}
    token, method = body.get("token"), body.get("payment_method")
    return _answer(
        booking,
        lambda: checkout.pay(
            booking,
            now(),
            g.dispatch,
            token=token if isinstance(token, str) else None,
            payment_method=method if isinstance(method, str) else None,
        ),
    )


@bp.post("/<id:booking_id>/pay/check")
def check(booking_id: int):
    booking = mine(booking_id)
    return _answer(booking, lambda: checkout.check(booking, now(), g.dispatch))


@bp.post("/<id:booking_id>/pay/cancel")
def give_up(booking_id: int):
    """The customer gives up paying: the slot is released at once."""
    booking = mine(booking_id)
    if booking.status == BookingStatus.PENDING_PAYMENT:
        # Expired or paid meanwhile (DomainError): the booking page says which.
        with contextlib.suppress(DomainError):
            bookings.cancel(
                booking_id=booking.id,
                actor_id=current_user.id,
                reason="payment abandoned",
                now=now(),
                dispatch=g.dispatch,
            )
    return redirect(url_for("appointments.detail", booking_id=booking.id), 303)


def _answer(booking, attempt):
    try:
        done = attempt()
    except DomainError as error:
        return jsonify(error_body(error)), status_for(error)
    body = {"status": done.status}
    if done.client_secret:
        body["client_secret"] = done.client_secret
    if done.status == "succeeded":
        body["next"] = url_for("appointments.confirmed", booking_id=booking.id)
    return jsonify(body)


@webhook.post("/stripe/webhook")
def stripe_webhook():
    """Stripe's events, signed (services/payments/webhooks.py): 400 for a signature that
    does not hold, and nothing changes; 200 otherwise, also for an event seen before."""
    try:
        done = webhooks.receive(
            request.get_data(), request.headers.get("Stripe-Signature", ""), now(), g.dispatch
        )
    except gateway.BadSignature:
        return jsonify(error="bad_signature", message="The signature does not hold."), 400
    return jsonify(received=done)


def receipt(booking) -> ledger.Summary:
    """What the booking's pages show of its payments."""
    return ledger.for_booking(booking.id)

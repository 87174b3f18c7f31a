"""Paying for a booking: the customer's payment step, and Stripe's webhook.

The payment step is a page (GET) whose script collects the card with Stripe.js and
sends what Stripe.js gave it here (POST, JSON); the payment is confirmed on the server
(services/payments/checkout.py). When the bank asks for 3-D Secure, the script has
Stripe.js do it and then asks here again (``check``).
"""

from __future__ import annotations

import contextlib
from functools import cache
from importlib.resources import files

from flask import Blueprint, current_app, g, jsonify, redirect, request, url_for
from flask_login import current_user, login_required

from models import BookingStatus
from services.booking import appointments as bookings
from services.errors import DomainError
from services.formats import money
from services.payments import checkout, gateway, ledger, policy, webhooks
from views import security
from views.appointments import mine
from views.errors import error_body, status_for
from views.limits import limited
from views.support import now, read_json_object
from views.web import page

bp = Blueprint("payments", __name__, url_prefix="/appointments")
# The cancel reason of a hold its customer gave up (the booking's page words it).
GAVE_UP = "payment abandoned"
webhook = Blueprint("stripe_webhook", __name__)


@bp.before_request
@login_required
def signed_in() -> None:
    """Only the booking's customer pays for it."""


@bp.get("/<id:booking_id>/pay")
def pay_page(booking_id: int):
    """The payment step. The hold's time left is counted here, so a reload shows it
    right; a hold that has run out (even before the sweep released it) says so."""
    booking = mine(booking_id)
    payment = checkout.online_payment(booking.id)
    if booking.status != BookingStatus.PENDING_PAYMENT or payment is None:
        endpoint = (
            "appointments.confirmed"
            if booking.status == BookingStatus.CONFIRMED
            else "appointments.detail"
        )
        return redirect(url_for(endpoint, booking_id=booking.id))
    account = gateway.account_for(booking.organisation)
    response = page(
        "payments/pay.html",
        booking=booking,
        org=booking.organisation,
        payment=payment,
        publishable_key=account.publishable_key if account else "",
        stripe_js_url=gateway.js_url(),
        country=wallet_country(booking.organisation.timezone),
        policy_text=payment_policy(booking.service),
        seconds_left=max(0, int((booking.hold_expires_at - now()).total_seconds())),
    )
    settings = current_app.config["SETTINGS"]
    return security.allow_stripe(response, gateway.js_url(), settings.stripe_api_base)


@bp.post("/<id:booking_id>/pay")
@limited("payment")
def pay(booking_id: int):
    """JSON in ({"token"} or {"payment_method"}), JSON out: {"status", "client_secret"?,
    "next"?}; a declined card is a 402 with Stripe's message, the hold kept."""
    booking = mine(booking_id)
    body = read_json_object()  # within the JSON limits: too deep is a 400
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
@limited("payment")
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
                reason=GAVE_UP,
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


# What the customer's pages show of money, from the payments' own rules: the review
# page and the public service list (what is paid now, the refund policy), the
# booking's page (the receipt).


@bp.app_template_global()
def payment_due(service) -> policy.Due | None:
    """What booking ``service`` online asks to be paid now, or None (at the venue)."""
    return checkout.due_for(service, online_by_customer=True)


@bp.app_template_global()
def payment_policy(service) -> str:
    """The refund policy in a sentence, in the business's currency."""
    currency = service.organisation.currency
    return policy.describe(service, lambda cents: money(cents, currency))


@bp.app_template_global()
def receipt(booking) -> ledger.Summary:
    """What the booking's pages show of its payments."""
    return ledger.for_booking(booking.id)


@bp.app_template_global()
def gave_up(booking) -> bool:
    """Whether the booking is one its customer released without paying."""
    return booking.status == BookingStatus.CANCELLED and booking.cancel_reason == GAVE_UP


@cache
def wallet_country(timezone: str) -> str:
    """The business's country as two letters, which Stripe's wallet button asks for,
    from its time zone (the tz database's zone.tab); "GB" where the zone names none."""
    table = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    for line in table.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#") and fields[2] == timezone:
            return fields[0]
    return "GB"

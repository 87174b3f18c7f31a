"""Stripe's webhook, fed localstripe's own signed deliveries: verified, handled once,
safe when events come twice or out of order."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from models import Booking, Notification, Payment, PaymentRefund, StripeEvent
from tests.integration.payments import (
    deliver,
    held,
    intent_id,
    pay,
    refunds_at_stripe,
    status_of,
)
from tests.localstripe import CARD_OK, WEBHOOK_SECRET

pytestmark = pytest.mark.stripe


def signed(event: dict, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[bytes, str]:
    """An event signed as Stripe signs it (t=…,v1=HMAC-SHA256 of "t.payload")."""
    body = json.dumps(event).encode()
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={at},v1={mac}"


def post(client, body: bytes, signature: str):
    return client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def confirm_at_stripe(stripe_local, made: dict) -> None:
    """The customer's card reaches Stripe and succeeds, but the app has not heard yet
    (as when the browser is closed right after paying)."""
    card = stripe_local.api(
        "POST",
        "/v1/tokens",
        **{
            "card[number]": CARD_OK,
            "card[exp_month]": "12",
            "card[exp_year]": "2031",
            "card[cvc]": "123",
        },
    )["card"]["id"]
    stripe_local.api("POST", f"/v1/payment_intents/{intent_id(made)}", payment_method=card)
    stripe_local.api("POST", f"/v1/payment_intents/{intent_id(made)}/confirm")


def test_the_succeeded_webhook_confirms_the_booking_once(
    client, customer_api, paid, stripe_local, stripe_inbox, dispatched
):
    made = held(customer_api, paid["assessment"])
    confirm_at_stripe(stripe_local, made)
    delivery = stripe_inbox.wait_for("payment_intent.succeeded", intent_id(made))

    first = deliver(client, delivery)
    told = Notification.select().count()
    again = deliver(client, delivery)

    assert first == {"received": "confirmed"}
    assert again == {"received": "duplicate"}
    assert status_of(made["id"]) == "confirmed"
    payment = Payment.get(Payment.booking == made["id"])
    assert (payment.status, payment.card_last4) == ("succeeded", "4242")
    assert told == Notification.select().count() > 0  # told once
    assert StripeEvent.select().count() == 1


def test_a_return_after_the_webhook_changes_nothing(
    client, customer_api, paid, stripe_local, stripe_inbox
):
    made = held(customer_api, paid["assessment"])
    confirm_at_stripe(stripe_local, made)
    deliver(client, stripe_inbox.wait_for("payment_intent.succeeded", intent_id(made)))
    told = Notification.select().count()

    back = customer_api.post(f"/api/v1/bookings/{made['id']}/payment/check")

    assert back.status_code == 200
    assert back.json["status"] == "confirmed"
    assert Notification.select().count() == told


def test_a_forged_signature_is_refused_and_changes_nothing(client, customer_api, paid):
    made = held(customer_api, paid["assessment"])
    event = {
        "id": "evt_forged",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": intent_id(made),
                "object": "payment_intent",
                "status": "succeeded",
                "metadata": {"booking_id": str(made["id"])},
            }
        },
    }

    wrong_key = post(client, *signed(event, secret="whsec_someone_else"))
    no_header = post(client, signed(event)[0], "")
    stale = post(client, *signed(event, at=int(time.time()) - 3600))
    tampered_body, signature = signed(event)
    tampered = post(client, tampered_body.replace(b"forged", b"forgeD"), signature)

    for response in (wrong_key, no_header, stale, tampered):
        assert response.status_code == 400
        assert response.json["error"] == "bad_signature"
    assert status_of(made["id"]) == "pending_payment"
    assert StripeEvent.select().count() == 0


def test_a_correctly_signed_event_is_accepted(client, customer_api, paid):
    """The same check lets a genuine event through (so the 400s above are the signature's)."""
    made = held(customer_api, paid["assessment"])
    event = {
        "id": "evt_ok",
        "type": "payment_intent.canceled",
        "data": {"object": {"id": intent_id(made), "object": "payment_intent"}},
    }

    response = post(client, *signed(event))

    assert response.status_code == 200
    assert response.json == {"received": "canceled"}
    assert Payment.get(Payment.booking == made["id"]).status == "canceled"


def test_events_out_of_order_never_revive_a_booking(
    client, customer_api, paid, stripe_local, stripe_inbox, clock
):
    """The customer gave up the hold while their payment went through at Stripe: giving
    up finds the intent paid (it cannot be cancelled) and refunds it; the success that
    arrives afterwards changes nothing. The booking stays cancelled."""
    made = held(customer_api, paid["assessment"])
    confirm_at_stripe(stripe_local, made)
    succeeded = stripe_inbox.wait_for("payment_intent.succeeded", intent_id(made))
    customer_api.post(f"/api/v1/bookings/{made['id']}/cancel")  # before the event arrives

    answer = deliver(client, succeeded)

    assert answer == {"received": "nothing"}
    assert status_of(made["id"]) == "cancelled"
    payment = Payment.get(Payment.booking == made["id"])
    assert (payment.status, payment.refunded_cents) == ("refunded", payment.amount_cents)
    assert refunds_at_stripe(stripe_local, intent_id(made)) == [payment.amount_cents]
    assert Notification.get(Notification.kind == "payment_refunded").channel == "email"


def test_a_failure_after_a_success_changes_nothing(client, customer_api, paid, stripe_local):
    made = held(customer_api, paid["assessment"])
    customer_api.post(
        f"/api/v1/bookings/{made['id']}/payment", json={"token": stripe_local.card_token()}
    )
    late_failure = {
        "id": "evt_late_failure",
        "type": "payment_intent.payment_failed",
        "data": {
            "object": {
                "id": intent_id(made),
                "object": "payment_intent",
                "last_payment_error": {"message": "Your card was declined."},
            }
        },
    }

    assert post(client, *signed(late_failure)).status_code == 200
    assert status_of(made["id"]) == "confirmed"
    payment = Payment.get(Payment.booking == made["id"])
    assert (payment.status, payment.last_error) == ("succeeded", "")


def test_an_event_for_an_unknown_intent_is_acknowledged(client):
    event = {
        "id": "evt_other",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_not_ours", "object": "payment_intent"}},
    }

    response = post(client, *signed(event))

    assert response.status_code == 200
    assert response.json == {"received": "nothing"}
    assert Booking.select().count() == 0


def test_refund_events_are_counted_once_and_dashboard_refunds_recorded(
    client, customer_api, paid, stripe_local
):
    made = held(customer_api, paid["assessment"])
    pay(customer_api, made["id"], stripe_local.card_token())
    from_dashboard = {
        "id": "re_dashboard",
        "object": "refund",
        "amount": 500,
        "payment_intent": intent_id(made),
        "status": "succeeded",
    }
    for number in range(2):  # Stripe tells of it twice (created, then updated)
        event = {
            "id": f"evt_dash_{number}",
            "type": "refund.updated",
            "data": {"object": from_dashboard},
        }
        assert post(client, *signed(event)).status_code == 200
    payment = Payment.get(Payment.booking == made["id"])
    assert (payment.status, payment.refunded_cents) == ("partially_refunded", 500)

    cancelled = customer_api.post(f"/api/v1/bookings/{made['id']}/cancel", json={})
    ours = Payment.get(Payment.booking == made["id"]).refunds.order_by(PaymentRefund.id)[-1]
    reported = {
        "id": ours.stripe_id,
        "object": "refund",
        "amount": ours.amount_cents,
        "payment_intent": intent_id(made),
        "status": "succeeded",
    }
    event = {"id": "evt_ours", "type": "refund.updated", "data": {"object": reported}}
    assert post(client, *signed(event)).status_code == 200

    assert cancelled.json["payment"]["refunded_cents"] == 2000  # the rest, 1500
    assert ours.amount_cents == 1500
    payment = Payment.get(Payment.booking == made["id"])
    assert (payment.status, payment.refunded_cents) == ("refunded", 2000)
    assert payment.refunds.count() == 2

"""The hold: a slot kept while its customer pays, released when the time runs out,
and a payment that comes too late given back."""

from __future__ import annotations

import pytest

from models import Notification, Payment
from services.notifications.outbox import Dispatch
from services.payments import checkout, gateway
from tests.integration.payments import (
    book,
    deliver,
    held,
    intent_id,
    pay,
    refunds_at_stripe,
    status_of,
)
from tests.integration.test_payments_webhooks import confirm_at_stripe

pytestmark = pytest.mark.stripe


def sweep(clock) -> dict:
    return checkout.expire_due(clock(), Dispatch())


def test_a_hold_not_yet_due_stays(customer_api, other_api, paid, clock):
    made = held(customer_api, paid["assessment"])
    clock.advance(minutes=9, seconds=59)

    assert sweep(clock) == {"expired": 0, "cancelled": 0, "settled": 0}
    assert status_of(made["id"]) == "pending_payment"
    assert book(other_api, paid["assessment"]).status_code == 409


def test_an_expired_hold_frees_the_slot_and_cancels_the_intent(
    customer_api, other_api, paid, clock, stripe_local
):
    made = held(customer_api, paid["assessment"])
    clock.advance(minutes=10)

    assert sweep(clock) == {"expired": 1, "cancelled": 1, "settled": 0}
    shown = customer_api.get(f"/api/v1/bookings/{made['id']}").json
    assert (shown["status"], shown["hold_expires_at"]) == ("expired", None)
    assert shown["payment"]["status"] == "canceled"
    assert "client_secret" not in shown["payment"]
    intent = stripe_local.api("GET", f"/v1/payment_intents/{intent_id(made)}")
    assert intent["status"] == "canceled"
    slots = other_api.get(
        f"/api/v1/orgs/clinic/slots?service={paid['assessment'].id}&date=2026-11-30"
    ).json
    assert made["start"] in [s["start"] for s in slots["slots"]]
    assert held(other_api, paid["assessment"])["status"] == "pending_payment"
    assert sweep(clock) == {"expired": 0, "cancelled": 0, "settled": 0}  # once


def test_paying_after_the_hold_ran_out_is_refused(customer_api, paid, clock, stripe_local):
    made = held(customer_api, paid["assessment"])
    clock.advance(minutes=10, seconds=1)  # before the sweep has run

    response = pay(customer_api, made["id"], stripe_local.card_token())

    assert response.status_code == 409
    assert "ran out" in response.json["message"]
    assert Payment.get(Payment.booking == made["id"]).status == "requires_payment"


def test_a_success_found_by_the_sweep_after_expiry_is_refunded(
    customer_api, other_api, paid, clock, stripe_local, dispatched
):
    """The card went through at Stripe just as the hold ran out, and no webhook came:
    the sweep releases the slot, cannot cancel the intent, finds it paid, refunds it."""
    made = held(customer_api, paid["assessment"])
    confirm_at_stripe(stripe_local, made)
    clock.advance(minutes=11)

    assert sweep(clock) == {"expired": 1, "cancelled": 0, "settled": 1}
    assert status_of(made["id"]) == "expired"
    payment = Payment.get(Payment.booking == made["id"])
    assert (payment.status, payment.refunded_cents) == ("refunded", 2000)
    assert refunds_at_stripe(stripe_local, intent_id(made)) == [2000]
    told = Notification.get(Notification.kind == "payment_refunded")
    assert told.recipient_id == paid["customer"].id
    assert held(other_api, paid["assessment"])["status"] == "pending_payment"


def test_a_late_success_after_the_slot_was_taken_is_refunded_by_the_webhook(
    client, app, customer_api, other_api, paid, clock, stripe_local, stripe_inbox
):
    """Stripe was unreachable when the hold expired, the slot went to someone else, then
    the success arrives: refunded in full, the customer told, the new booking untouched."""
    made = held(customer_api, paid["assessment"])
    confirm_at_stripe(stripe_local, made)
    succeeded = stripe_inbox.wait_for("payment_intent.succeeded", intent_id(made))
    clock.advance(minutes=11)
    settings = app.config["SETTINGS"]
    gateway.configure(settings.with_overrides(stripe_api_base="http://127.0.0.1:9"))
    assert sweep(clock) == {"expired": 1, "cancelled": 1, "settled": 0}  # tried, failed
    gateway.configure(settings)
    other = held(other_api, paid["assessment"])

    assert deliver(client, succeeded) == {"received": "refunded"}
    assert deliver(client, succeeded) == {"received": "duplicate"}

    assert status_of(made["id"]) == "expired"
    assert status_of(other["id"]) == "pending_payment"
    payment = Payment.get(Payment.booking == made["id"])
    assert (payment.status, payment.refunded_cents) == ("refunded", 2000)
    assert refunds_at_stripe(stripe_local, intent_id(made)) == [2000]
    assert Notification.select().where(Notification.kind == "payment_refunded").count() == 1
    assert sweep(clock) == {"expired": 0, "cancelled": 0, "settled": 0}


def test_giving_up_releases_the_slot_at_once(customer_api, other_api, paid, stripe_local):
    made = held(customer_api, paid["assessment"])

    gone = customer_api.post(f"/api/v1/bookings/{made['id']}/cancel")

    assert gone.status_code == 200
    assert gone.json["status"] == "cancelled"
    assert gone.json["payment"]["status"] == "canceled"
    assert Notification.select().count() == 0  # never confirmed: nobody is told
    intent = stripe_local.api("GET", f"/v1/payment_intents/{intent_id(made)}")
    assert intent["status"] == "canceled"
    assert held(other_api, paid["assessment"])["status"] == "pending_payment"

"""Refunds by the policy: a customer cancelling in time gets everything back, inside
the window the deposit is kept (or the service's share refunded), the business
cancelling always refunds in full, a move keeps the payment; each refund once."""

from __future__ import annotations

import pytest

from models import Notification, Payment, PaymentRefund
from services.booking import appointments
from services.notifications.outbox import Dispatch
from services.payments import gateway, refunds
from tests.integration.payments import held, intent_id, pay, refunds_at_stripe

pytestmark = pytest.mark.stripe


@pytest.fixture
def paid_booking(customer_api, paid, stripe_local) -> dict:
    made = held(customer_api, paid["assessment"])
    assert pay(customer_api, made["id"], stripe_local.card_token()).json["status"] == "confirmed"
    return made


def cancel(api, booking: dict):
    return api.post(f"/api/v1/bookings/{booking['id']}/cancel", json={})


def test_cancelling_in_time_refunds_the_deposit_once(customer_api, paid_booking, stripe_local):
    first = cancel(customer_api, paid_booking)
    again = cancel(customer_api, paid_booking)

    assert first.status_code == 200
    payment = first.json["payment"]
    assert (payment["status"], payment["refunded_cents"]) == ("refunded", 2000)
    assert [(r["amount_cents"], r["status"]) for r in payment["refunds"]] == [(2000, "succeeded")]
    assert again.status_code == 409
    assert refunds_at_stripe(stripe_local, intent_id(paid_booking)) == [2000]
    detail = Notification.get(Notification.kind == "cancelled").detail
    assert '"refund_cents": 2000' in detail


def test_cancelling_inside_the_window_keeps_the_deposit(
    customer_api, paid_booking, clock, stripe_local
):
    clock.advance(days=4)  # Sunday noon: less than 24 hours before Monday 10:00

    response = cancel(customer_api, paid_booking)

    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    payment = response.json["payment"]
    assert (payment["status"], payment["refunded_cents"], payment["refunds"]) == (
        "succeeded",
        0,
        [],
    )
    assert refunds_at_stripe(stripe_local, intent_id(paid_booking)) == []
    detail = Notification.get(Notification.kind == "cancelled").detail
    assert '"kept_cents": 2000' in detail


def test_inside_the_window_the_service_may_refund_a_share(
    customer_api, paid, paid_booking, clock, stripe_local
):
    paid["assessment"].late_cancel_refund_percent = 50
    paid["assessment"].save()
    clock.advance(days=4)

    payment = cancel(customer_api, paid_booking).json["payment"]

    assert (payment["status"], payment["refunded_cents"]) == ("partially_refunded", 1000)
    assert refunds_at_stripe(stripe_local, intent_id(paid_booking)) == [1000]


def test_an_unpaid_booking_still_cannot_be_cancelled_inside_the_window(customer_api, paid, clock):
    made = customer_api.post(
        "/api/v1/bookings", json={"service": paid["follow_up"].id, "start": "2026-11-30T10:00:00Z"}
    ).json
    clock.advance(days=4)

    response = cancel(customer_api, made)

    assert response.status_code == 409
    assert response.json["error"] == "outside_cancellation_window"


def test_the_business_cancelling_refunds_in_full_even_inside_the_window(
    paid, paid_booking, clock, stripe_local
):
    clock.advance(days=4)

    appointments.cancel(
        booking_id=paid_booking["id"],
        actor_id=paid["owner"].id,
        reason="Ana is ill",
        now=clock(),
        dispatch=Dispatch(),
    )

    payment = Payment.get(Payment.booking == paid_booking["id"])
    assert (payment.status, payment.refunded_cents) == ("refunded", 2000)
    assert PaymentRefund.get().reason == "business_cancelled"
    assert refunds_at_stripe(stripe_local, intent_id(paid_booking)) == [2000]


def test_a_move_keeps_the_payment(customer_api, paid_booking):
    moved = customer_api.post(
        f"/api/v1/bookings/{paid_booking['id']}/reschedule",
        json={"start": "2026-11-30T14:00:00Z"},
    )

    assert moved.status_code == 200, moved.json
    assert moved.json["status"] == "confirmed"
    assert moved.json["payment"]["status"] == "succeeded"
    assert moved.json["payment"]["amount_cents"] == 2000
    assert Payment.select().where(Payment.booking == paid_booking["id"]).count() == 0
    assert PaymentRefund.select().count() == 0


def test_a_refund_stripe_did_not_answer_for_is_sent_later_once(
    app, customer_api, paid_booking, clock, stripe_local
):
    settings = app.config["SETTINGS"]
    gateway.configure(settings.with_overrides(stripe_api_base="http://127.0.0.1:9"))
    response = cancel(customer_api, paid_booking)
    gateway.configure(settings)

    assert response.status_code == 200  # cancelled; the refund waits
    assert [r["status"] for r in response.json["payment"]["refunds"]] == ["pending"]
    assert refunds_at_stripe(stripe_local, intent_id(paid_booking)) == []
    assert refunds.retry_pending(clock()) == 1
    assert refunds.retry_pending(clock()) == 0
    payment = Payment.get(Payment.booking == paid_booking["id"])
    assert (payment.status, payment.refunded_cents) == ("refunded", 2000)
    assert refunds_at_stripe(stripe_local, intent_id(paid_booking)) == [2000]


def test_deleting_the_account_refunds_by_the_policy_and_releases_holds(
    customer_api, paid, paid_booking, stripe_local
):
    hold = held(customer_api, paid["massage"], "2026-11-30T14:00:00+00:00")

    assert customer_api.delete("/api/v1/me").status_code == 204

    payment = Payment.get(Payment.booking == paid_booking["id"])
    assert (payment.status, payment.refunded_cents) == ("refunded", 2000)  # in time: all back
    assert refunds_at_stripe(stripe_local, intent_id(paid_booking)) == [2000]
    intent = stripe_local.api("GET", f"/v1/payment_intents/{intent_id(hold)}")
    assert intent["status"] == "canceled"


def test_a_refund_goes_to_the_account_the_payment_went_through(
    customer_api, paid, paid_booking, stripe_local
):
    """Paid through the environment's account; then the business connects its own: the
    refund still goes to the environment's, which holds the money."""
    org = paid["org"]
    org.stripe_publishable_key, org.stripe_secret_key = "pk_test_own", "sk_test_own"
    org.save()

    response = cancel(customer_api, paid_booking)

    assert [r["status"] for r in response.json["payment"]["refunds"]] == ["succeeded"]
    assert refunds_at_stripe(stripe_local, intent_id(paid_booking)) == [2000]
    payment = Payment.get(Payment.booking == paid_booking["id"])
    assert payment.account == gateway._environment().fingerprint


def test_after_the_business_replaced_its_own_keys_old_refunds_say_so(
    customer_api, paid, stripe_local
):
    """Paid through the business's own account, whose keys were then replaced by
    another account's: the refund is never sent to the wrong account; it is marked
    failed, and the customer's page says the business will be in touch."""
    org = paid["org"]
    org.stripe_publishable_key, org.stripe_secret_key = "pk_test_first", "sk_test_first"
    org.save()
    made = held(customer_api, paid["assessment"])
    assert pay(customer_api, made["id"], stripe_local.card_token()).json["status"] == "confirmed"
    org.stripe_publishable_key, org.stripe_secret_key = "pk_test_second", "sk_test_second"
    org.save()

    response = cancel(customer_api, made)

    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert [r["status"] for r in response.json["payment"]["refunds"]] == ["failed"]
    assert refunds_at_stripe(stripe_local, intent_id(made)) == []

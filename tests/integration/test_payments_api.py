"""Paying for a booking through the API, against localstripe: the hold, the payment
(3-D Secure included), a declined card, and the contract other clients rely on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Booking, Notification, Payment
from tests.integration.payments import DEPOSIT, MASSAGE, book, held, intent_id, pay
from tests.localstripe import CARD_3DS, CARD_DECLINED, CARD_OK

pytestmark = pytest.mark.stripe


def test_a_deposit_service_holds_the_slot_and_answers_the_contract(
    customer_api, other_api, paid, clock, dispatched
):
    made = held(customer_api, paid["assessment"])

    assert made["hold_expires_at"] == (clock() + timedelta(minutes=10)).isoformat()
    payment = made["payment"]
    assert payment["status"] == "requires_payment"
    assert payment["client_secret"].startswith("pi_")
    assert "_secret_" in payment["client_secret"]
    assert payment["publishable_key"] == "pk_test_kairos"
    assert (payment["amount_cents"], payment["currency"]) == (DEPOSIT, "gbp")
    assert dispatched == []  # nobody is told of a booking before it is paid
    taken = book(other_api, paid["assessment"])
    assert taken.status_code == 409
    assert taken.json["error"] == "slot_taken"


def test_paying_the_deposit_confirms_the_booking_and_keeps_a_receipt(
    customer_api, paid, stripe_local, dispatched
):
    made = held(customer_api, paid["assessment"])

    response = pay(customer_api, made["id"], stripe_local.card_token(CARD_OK))

    assert response.status_code == 200, response.json
    assert response.json["status"] == "confirmed"
    assert response.json["hold_expires_at"] is None
    payment = response.json["payment"]
    assert payment["status"] == "succeeded"
    assert payment["card"] == {"brand": "Visa", "last4": "4242"}
    assert payment["paid_at"] is not None
    assert "client_secret" not in payment  # nothing left to pay
    intent = stripe_local.api("GET", f"/v1/payment_intents/{intent_id(made)}")
    assert (intent["status"], intent["amount"]) == ("succeeded", DEPOSIT)
    assert intent["metadata"]["booking_id"] == str(made["id"])
    kinds = {n.kind for n in Notification.select()}
    assert kinds == {"confirmed", "staff_new"}
    assert len(dispatched) == Notification.select().count()


def test_full_prepayment_takes_the_whole_price(customer_api, paid, stripe_local):
    made = held(customer_api, paid["massage"])
    assert made["payment"]["amount_cents"] == MASSAGE
    assert made["payment"]["kind"] == "full"

    done = pay(customer_api, made["id"], stripe_local.card_token()).json

    assert done["status"] == "confirmed"
    assert (done["payment"]["status"], done["payment"]["amount_cents"]) == ("succeeded", MASSAGE)


def test_the_follow_up_is_paid_at_the_venue(customer_api, paid):
    made = book(customer_api, paid["follow_up"])

    assert made.status_code == 201
    assert (made.json["status"], made.json["payment"]) == ("confirmed", None)


def test_three_d_secure_completed_confirms(customer_api, paid, stripe_local):
    made = held(customer_api, paid["assessment"])

    asked = pay(customer_api, made["id"], stripe_local.card_token(CARD_3DS)).json
    assert asked["status"] == "pending_payment"
    assert asked["payment"]["next_action"] == "authenticate"
    stripe_local.authenticate(intent_id(made), asked["payment"]["client_secret"], success=True)
    done = customer_api.post(f"/api/v1/bookings/{made['id']}/payment/check").json

    assert done["status"] == "confirmed"
    assert done["payment"]["status"] == "succeeded"


def test_three_d_secure_failed_keeps_the_hold_for_another_card(
    customer_api, other_api, paid, stripe_local
):
    made = held(customer_api, paid["assessment"])
    asked = pay(customer_api, made["id"], stripe_local.card_token(CARD_3DS)).json
    stripe_local.authenticate(intent_id(made), asked["payment"]["client_secret"], success=False)

    failed = customer_api.post(f"/api/v1/bookings/{made['id']}/payment/check")

    assert failed.status_code == 402
    assert failed.json["error"] == "payment_declined"
    assert "authentication" in failed.json["message"]
    assert Booking.get_by_id(made["id"]).status == "pending_payment"
    assert book(other_api, paid["assessment"]).status_code == 409  # still held
    again = pay(customer_api, made["id"], stripe_local.card_token(CARD_OK)).json
    assert again["status"] == "confirmed"


def test_a_declined_card_keeps_the_hold_with_stripes_message(
    customer_api, other_api, paid, stripe_local
):
    made = held(customer_api, paid["assessment"])

    declined = pay(customer_api, made["id"], stripe_local.card_token(CARD_DECLINED))

    assert declined.status_code == 402
    assert declined.json == {"error": "payment_declined", "message": "Your card was declined."}
    shown = customer_api.get(f"/api/v1/bookings/{made['id']}").json
    assert shown["status"] == "pending_payment"
    assert shown["payment"]["last_error"] == "Your card was declined."
    assert book(other_api, paid["assessment"]).status_code == 409
    assert pay(customer_api, made["id"], stripe_local.card_token()).json["status"] == "confirmed"


def test_a_booking_is_not_paid_for_by_someone_else(customer_api, other_api, paid, stripe_local):
    made = held(customer_api, paid["assessment"])

    response = pay(other_api, made["id"], stripe_local.card_token())

    assert response.status_code == 404
    assert Payment.get(Payment.booking == made["id"]).status == "requires_payment"


def test_paying_twice_charges_once(customer_api, paid, stripe_local):
    made = held(customer_api, paid["assessment"])
    pay(customer_api, made["id"], stripe_local.card_token())
    charged = stripe_local.api("GET", f"/v1/payment_intents/{intent_id(made)}")["latest_charge"]

    again = pay(customer_api, made["id"], stripe_local.card_token())

    assert again.status_code == 409
    assert "already paid" in again.json["message"]
    intent = stripe_local.api("GET", f"/v1/payment_intents/{intent_id(made)}")
    assert intent["latest_charge"] == charged  # no second charge
    assert Payment.select().where(Payment.booking == made["id"]).count() == 1


def test_without_stripe_down_nothing_is_booked(customer_api, paid, app):
    from services.payments import gateway

    settings = app.config["SETTINGS"].with_overrides(stripe_api_base="http://127.0.0.1:9")
    gateway.configure(settings)

    response = book(customer_api, paid["assessment"])

    assert response.status_code == 503
    assert response.json["error"] == "payment_unavailable"
    assert Booking.select().where(Booking.status.not_in(("expired",))).count() == 0
    gateway.configure(
        settings.with_overrides(stripe_api_base=app.config["SETTINGS"].stripe_api_base)
    )
    assert held(customer_api, paid["assessment"])["status"] == "pending_payment"


def test_card_testing_meets_the_payment_limit(customer_api, paid, stripe_local):
    made = held(customer_api, paid["assessment"])
    declined = stripe_local.card_token(CARD_DECLINED)

    answers = [pay(customer_api, made["id"], declined).status_code for _ in range(21)]

    assert answers[:20] == [402] * 20
    assert answers[20] == 429


def test_junk_and_deep_json_are_4xx_never_500(client, customer_api, paid):
    made = held(customer_api, paid["assessment"])
    deep = b'{"token": ' + b"[" * 5000 + b"]" * 5000 + b"}"

    api_deep = customer_api.client.post(
        f"/api/v1/bookings/{made['id']}/payment",
        data=deep,
        headers={**customer_api._headers(None), "Content-Type": "application/json"},
    )
    webhook_deep = client.post(
        "/stripe/webhook",
        data=b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        headers={"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"},
    )
    huge_id = customer_api.post(
        "/api/v1/bookings/99999999999999999999/payment", json={"token": "x"}
    )

    assert api_deep.status_code == 400
    assert webhook_deep.status_code == 400
    assert huge_id.status_code == 404

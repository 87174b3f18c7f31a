"""What the payment tests share (their fixtures are in tests/conftest.py: the
``stripe`` mark, ``paid``, ``stripe_inbox``, ``other_api``): booking, paying, and
handing localstripe's signed webhooks to the app."""

from __future__ import annotations

import json

from models import Booking, Payment, PaymentRefund

MONDAY_10 = "2026-11-30T10:00:00+00:00"  # the clock says Wednesday 25 November, noon
DEPOSIT = 2000
MASSAGE = 5500


def book(api, service, start: str = MONDAY_10, provider=None):
    body = {"service": service.id, "start": start}
    if provider is not None:
        body["provider"] = provider.id
    return api.post("/api/v1/bookings", json=body)


def held(api, service, start: str = MONDAY_10) -> dict:
    response = book(api, service, start)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "pending_payment"
    return response.json


def pay(api, booking_id: int, token: str):
    return api.post(f"/api/v1/bookings/{booking_id}/payment", json={"token": token})


def intent_id(booking: dict) -> str:
    return booking["payment"]["client_secret"].split("_secret_")[0]


def deliver(client, delivery) -> dict:
    """Hand one of localstripe's webhook deliveries to the app, as it came."""
    response = client.post(
        "/stripe/webhook",
        data=delivery.body,
        headers={"Stripe-Signature": delivery.signature, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def event_type(delivery) -> str:
    return json.loads(delivery.body)["type"]


def refunds_of(booking_id: int) -> list[PaymentRefund]:
    return list(PaymentRefund.select().join(Payment).where(Payment.booking == booking_id))


def status_of(booking_id: int) -> str:
    return Booking.get_by_id(booking_id).status


def refunds_at_stripe(stripe_local, intent: str) -> list[int]:
    """The amounts Stripe (localstripe) refunded on ``intent``. (localstripe's own filter
    by payment_intent lists every refund, so they are filtered here.)"""
    listed = stripe_local.api("GET", "/v1/refunds", limit=100)["data"]
    return [r["amount"] for r in listed if r["payment_intent"] == intent]

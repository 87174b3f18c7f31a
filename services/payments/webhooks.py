"""Stripe's webhook: signed events about payments and refunds, each handled once.

The signature is checked before anything changes, against the webhook secret of the
business the event's booking belongs to, or the environment's. An event id already
handled changes nothing (StripeEvent). Order does not matter: every handler is a
conditional move from the state it expects, and a success for a booking that is no
longer held becomes a refund (checkout.settle), never a confirmation.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from peewee import IntegrityError

from models import Organisation, Payment, PaymentRefund, StripeEvent, db
from models.payments import PaymentStatus
from services.notifications.outbox import Dispatch
from services.payments import checkout, gateway, refunds

log = logging.getLogger("kairos.payments")

HANDLED = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "refund.created",
    "refund.updated",
)


def receive(payload: bytes, signature: str, now: datetime, dispatch: Dispatch) -> str:
    """Verify and handle one delivery; returns what was done. gateway.BadSignature
    when the signature does not hold (the view answers 400)."""
    event = gateway.verify(payload, signature, _secrets_for(payload))
    kind = event.get("type", "")
    try:
        with db.atomic():
            StripeEvent.create(event_id=event["id"], type=kind[:64], received_at=now)
    except IntegrityError:
        return "duplicate"
    obj = (event.get("data") or {}).get("object") or {}
    try:
        return _handle(kind, obj, now, dispatch)
    except Exception:
        # Not handled after all: forget the event, so that Stripe's retry is.
        StripeEvent.delete().where(StripeEvent.event_id == event["id"]).execute()
        raise


def _handle(kind: str, obj, now: datetime, dispatch: Dispatch) -> str:
    if kind == "payment_intent.succeeded":
        return checkout.settle(obj, now, dispatch)
    if kind == "payment_intent.payment_failed":
        error = obj.get("last_payment_error") or {}
        Payment.update(last_error=(error.get("message") or "The payment failed.")[:500]).where(
            (Payment.intent_id == obj.get("id"))
            & (Payment.status == PaymentStatus.REQUIRES_PAYMENT)
        ).execute()
        return "failed"
    if kind == "payment_intent.canceled":
        Payment.update(status=PaymentStatus.CANCELED).where(
            (Payment.intent_id == obj.get("id"))
            & (Payment.status == PaymentStatus.REQUIRES_PAYMENT)
        ).execute()
        return "canceled"
    if kind in ("refund.created", "refund.updated"):
        return _refund_seen(obj)
    if kind == "charge.refunded":
        for item in (obj.get("refunds") or {}).get("data", []):
            _refund_seen(item)
        return "refunds"
    return "ignored"


def _refund_seen(refund) -> str:
    """A refund Stripe reports: ours (by its id, or still pending under its key) is
    marked done once; one made in Stripe's dashboard is recorded as the business's."""
    row = PaymentRefund.get_or_none(PaymentRefund.stripe_id == refund.get("id"))
    if row is None:
        payment = Payment.get_or_none(Payment.intent_id == refund.get("payment_intent"))
        if payment is None:
            return "unknown"
        pending = (
            PaymentRefund.select()
            .where(
                (PaymentRefund.payment == payment.id)
                & (PaymentRefund.status == "pending")
                & (PaymentRefund.amount_cents == refund.get("amount"))
            )
            .first()
        )
        if pending is None:
            try:
                with db.atomic():
                    pending = PaymentRefund.create(
                        payment=payment.id,
                        key=f"stripe-{refund.get('id')}",
                        amount_cents=refund.get("amount"),
                        status="pending",
                        reason="stripe_dashboard",
                        created_at=payment.created_at,
                    )
            except IntegrityError:
                return "duplicate"
        row = pending
    refunds.succeeded(row.id, refund.get("id"), refund.get("status") or "succeeded")
    return "refund"


def _secrets_for(payload: bytes) -> list[str]:
    """The webhook secrets the event may be signed with: its business's, found through
    the booking in its metadata (read before the signature is checked, but only to
    choose the secret), and the environment's."""
    secrets = []
    try:
        obj = json.loads(payload).get("data", {}).get("object", {})
        intent = (
            obj.get("payment_intent") if obj.get("object") != "payment_intent" else obj.get("id")
        )
        org_id = (obj.get("metadata") or {}).get("organisation_id")
    except (ValueError, AttributeError, RecursionError):
        return [gateway.env_webhook_secret()]
    org = None
    if intent:
        payment = Payment.get_or_none(Payment.intent_id == intent)
        org = payment.organisation if payment else None
    if org is None and isinstance(org_id, str) and org_id.isdigit():
        org = Organisation.get_or_none(Organisation.id == int(org_id))
    if org is not None and org.stripe_webhook_secret:
        secrets.append(org.stripe_webhook_secret)
    secrets.append(gateway.env_webhook_secret())
    return [s for s in secrets if s]

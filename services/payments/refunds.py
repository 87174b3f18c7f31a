"""Giving money back: each refund once, whatever retries or replays happen.

A refund is a PaymentRefund row first (its ``key`` unique: the second attempt finds
the first), then Stripe's refund with that key as the Idempotency-Key, then the row
and the payment's refunded total updated together, conditionally from ``pending``. A
refund Stripe could not be reached for stays pending, and the sweep tries it again
with the same key.
"""

from __future__ import annotations

import logging
from datetime import datetime

import stripe
from peewee import IntegrityError

from models import Booking, Payment, PaymentRefund, db
from models.payments import PaymentStatus
from services.payments import gateway, policy

log = logging.getLogger("kairos.payments")


def refund(
    payment: Payment,
    cents: int,
    *,
    reason: str,
    key: str,
    now: datetime,
    actor_id: int | None = None,
) -> PaymentRefund | None:
    """Refund ``cents`` of an online ``payment`` (never more than it still keeps), once
    per ``key``. Returns the refund (pending if Stripe is not answering), or None when
    there is nothing to give back."""
    cents = min(cents, payment.kept_cents)
    existing = PaymentRefund.get_or_none(PaymentRefund.key == key)
    if existing is None:
        if cents <= 0:
            return None
        try:
            with db.atomic():
                existing = PaymentRefund.create(
                    payment=payment.id,
                    key=key,
                    amount_cents=cents,
                    status="pending",
                    reason=reason,
                    actor=actor_id,
                    created_at=now,
                )
        except IntegrityError:
            existing = PaymentRefund.get(PaymentRefund.key == key)  # a concurrent twin
    if existing.status == "pending":
        _send(existing, payment)
        existing = PaymentRefund.get_by_id(existing.id)
    return existing


def _send(row: PaymentRefund, payment: Payment) -> None:
    try:
        account = gateway.account_of(payment)
    except gateway.AccountGone as gone:
        log.warning("refund.account_gone key=%s: %s", row.key, gone)
        PaymentRefund.update(status="failed").where(
            (PaymentRefund.id == row.id) & (PaymentRefund.status == "pending")
        ).execute()
        return
    try:
        made = account.client().v1.refunds.create(
            params={
                "payment_intent": payment.intent_id,
                "amount": row.amount_cents,
                "metadata": {"booking_id": str(payment.booking_id), "reason": row.reason},
            },
            options={"idempotency_key": f"kairos-refund-{row.key}"},
        )
    except stripe.StripeError as exc:
        log.warning("refund.failed key=%s error=%s", row.key, exc)
        return  # stays pending; the sweep tries again with the same key
    succeeded(row.id, made.id, made.status)


def succeeded(row_id: int, stripe_id: str, status: str) -> None:
    """Stripe has the refund: the row and the payment's total, once."""
    if status not in ("succeeded", "pending"):
        PaymentRefund.update(status="failed", stripe_id=stripe_id).where(
            (PaymentRefund.id == row_id) & (PaymentRefund.status == "pending")
        ).execute()
        return
    with db.atomic():
        row = PaymentRefund.get_by_id(row_id)
        changed = (
            PaymentRefund.update(status="succeeded", stripe_id=stripe_id)
            .where((PaymentRefund.id == row_id) & (PaymentRefund.status == "pending"))
            .execute()
        )
        if changed:
            _add_refunded(row.payment_id, row.amount_cents)
    if changed:
        log.info("refund.succeeded key=%s amount=%s", row.key, row.amount_cents)


def on_cancel_split(
    booking: Booking, *, by_business: bool, inside_window: bool
) -> list[tuple[Payment, int, int]]:
    """For each online payment the booking keeps: (payment, refunded, kept) if it were
    cancelled now, by the policy. What the cancel page says, and what plan_on_cancel
    writes."""
    split = []
    for payment in _online(booking.id):
        paid = payment.kept_cents
        cents = policy.refund_on_cancel(
            paid, booking.service, by_business=by_business, inside_window=inside_window
        )
        split.append((payment, cents, paid - cents))
    return split


def totals(split: list[tuple[Payment, int, int]]) -> dict[str, int]:
    return {
        "refund_cents": sum(refunded for _, refunded, _ in split),
        "kept_cents": sum(kept for _, _, kept in split),
    }


def plan_on_cancel(
    booking: Booking, *, by_business: bool, inside_window: bool, actor_id: int, now: datetime
) -> dict[str, int]:
    """A paid booking is being cancelled (in the cancellation's transaction): write the
    refunds its online payments get by the policy, pending until send_pending. Returns
    what is refunded and what is kept, for the messages."""
    split = on_cancel_split(booking, by_business=by_business, inside_window=inside_window)
    for payment, cents, _kept in split:
        if cents <= 0:
            continue
        key = f"booking-{booking.id}-cancel-{payment.id}"
        if not PaymentRefund.select().where(PaymentRefund.key == key).exists():
            PaymentRefund.create(
                payment=payment.id,
                key=key,
                amount_cents=cents,
                status="pending",
                reason="business_cancelled" if by_business else "customer_cancelled",
                actor=actor_id,
                created_at=now,
            )
    return totals(split)


def send_pending(booking_id: int) -> None:
    """Ask Stripe for the booking's refunds still pending (each with its own key)."""
    rows = (
        PaymentRefund.select(PaymentRefund, Payment)
        .join(Payment)
        .where((Payment.booking == booking_id) & (PaymentRefund.status == "pending"))
    )
    for row in rows:
        _send(row, row.payment)


def _add_refunded(payment_id: int, cents: int) -> None:
    """Add to the payment's refunded total (never past its amount: a refund made in
    Stripe's dashboard may overlap ours), from the total it had when read."""
    for _ in range(5):
        payment = Payment.get_by_id(payment_id)
        total = min(payment.amount_cents, payment.refunded_cents + cents)
        status = (
            PaymentStatus.REFUNDED
            if total >= payment.amount_cents
            else PaymentStatus.PARTIALLY_REFUNDED
        )
        if (
            Payment.update(refunded_cents=total, status=status)
            .where((Payment.id == payment_id) & (Payment.refunded_cents == payment.refunded_cents))
            .execute()
        ):
            return
    raise RuntimeError(f"payment {payment_id}: its refunded total kept changing")


def _online(booking_id: int):
    return Payment.select().where(
        (Payment.booking == booking_id)
        & (Payment.intent_id.is_null(False))
        & Payment.status.in_((PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED))
    )


def retry_pending(now: datetime) -> int:
    """Refunds Stripe did not answer for: sent again, with the same key."""
    sent = 0
    for row in PaymentRefund.select().where(PaymentRefund.status == "pending").limit(100):
        _send(row, row.payment)
        sent += 1
    return sent


def for_booking(booking_id: int) -> list[PaymentRefund]:
    return list(
        PaymentRefund.select()
        .join(Payment)
        .where(Payment.booking == booking_id)
        .order_by(PaymentRefund.id)
    )

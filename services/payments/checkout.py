"""The hold and the payment: from a booking pending payment to a confirmed one, or to
an expired hold whose slot is free again. See the package's docstring for the order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import stripe

from models import Booking, BookingStatus, Payment, Service, db
from models.payments import ONLINE_KINDS, PaymentStatus
from services.calendar import outbox as calendar_outbox
from services.errors import NotChangeable, NotFound, PaymentDeclined, PaymentUnavailable
from services.notifications import outbox as notify
from services.notifications.outbox import Dispatch
from services.observability import metrics
from services.payments import gateway, policy, refunds
from services.payments.policy import Due

log = logging.getLogger("kairos.payments")

SWEEP_BATCH = 100


def due_for(service: Service, *, online_by_customer: bool) -> Due | None:
    """What must be paid before a booking of ``service`` is confirmed: something only
    when the customer books online, the service asks it, and the business can take
    payments (gateway.account_for). Staff booking at the desk take it at the venue."""
    if not online_by_customer:
        return None
    due = policy.due_online(service)
    if due is None or gateway.account_for(service.organisation) is None:
        return None
    return due


def hold_until(now: datetime) -> datetime:
    return now + timedelta(minutes=gateway.hold_minutes())


def open_hold(
    booking: Booking, service: Service, due: Due, now: datetime, *, attempt: int = 1
) -> Payment:
    """Create the booking's PaymentIntent (once: the Idempotency-Key is the booking's)
    after the pending booking was committed. If Stripe cannot be reached the hold is
    released at once and PaymentUnavailable raised: nothing stays booked."""
    account = gateway.account_for(service.organisation)
    payment = Payment.create(
        booking=booking.id,
        organisation=booking.organisation_id,
        account=account.fingerprint if account else None,
        kind=due.kind,
        amount_cents=due.amount_cents,
        currency=booking.currency,
        status=PaymentStatus.REQUIRES_PAYMENT,
        created_at=now,
    )
    try:
        if account is None:
            raise PaymentUnavailable("This business does not take payments online now.")
        intent = account.client().v1.payment_intents.create(
            params={
                "amount": due.amount_cents,
                "currency": booking.currency.lower(),
                "payment_method_types": ["card"],
                "metadata": {
                    "booking_id": str(booking.id),
                    "organisation_id": str(booking.organisation_id),
                    "service": service.name[:200],
                },
            },
            options={"idempotency_key": f"kairos-booking-{booking.id}-intent-{attempt}"},
        )
    except (stripe.StripeError, PaymentUnavailable) as exc:
        log.warning("payment.intent_failed booking_id=%s error=%s", booking.id, exc)
        if attempt > 1:  # a new card for a hold: the hold stays, this intent does not
            Payment.delete().where(Payment.id == payment.id).execute()
            raise PaymentUnavailable("We could not reach the card payment service.") from exc
        _release(booking.id, now, "payment_unavailable")
        Payment.update(status=PaymentStatus.CANCELED).where(Payment.id == payment.id).execute()
        if isinstance(exc, PaymentUnavailable):
            raise
        raise PaymentUnavailable(
            "Card payments are not available right now, so nothing was booked."
            " Please try again in a minute."
        ) from exc
    Payment.update(intent_id=intent.id, client_secret=intent.client_secret).where(
        Payment.id == payment.id
    ).execute()
    payment.intent_id, payment.client_secret = intent.id, intent.client_secret
    log.info("payment.hold booking_id=%s intent=%s", booking.id, intent.id)
    return payment


def _client(payment: Payment):
    """Stripe, as the account ``payment`` went through."""
    try:
        return gateway.account_of(payment).client()
    except gateway.AccountGone as gone:
        raise PaymentUnavailable(str(gone)) from gone


def online_payment(booking_id: int) -> Payment | None:
    return (
        Payment.select()
        .where((Payment.booking == booking_id) & Payment.kind.in_(ONLINE_KINDS))
        .order_by(Payment.id.desc())
        .first()
    )


@dataclass(frozen=True)
class Attempt:
    """Where a payment stands after the customer tried: ``succeeded`` (the booking is
    confirmed), ``requires_action`` (the bank wants 3-D Secure: the browser does it
    with ``client_secret``), or ``processing``."""

    status: str
    client_secret: str = ""


def pay(
    booking: Booking,
    now: datetime,
    dispatch: Dispatch,
    *,
    token: str | None = None,
    payment_method: str | None = None,
) -> Attempt:
    """Pay for a held booking with the card Stripe.js collected (a token, or a wallet's
    payment method), confirmed here on the server. A declined card raises
    PaymentDeclined with Stripe's message and keeps the hold for another try."""
    payment = _payable(booking, now)
    client = _client(payment)
    try:
        card = None
        if token:
            card = gateway.plain(client.v1.tokens.retrieve(token))["card"]
            method = card["id"]
        elif payment_method:
            method = payment_method
        else:
            raise PaymentDeclined("Enter your card details.")
        client.v1.payment_intents.update(payment.intent_id, params={"payment_method": method})
        intent = gateway.plain(client.v1.payment_intents.confirm(payment.intent_id))
    except stripe.CardError as exc:
        # The declined attempt stays on this intent; the next card goes on a new one.
        _renew(booking, payment, now)
        return _declined(payment, exc.user_message or "Your card was declined.")
    except stripe.InvalidRequestError as exc:
        # A token from another account, or an intent no longer payable (it was paid or
        # cancelled meanwhile): look at the intent itself.
        log.info("payment.confirm_refused booking_id=%s error=%s", booking.id, exc)
        return check(booking, now, dispatch)
    except stripe.StripeError as exc:
        log.warning("payment.confirm_failed booking_id=%s error=%s", booking.id, exc)
        raise PaymentUnavailable(
            "We could not reach the card payment service. Your card was not charged;"
            " please try again."
        ) from exc
    if card is not None:  # the receipt's card, known already
        intent["_card"] = (_brand(card.get("brand")), card.get("last4"))
    return _after(intent, payment, booking, now, dispatch)


def check(booking: Booking, now: datetime, dispatch: Dispatch) -> Attempt:
    """Ask Stripe where the booking's payment stands (the customer is back from 3-D
    Secure, or reloaded the page) and act on it as the webhook would."""
    payment = online_payment(booking.id)
    if payment is None or payment.intent_id is None:
        raise NotFound("This booking has no payment.")
    if payment.status != PaymentStatus.REQUIRES_PAYMENT:
        return Attempt(str(payment.status))
    try:
        client = _client(payment)
        intent = gateway.plain(client.v1.payment_intents.retrieve(payment.intent_id))
    except stripe.StripeError as exc:
        raise PaymentUnavailable("We could not check the payment just now. Try again.") from exc
    return _after(intent, payment, booking, now, dispatch)


def _after(intent, payment: Payment, booking: Booking, now: datetime, dispatch) -> Attempt:
    status = intent["status"]
    if status == "succeeded":
        settle(intent, now, dispatch)
        return Attempt("succeeded")
    if status == "requires_action":
        return Attempt("requires_action", payment.client_secret or intent["client_secret"])
    if status == "requires_payment_method":
        error = intent.get("last_payment_error") or {}
        if error:
            return _declined(payment, error.get("message") or "The payment did not go through.")
        return Attempt("requires_payment")
    if status == "canceled":
        raise NotChangeable("This hold has ended, and the payment with it. Please book again.")
    return Attempt(status)


def _renew(booking: Booking, old: Payment, now: datetime) -> None:
    """A fresh intent for the same hold after a declined card, the old one cancelled
    first so that it can never be paid as well."""
    client = _client(old)
    try:
        client.v1.payment_intents.cancel(old.intent_id)
    except stripe.StripeError as exc:
        log.warning("payment.renew_cancel_failed intent=%s error=%s", old.intent_id, exc)
        return  # the old intent stays the one to pay
    Payment.update(status=PaymentStatus.CANCELED, last_error="").where(
        (Payment.id == old.id) & (Payment.status == PaymentStatus.REQUIRES_PAYMENT)
    ).execute()
    attempt = Payment.select().where(Payment.booking == booking.id).count() + 1
    open_hold(booking, booking.service, Due(old.kind, old.amount_cents), now, attempt=attempt)


def _declined(payment: Payment, message: str) -> Attempt:
    latest = online_payment(payment.booking_id)  # renewed, or the same
    Payment.update(last_error=message).where(Payment.id == latest.id).execute()
    raise PaymentDeclined(message)


def _payable(booking: Booking, now: datetime) -> Payment:
    if booking.status != BookingStatus.PENDING_PAYMENT:
        if booking.status == BookingStatus.CONFIRMED:
            raise NotChangeable("This booking is already paid for and confirmed.")
        raise NotChangeable("The time held for this payment ran out. Please book again.")
    if booking.hold_expires_at is not None and booking.hold_expires_at <= now:
        raise NotChangeable("The time held for this payment ran out. Please book again.")
    payment = online_payment(booking.id)
    if payment is None or payment.intent_id is None:
        raise NotChangeable("This booking has no payment to make.")
    return payment


def settle(intent: dict, now: datetime, dispatch: Dispatch) -> str:
    """A PaymentIntent succeeded: record it, and confirm its booking if it is still held.
    Once, whoever calls first (webhook, the customer's return, the sweep): the payment's
    and the booking's conditional updates decide. A payment for a booking no longer held
    (expired, or given up) is refunded in full and the customer told. Returns what it
    did: "confirmed", "refunded" or "nothing"."""
    from services.booking.appointments import record_event  # the booking's history

    payment = Payment.get_or_none(Payment.intent_id == intent["id"])
    if payment is None:
        log.warning("payment.unknown_intent intent=%s", intent["id"])
        return "nothing"
    brand, last4 = _card(payment, intent)
    with db.atomic():
        first = (
            Payment.update(
                status=PaymentStatus.SUCCEEDED,
                paid_at=now,
                card_brand=brand,
                card_last4=last4,
                last_error="",
            )
            .where(
                (Payment.id == payment.id)
                & Payment.status.in_((PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.CANCELED))
            )
            .execute()
        )
        if not first:
            return "nothing"  # already settled: a replayed event, a second return
        confirmed = (
            Booking.update(status=BookingStatus.CONFIRMED, hold_expires_at=None)
            .where(
                (Booking.id == payment.booking_id)
                & (Booking.status == BookingStatus.PENDING_PAYMENT)
            )
            .execute()
        )
        booking = _with_details(payment.booking_id)
        if confirmed:
            record_event(booking.id, booking.customer_id, "paid", now, amount=payment.amount_cents)
            told = notify.booking_made(booking, booking.provider, booking.customer_id, now)
            calendars = calendar_outbox.booking_changed(booking, now)
    if confirmed:
        dispatch.add(told)
        dispatch.add_calendars(calendars)
        log.info("payment.succeeded booking_id=%s confirmed", booking.id)
        return "confirmed"
    log.warning(
        "payment.late booking_id=%s status=%s: refunding in full", booking.id, booking.status
    )
    refunds.refund(
        Payment.get_by_id(payment.id),
        payment.amount_cents,
        reason="late_payment",
        key=f"booking-{booking.id}-late",
        now=now,
    )
    dispatch.add(
        notify.payment_refunded(
            booking, now, {"amount_cents": payment.amount_cents, "reason": "late"}
        )
    )
    return "refunded"


def _card(payment: Payment, intent: dict) -> tuple[str | None, str | None]:
    """The card's brand and last 4 digits, for the receipt."""
    if "_card" in intent:
        return intent["_card"]
    method = intent.get("payment_method")
    if not method:
        return None, None
    if not isinstance(method, str):
        method = method["id"]
    try:
        found = gateway.plain(_client(payment).v1.payment_methods.retrieve(method))
    except (stripe.StripeError, PaymentUnavailable):
        return None, None
    card = found.get("card") or found
    return _brand(card.get("brand")), card.get("last4")


def _brand(name: str | None) -> str | None:
    return name.title() if name else None  # "visa" (a PaymentMethod) and "Visa" (a card) alike


def _with_details(booking_id: int) -> Booking:
    return Booking.with_details().where(Booking.id == booking_id).get()


def _release(booking_id: int, now: datetime, reason: str) -> bool:
    """Free a held slot: the booking expires (only from pending_payment)."""
    from services.booking.appointments import record_event

    with db.atomic():
        changed = (
            Booking.update(status=BookingStatus.EXPIRED)
            .where((Booking.id == booking_id) & (Booking.status == BookingStatus.PENDING_PAYMENT))
            .execute()
        )
        if changed:
            record_event(booking_id, None, "expired", now, reason=reason)
    return bool(changed)


def expire_due(now: datetime, dispatch: Dispatch) -> dict[str, int]:
    """Every minute: holds past their expiry are released (their slots offered again),
    then the intents of bookings no longer held are cancelled, so they can no longer be
    paid. An intent that succeeded meanwhile is settled instead: refunded in full when
    its booking has gone, confirmed when it is still held."""
    done = {"expired": 0, "cancelled": 0, "settled": 0}
    due = (
        Booking.select(Booking.id)
        .where((Booking.status == BookingStatus.PENDING_PAYMENT) & (Booking.hold_expires_at <= now))
        .limit(SWEEP_BATCH)
    )
    for booking in due:
        done["expired"] += _release(booking.id, now, "hold_expired")
    metrics.holds_expired(done["expired"])
    stale = (
        Payment.select(Payment, Booking)
        .join(Booking)
        .where(
            (Payment.status == PaymentStatus.REQUIRES_PAYMENT)
            & Payment.intent_id.is_null(False)
            & Booking.status.in_((BookingStatus.EXPIRED, BookingStatus.CANCELLED))
        )
        .limit(SWEEP_BATCH)
    )
    for payment in stale:
        done[_cancel_intent(payment, now, dispatch)] += 1
    return done


def cancel_intent(booking_id: int, now: datetime, dispatch: Dispatch) -> None:
    """The customer gave up a held booking: its intent can no longer be paid."""
    payment = online_payment(booking_id)
    if payment is not None and payment.intent_id and payment.status == "requires_payment":
        _cancel_intent(payment, now, dispatch)


def _cancel_intent(payment: Payment, now: datetime, dispatch: Dispatch) -> str:
    try:
        client = _client(payment)
    except PaymentUnavailable as gone:  # its account's keys were replaced
        Payment.update(status=PaymentStatus.CANCELED, last_error=gone.message[:500]).where(
            (Payment.id == payment.id) & (Payment.status == PaymentStatus.REQUIRES_PAYMENT)
        ).execute()
        return "cancelled"
    try:
        client.v1.payment_intents.cancel(payment.intent_id)
    except stripe.InvalidRequestError:
        intent = gateway.plain(client.v1.payment_intents.retrieve(payment.intent_id))
        if intent["status"] == "succeeded":
            settle(intent, now, dispatch)
            return "settled"
        if intent["status"] != "canceled":
            raise
    except stripe.StripeError as exc:
        log.warning("payment.cancel_failed intent=%s error=%s", payment.intent_id, exc)
        return "cancelled"  # tried; the next sweep tries again
    Payment.update(status=PaymentStatus.CANCELED).where(
        (Payment.id == payment.id) & (Payment.status == PaymentStatus.REQUIRES_PAYMENT)
    ).execute()
    return "cancelled"

"""The JSON shapes of API v1. Times carry the organisation's local UTC offset."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from models import Booking, BookingStatus, ExternalCalendar, Organisation, Provider, Service
from models.payments import PaymentStatus
from scheduling import Slot, change_deadline
from services.payments import gateway, ledger


def money(cents: int, currency: str) -> dict:
    return {"amount_cents": cents, "currency": currency}


def organisation_json(org: Organisation) -> dict:
    return {"slug": org.slug, "name": org.name, "timezone": org.timezone, "currency": org.currency}


def provider_json(provider: Provider) -> dict:
    return {"id": provider.id, "name": provider.name}


def service_json(service: Service, currency: str, providers: list[Provider]) -> dict:
    return {
        "id": service.id,
        "name": service.name,
        "category": service.category,
        "description": service.description,
        "duration_minutes": service.duration_minutes,
        "price": money(service.price_cents, currency),
        "providers": [provider_json(p) for p in providers],
    }


def slot_json(slot: Slot, tz: ZoneInfo) -> dict:
    return {
        "start": slot.start.astimezone(tz).isoformat(),
        "end": slot.end.astimezone(tz).isoformat(),
        "provider": slot.provider_id,
    }


def booking_json(booking: Booking) -> dict:
    """Expects booking.service, .provider and .organisation loaded (joined) with it."""
    tz = ZoneInfo(booking.organisation.timezone)
    window = timedelta(hours=booking.service.cancellation_window_hours)
    return {
        "id": booking.id,
        "status": booking.status,
        "service": {
            "id": booking.service.id,
            "name": booking.service.name,
            "duration_minutes": booking.service.duration_minutes,
        },
        "provider": provider_json(booking.provider),
        "start": booking.start_at.astimezone(tz).isoformat(),
        "end": booking.end_at.astimezone(tz).isoformat(),
        "timezone": booking.organisation.timezone,
        "price": money(booking.price_cents, booking.currency),
        "can_cancel_until": change_deadline(booking.start_at, window).astimezone(tz).isoformat(),
        "cancel_reason": booking.cancel_reason or None,
        "rescheduled_from": booking.rescheduled_from_id,
        "hold_expires_at": (
            booking.hold_expires_at.astimezone(tz).isoformat()
            if booking.status == BookingStatus.PENDING_PAYMENT and booking.hold_expires_at
            else None
        ),
        "payment": payment_json(booking),
    }


def payment_json(booking: Booking) -> dict | None:
    """The booking's online payment: where it stands, what was refunded; while it is
    still to pay, what a client pays it with (the intent's client secret and the
    business's publishable key, for Stripe.js or a mobile SDK)."""
    summary = ledger.for_booking(booking.id)
    online = summary.online
    if online is None:
        return None
    body = {
        "status": online.status,
        "kind": online.kind,
        "amount_cents": online.amount_cents,
        "refunded_cents": online.refunded_cents,
        "currency": online.currency.lower(),
        "card": (
            {"brand": online.card_brand, "last4": online.card_last4} if online.card_last4 else None
        ),
        "paid_at": online.paid_at.isoformat() if online.paid_at else None,
        "last_error": online.last_error or None,
        "refunds": [
            {
                "amount_cents": r.amount_cents,
                "status": r.status,
                "reason": r.reason,
                "created_at": r.created_at.isoformat(),
            }
            for r in summary.refunds
            if r.payment_id == online.id
        ],
    }
    if (
        online.status == PaymentStatus.REQUIRES_PAYMENT
        and booking.status == BookingStatus.PENDING_PAYMENT
    ):
        account = gateway.account_for(booking.organisation)
        body["client_secret"] = online.client_secret
        body["publishable_key"] = account.publishable_key if account else None
    return body


def external_calendar_json(calendar: ExternalCalendar) -> dict:
    """An imported calendar and how its syncing goes (its address is the provider's
    secret, so it is shown only to them, and only its host)."""
    return {
        "id": calendar.id,
        "kind": calendar.kind,
        "name": calendar.name or urlsplit(calendar.url).hostname,
        "host": urlsplit(calendar.url).hostname,
        # "reconnect": the provider must give consent again (Google, Microsoft)
        "status": "reconnect" if calendar.reconnect else calendar.status,
        "show_names": calendar.show_names,  # in the events written there (two-way kinds)
        "last_synced_at": _iso(calendar.last_synced_at),
        "last_error": calendar.last_error,
        "next_try_at": _iso(calendar.next_try_at),
    }


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None

"""The JSON shapes of API v1. Times carry the organisation's local UTC offset."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from models import Booking, Organisation, Provider, Service
from scheduling import Slot, change_deadline


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
    }

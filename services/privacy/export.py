"""Everything Kairos holds about one person, for them to take away: as JSON, and their
bookings as an .ics calendar file.

One function a section, each given the person and answering plain JSON values; the
export is the account's own fields followed by ``SECTIONS`` in order. A new kind of data
about people gets a function here and a line in ``SECTIONS``.

Only what is about this person, and nothing about anyone else. Customers write no notes
(a Note is the staff's private note about a customer, written by the staff for the
business), so there are none in it; nor is who among the staff changed a booking ("the
business" did), nor a device's keys or an API token itself.

Times are ISO 8601: instants in UTC ("Z"), and a booking's times also on the business's
clock, with its offset.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from models import (
    ApiToken,
    Booking,
    BookingEvent,
    ExternalCalendar,
    Membership,
    Notification,
    NotificationPrefs,
    Organisation,
    Provider,
    PushSubscription,
    SignIn,
    User,
)
from services import access
from services.booking import calendar_links
from services.identity import methods
from services.notifications import preferences

FORMAT = "kairos-export-1"
# What a booking's history says besides what happened and when: the reason given for a
# cancellation, where it moved from, the mark it had before. Nothing else is copied.
HISTORY_DETAILS = ("reason", "start", "rescheduled_from", "previous")


def utc(instant: datetime | None) -> str | None:
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def export(user: User, now: datetime) -> dict:
    """The person's data as JSON values: the account's fields, then each section."""
    data = {"format": FORMAT, "exported_at": utc(now), **account(user)}
    for name, section in SECTIONS.items():
        data[name] = section(user)
    return data


def export_json(user: User, now: datetime) -> str:
    return json.dumps(export(user, now), indent=2, ensure_ascii=False) + "\n"


def bookings_calendar(user: User, manage_url: Callable[[Booking], str]) -> bytes:
    """The person's bookings, every business's, as one .ics file (calendar_links)."""
    return calendar_links.calendar_file(list(_bookings(user)), manage_url)


# The sections -----------------------------------------------------------------------


def account(user: User) -> dict:
    return {
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "time_zone": user.timezone,
        "created_at": utc(user.created_at),
    }


def _bookings(user: User):
    return access.customer_bookings(user.id).order_by(Booking.start_at, Booking.id)


def bookings(user: User) -> list[dict]:
    """Every booking of theirs, with every business, whatever its status; with its
    history and the messages sent to them about it."""
    found = list(_bookings(user))
    ids = [b.id for b in found]
    history = _by_booking(
        BookingEvent.select(BookingEvent)
        .where(BookingEvent.booking.in_(ids))
        .order_by(BookingEvent.created_at, BookingEvent.id)
    )
    messages = _by_booking(
        Notification.select(Notification)
        .where(
            Notification.booking.in_(ids)
            & Notification.recipient.in_(access.customer_and_records(user.id))
        )
        .order_by(Notification.created_at, Notification.id)
    )
    return [_booking(b, history.get(b.id, []), messages.get(b.id, []), user) for b in found]


def _by_booking(query) -> dict[int, list]:
    found = defaultdict(list)
    for row in query:
        found[row.booking_id].append(row)
    return found


def _booking(booking: Booking, events: list, messages: list, user: User) -> dict:
    tz = ZoneInfo(booking.organisation.timezone)
    return {
        "id": booking.id,
        "organisation": {
            "name": booking.organisation.name,
            "slug": booking.organisation.slug,
            "time_zone": booking.organisation.timezone,
        },
        "service": booking.service.name,
        "provider": booking.provider.name,
        "status": booking.status,
        "start_utc": utc(booking.start_at),
        "start_local": booking.start_at.astimezone(tz).isoformat(),
        "end_utc": utc(booking.end_at),
        "end_local": booking.end_at.astimezone(tz).isoformat(),
        "price": {"amount_cents": booking.price_cents, "currency": booking.currency},
        "source": booking.source,  # online, or by the staff: walk_in, phone
        "created_at": utc(booking.created_at),
        "cancelled_at": utc(booking.cancelled_at),
        "cancel_reason": booking.cancel_reason or None,
        "rescheduled_from": booking.rescheduled_from_id,
        "history": [_event(event, user) for event in events],
        "messages_sent": [_message(message) for message in messages],
    }


def _event(event: BookingEvent, user: User) -> dict:
    detail = json.loads(event.detail or "{}")
    if isinstance(detail.get("start"), str):  # stored with its offset: in UTC as the rest
        detail["start"] = utc(datetime.fromisoformat(detail["start"]))
    by = None if event.actor_id is None else "you" if event.actor_id == user.id else "the business"
    return {
        "action": event.action,
        "at": utc(event.created_at),
        "by": by,
        **{key: detail[key] for key in HISTORY_DETAILS if detail.get(key) not in (None, "")},
    }


def _message(notification: Notification) -> dict:
    return {
        "kind": notification.kind,
        "channel": notification.channel,
        "status": notification.status,
        "created_at": utc(notification.created_at),
        "sent_at": utc(notification.sent_at),
    }


def notification_preferences(user: User) -> dict:
    """What they chose to receive (the defaults if they never chose)."""
    prefs = NotificationPrefs.of(user.id)
    staff = preferences.is_staff(user.id)
    names = preferences.ALL_CHOICES if staff else preferences.CUSTOMER_CHOICES
    return {name: getattr(prefs, name) for name in names}


def push_devices(user: User) -> list[dict]:
    """Devices that get their push messages: the push service's host, never the
    endpoint's secret path or the encryption keys."""
    return [
        {
            "label": device.label,
            "push_service": urlsplit(device.endpoint).hostname,
            "created_at": utc(device.created_at),
            "last_delivered_at": utc(device.last_success_at),
        }
        for device in PushSubscription.select()
        .where(PushSubscription.user == user.id)
        .order_by(PushSubscription.created_at, PushSubscription.id)
    ]


def api_tokens(user: User) -> list[dict]:
    """Apps signed in through the API: when, until when; never the token (only its hash
    is stored, and that stays here too)."""
    return [
        {
            "created_at": utc(token.created_at),
            "expires_at": utc(token.expires_at),
            "revoked_at": utc(token.revoked_at),
        }
        for token in ApiToken.select()
        .where(ApiToken.user == user.id)
        .order_by(ApiToken.created_at, ApiToken.id)
    ]


def sign_ins(user: User) -> list[dict]:
    """The browsers they signed in with (Account → Security): the device as its browser
    named it, the network roughly, when; never the key (only its hash is stored)."""
    return [
        {
            "device": row.device,
            "network": row.network,
            "kept_signed_in": row.remember,
            "signed_in_with": row.method,
            "signed_in_at": utc(row.created_at),
            "last_seen_at": utc(row.last_seen_at),
            "ended_at": utc(row.ended_at),
        }
        for row in SignIn.select()
        .where(SignIn.user == user.id)
        .order_by(SignIn.created_at, SignIn.id)
    ]


def sign_in_methods(user: User) -> list[dict]:
    """The ways they sign in (Account → Sign-in methods): a password (never its hash),
    the emailed link, their identities at Google, Apple, Facebook and their proven phone
    numbers, their passkeys by name (never the key)."""
    return [
        {
            "method": method.kind,
            "detail": method.detail or None,
            "added_at": utc(method.added_at),
            "last_used_at": utc(method.last_used_at),
        }
        for method in methods.methods_of(user)
    ]


def staff_roles(user: User) -> list[dict]:
    """Where they work, as the owner or a provider."""
    return [
        {"organisation": membership.organisation.name, "role": membership.role}
        for membership in Membership.select(Membership, Organisation)
        .join(Organisation)
        .where(Membership.user == user.id)
        .order_by(Organisation.name, Membership.role)
    ]


def linked_calendars(user: User) -> list[dict]:
    """The calendars a provider linked (Your calendars): what kind, where, how it goes;
    never the address's secret part, the password or the tokens."""
    query = (
        ExternalCalendar.select(ExternalCalendar, Provider, Organisation)
        .join(Provider)
        .join(Organisation)
        .where(Provider.user == user.id)
        .order_by(ExternalCalendar.created_at, ExternalCalendar.id)
    )
    return [
        {
            "organisation": calendar.provider.organisation.name,
            "kind": calendar.kind,
            "host": urlsplit(calendar.url).hostname,
            "username": calendar.username,
            "show_names": calendar.show_names,
            "status": "reconnect" if calendar.reconnect else calendar.status,
            "connected_at": utc(calendar.created_at),
            "last_synced_at": utc(calendar.last_synced_at),
        }
        for calendar in query
    ]


SECTIONS: dict[str, Callable[[User], object]] = {
    "bookings": bookings,
    "notification_preferences": notification_preferences,
    "push_devices": push_devices,
    "api_tokens": api_tokens,
    "sign_ins": sign_ins,
    "sign_in_methods": sign_in_methods,
    "staff_roles": staff_roles,
    "linked_calendars": linked_calendars,
}

"""Getting a booking into the customer's own calendar: an .ics file and web links."""

from __future__ import annotations

from datetime import UTC
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from models import Booking


def _title(booking: Booking) -> str:
    return f"{booking.service.name} at {booking.organisation.name}"


def ics(booking: Booking, manage_url: str) -> bytes:
    """One VEVENT in the organisation's time zone (with its VTIMEZONE), or cancelled."""
    tz = ZoneInfo(booking.organisation.timezone)
    cal = Calendar()
    cal.add("prodid", "-//Kairos//Bookings//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if booking.status == "cancelled" else "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.id}@kairos")
    event.add("summary", _title(booking))
    event.add("dtstart", booking.start_at.astimezone(tz))
    event.add("dtend", booking.end_at.astimezone(tz))
    event.add("dtstamp", booking.created_at.astimezone(UTC))
    event.add("location", booking.organisation.name)
    event.add("description", f"With {booking.provider.name}. Manage: {manage_url}")
    event.add("url", manage_url)
    event.add("status", "CANCELLED" if booking.status == "cancelled" else "CONFIRMED")
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def google_url(booking: Booking, manage_url: str) -> str:
    dates = "/".join(
        t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") for t in (booking.start_at, booking.end_at)
    )
    query = {
        "action": "TEMPLATE",
        "text": _title(booking),
        "dates": dates,
        "details": f"With {booking.provider.name}. Manage: {manage_url}",
        "location": booking.organisation.name,
        "ctz": booking.organisation.timezone,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_url(booking: Booking, manage_url: str) -> str:
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": _title(booking),
        "startdt": booking.start_at.astimezone(UTC).isoformat(),
        "enddt": booking.end_at.astimezone(UTC).isoformat(),
        "body": f"With {booking.provider.name}. Manage: {manage_url}",
        "location": booking.organisation.name,
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(query)

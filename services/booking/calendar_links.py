"""Getting a booking into the customer's own calendar: an .ics file and web links."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date
from email.utils import parseaddr
from functools import cache
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from models import FREED, Booking
from services.contact import location


def _title(booking: Booking) -> str:
    return f"{booking.service.name} at {booking.organisation.name}"


def lineage(booking: Booking, known: Mapping[int, Booking] | None = None) -> list[int]:
    """The ids of the bookings this one was moved from, first to last, then its own.
    The first names the appointment for calendars (its UID) for as long as it is moved
    around; how many moves it took is the invitation's SEQUENCE. ``known``: bookings
    already loaded, by id, looked in before the database."""
    ids = [booking.id]
    previous = booking.rescheduled_from_id
    while previous is not None:
        ids.insert(0, previous)
        if known is not None and previous in known:
            previous = known[previous].rescheduled_from_id
        else:
            query = Booking.select(Booking.rescheduled_from).where(Booking.id == previous)
            previous = query.scalar()
    return ids


def latest(booking: Booking) -> Booking:
    """Where the appointment is now: the booking it was moved to, and so on (an old
    link, in an email or a calendar, shows the current time, not a cancellation)."""
    seen = {booking.id}
    while True:
        moved = (
            Booking.with_details()
            .where(Booking.rescheduled_from == booking.id)
            .order_by(Booking.id.desc())
            .first()
        )
        if moved is None or moved.id in seen:
            return booking
        seen.add(moved.id)
        booking = moved


def uid(booking: Booking) -> str:
    return _uid(lineage(booking)[0])


def _uid(first_id: int) -> str:
    return f"booking-{first_id}@kairos"


def _new_calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Kairos//Bookings//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    return cal


def timed_event(
    booking: Booking, event_uid: str, sequence: int, status: str, summary: str
) -> Event:
    """The part of a booking's VEVENT every calendar of ours shares: its UID and
    SEQUENCE, its times in the organisation's zone (with the VTIMEZONE the calendar
    carries) and its STATUS. ``status``: CONFIRMED, TENTATIVE or CANCELLED."""
    tz = ZoneInfo(booking.organisation.timezone)
    event = Event()
    event.add("uid", event_uid)
    event.add("sequence", sequence)
    event.add("summary", summary)
    event.add("dtstart", booking.start_at.astimezone(tz))
    event.add("dtend", booking.end_at.astimezone(tz))
    cancelled = status == "CANCELLED"
    event.add("dtstamp", (booking.cancelled_at if cancelled else None) or booking.created_at)
    event.add("status", status)
    return event


def _event(
    booking: Booking, manage_url: str, event_uid: str, sequence: int, cancelled: bool
) -> Event:
    status = "CANCELLED" if cancelled else "CONFIRMED"
    event = timed_event(booking, event_uid, sequence, status, _title(booking))
    event.add("location", location(booking.organisation))
    event.add("description", f"With {booking.provider.name}. Manage: {manage_url}")
    event.add("url", manage_url)
    return event


def _calendar(booking: Booking, manage_url: str, method: str, sequence: int) -> Calendar:
    cal = _new_calendar(method)
    year = booking.start_at.year
    cal.add_component(_vtimezone(booking.organisation.timezone, year - 1, year + 1))
    cal.add_component(_event(booking, manage_url, uid(booking), sequence, method == "CANCEL"))
    return cal


@cache
def _vtimezone(name: str, first_year: int, last_year: int) -> Timezone:
    """The zone's rules from ``first_year`` to ``last_year``: enough for the events in
    those years, and small (the zone's whole history makes each invitation slow and
    long). Never changed once made, so one copy serves every calendar."""
    return Timezone.from_tzid(
        name, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
    )


def ics(booking: Booking, manage_url: str) -> bytes:
    """One VEVENT in the organisation's time zone (with its VTIMEZONE), or cancelled."""
    moves = len(lineage(booking)) - 1
    if booking.status in FREED:  # cancelled, or a hold whose payment never came
        return _calendar(booking, manage_url, "CANCEL", moves + 1).to_ical()
    return _calendar(booking, manage_url, "PUBLISH", moves).to_ical()


@dataclass(frozen=True)
class Appointment:
    """An appointment as calendars know it: its latest booking, with the UID and
    SEQUENCE its invitations carried (ics() numbers them the same way)."""

    booking: Booking
    uid: str
    sequence: int
    cancelled: bool


def publish(bookings: list[Booking], event: Callable[[Appointment], Event]) -> Calendar:
    """Many appointments in one PUBLISH calendar, each once, as its latest booking (a
    UID names one event in a calendar), with the UID and SEQUENCE its invitations
    carried, so that the calendar updates the events those made instead of adding
    copies. Cancelled ones are there as cancelled. ``event`` makes each VEVENT.
    Bookings need their service, provider and organisation loaded."""
    by_id = {booking.id: booking for booking in bookings}
    moved_on = {booking.rescheduled_from_id for booking in bookings}
    latest = [booking for booking in bookings if booking.id not in moved_on]
    cal = _new_calendar("PUBLISH")
    years: dict[str, list[int]] = {}
    for booking in latest:
        years.setdefault(booking.organisation.timezone, []).append(booking.start_at.year)
    for name, seen in sorted(years.items()):
        cal.add_component(_vtimezone(name, min(seen) - 1, max(seen) + 1))
    for booking in sorted(latest, key=lambda b: (b.start_at, b.id)):
        ids = lineage(booking, by_id)
        cancelled = booking.status in FREED
        sequence = len(ids) - 1 + cancelled  # as ics() numbers them
        cal.add_component(event(Appointment(booking, _uid(ids[0]), sequence, cancelled)))
    return cal


def stored(booking: Booking, summary: str, description: str = "") -> bytes:
    """The appointment as a calendar server stores it (CalDAV, RFC 4791: one VEVENT with
    its VTIMEZONE and no METHOD), under the UID and SEQUENCE its invitations carry."""
    cal = Calendar()
    cal.add("prodid", "-//Kairos//Bookings//EN")
    cal.add("version", "2.0")
    year = booking.start_at.year
    cal.add_component(_vtimezone(booking.organisation.timezone, year - 1, year + 1))
    event = timed_event(booking, uid(booking), len(lineage(booking)) - 1, "CONFIRMED", summary)
    event.add("location", location(booking.organisation))
    if description:
        event.add("description", description)
    cal.add_component(event)
    return cal.to_ical()


def calendar_file(bookings: list[Booking], manage_url: Callable[[Booking], str]) -> bytes:
    """A person's appointments in one calendar (their export), see ``publish``;
    ``manage_url`` gives each booking's page."""

    def event(appointment: Appointment) -> Event:
        booking = appointment.booking
        return _event(
            booking,
            manage_url(booking),
            appointment.uid,
            appointment.sequence,
            appointment.cancelled,
        )

    return publish(bookings, event).to_ical()


def invite(booking: Booking, manage_url: str, organiser: str, method: str, sequence: int) -> bytes:
    """The iTIP invitation mailed with a confirmation (REQUEST) or a cancellation (CANCEL):
    the same UID each time, so mail clients update or remove the one event."""
    cal = _calendar(booking, manage_url, method, sequence)
    event = cal.walk("VEVENT")[0]
    address = parseaddr(organiser)[1]
    event.add("organizer", f"mailto:{address}", parameters={"CN": booking.organisation.name})
    customer = booking.customer if booking.customer_id else None
    if customer is not None and customer.email:
        event.add(
            "attendee",
            f"mailto:{customer.email}",
            parameters={
                "CN": customer.name,
                "ROLE": "REQ-PARTICIPANT",
                "PARTSTAT": "ACCEPTED",
                "RSVP": "FALSE",
            },
        )
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
        "location": location(booking.organisation),
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
        "location": location(booking.organisation),
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(query)

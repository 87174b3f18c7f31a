"""The front desk: what staff do from the schedule. Mark a booking completed or a
no-show (and undo it), keep private notes, and book for a walk-in or a phone call."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from peewee import IntegrityError

from models import Booking, Note, Provider, Service, ServiceProvider, User, db, is_sqlite
from services import accounts, policy
from services.availability import find_slots
from services.booking import book, record_event
from services.booking import cancel as cancel_booking
from services.customers import clean_note
from services.errors import Invalid, NotChangeable
from services.policy import Staff

log = logging.getLogger("kairos.desk")

MARKS = {"completed": "completed", "no_show": "no_show", "confirmed": "reopened"}
SOURCES = {"walk_in": "Walk-in", "phone": "Phone booking"}


def mark(staff: Staff, booking_id: int, status: str, now: datetime) -> Booking:
    """Mark a booking completed (from its day on: a walk-in may be seen early) or a
    no-show (once it has started), or undo either mark."""
    booking = policy.booking_for(staff, booking_id)
    if status not in MARKS:
        raise Invalid({"status": "Choose completed, no-show, or undo."})
    if status == "confirmed":
        if booking.status not in ("completed", "no_show"):
            raise NotChangeable("Only a completed or no-show booking can be reopened.")
    elif booking.status != "confirmed":
        raise NotChangeable(f"This booking is already {booking.status.replace('_', ' ')}.")
    else:
        _check_markable(booking, status, ZoneInfo(staff.organisation.timezone), now)
    with db.atomic():
        changed = (
            Booking.update(status=status)
            .where((Booking.id == booking.id) & (Booking.status == booking.status))
            .execute()
        )
        if not changed:
            raise NotChangeable("This booking was changed meanwhile. Look again.")
        record_event(booking.id, staff.user_id, MARKS[status], now, previous=booking.status)
    log.info("booking.marked booking_id=%s status=%s user_id=%s", booking.id, status, staff.user_id)
    return policy.booking_for(staff, booking.id)


def markable(booking: Booking, timezone: str, now: datetime) -> set[str]:
    """Which marks the booking can take now: {"completed", "no_show"}, or fewer."""
    tz = ZoneInfo(timezone)
    found = set()
    if (
        booking.status == "confirmed"
        and booking.start_at.astimezone(tz).date() <= now.astimezone(tz).date()
    ):
        found.add("completed")
    if booking.status == "confirmed" and booking.start_at <= now:
        found.add("no_show")
    return found


def _check_markable(booking: Booking, status: str, tz: ZoneInfo, now: datetime) -> None:
    if status in markable(booking, tz.key, now):
        return
    starts = booking.start_at.astimezone(tz)
    if status == "completed":
        raise Invalid({"status": f"This can be marked completed from {starts:%A %-d %B} on."})
    raise Invalid({"status": f"This can be marked a no-show once it starts, at {starts:%H:%M}."})


def add_note(staff: Staff, booking_id: int, body: str | None, now: datetime) -> Note:
    """A private note on a booking (and so on its customer's record)."""
    booking = policy.booking_for(staff, booking_id)
    text = clean_note(body)
    if booking.customer_id is None:
        raise Invalid({"body": "This booking's customer has deleted their account."})
    return Note.create(
        organisation=staff.organisation,
        customer=booking.customer_id,
        booking=booking.id,
        author=staff.user_id,
        body=text,
        created_at=now,
    )


def booking_notes(booking: Booking) -> list[Note]:
    return list(
        Note.select(Note, User)
        .join(User, on=(Note.author == User.id), attr="written_by")
        .where(Note.booking == booking.id)
        .order_by(Note.created_at.desc(), Note.id.desc())
    )


@dataclass(frozen=True)
class NewCustomer:
    """A customer the staff enter by hand: a name, and an email or phone if they have one."""

    name: str
    email: str = ""
    phone: str = ""


def services_of(provider: Provider) -> list[Service]:
    """The active services ``provider`` offers (one the caller has already checked)."""
    return list(
        Service.select()
        .join(ServiceProvider)
        .where((ServiceProvider.provider == provider.id) & Service.active)
        .order_by(Service.category, Service.name)
    )


def book_for(
    staff: Staff,
    *,
    provider_id: int,
    service_id: int,
    start: datetime,
    source: str,
    now: datetime,
    customer_id: int | None = None,
    new_customer: NewCustomer | None = None,
    region: str = accounts.DEFAULT_REGION,
) -> Booking:
    """Book for a customer on the phone or at the desk, with the customer's own rules and
    double-booking protection. A new customer is created only if the booking is made."""
    provider = policy.provider_for(staff, provider_id)
    if source not in SOURCES:
        raise Invalid({"source": "Say whether this is a walk-in or a phone booking."})
    if not provider.active:
        raise Invalid({"provider": f"{provider.name} no longer takes bookings."})
    if service_id not in {s.id for s in services_of(provider)}:
        raise Invalid({"service": f"Choose a service {provider.name} offers."})
    if customer_id is None and new_customer is None:
        raise Invalid({"customer": "Choose a customer, or add a new one."})
    if customer_id is not None:
        found = policy.customer_for(staff, customer_id)
        new_customer = None
    else:
        name, email, phone = _clean_new(new_customer, region)
    # One transaction (taking SQLite's write lock first): if the time was taken
    # meanwhile, the new customer is not left behind without a booking.
    with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
        if new_customer is not None:
            found = _customer(name, email, phone)
        made = book(
            customer_id=found.id,
            service_id=service_id,
            start=start,
            now=now,
            provider_id=provider.id,
            actor_id=staff.user_id,
            source=source,
        )
    made.customer = found
    return made


def _clean_new(customer: NewCustomer, region: str) -> tuple[str, str | None, str | None]:
    name, email, phone = accounts.check_all(
        lambda: accounts.clean_name(customer.name),
        lambda: accounts.clean_email(customer.email) if customer.email.strip() else None,
        lambda: accounts.clean_phone(customer.phone, region),
    )
    return name, email, phone


def _customer(name: str, email: str | None, phone: str | None) -> User:
    """The account with this email if there is one (so that the booking shows in their
    appointments), else a new customer without a password."""
    if email:
        existing = User.by_email(email)
        if existing is not None:
            return existing
    try:
        with db.atomic():
            return User.create(name=name, email=email, phone=phone)
    except IntegrityError:  # the same email added at the same moment
        return User.by_email(email)


def cancel(staff: Staff, booking_id: int, reason: str | None, now: datetime) -> Booking:
    """Staff cancel at any time, saying why: the reason is what the customer is told."""
    booking = policy.booking_for(staff, booking_id)
    text = (reason or "").strip()
    if not text:
        raise Invalid({"reason": "Say why, for the customer: it is sent to them."})
    if len(text) > 500:
        raise Invalid({"reason": f"Keep the reason under 500 characters ({len(text)} now)."})
    cancel_booking(booking_id=booking.id, actor_id=staff.user_id, now=now, reason=text)
    return policy.booking_for(staff, booking.id)


def free_starts(provider: Provider, service: Service, day, now: datetime) -> list:
    """The times ``service`` can start with this provider on local ``day``."""
    slots = find_slots(service, day, day, now, provider_id=provider.id)
    return [slot.start for slot in slots]

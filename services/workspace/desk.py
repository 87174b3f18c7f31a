"""The front desk: booking from the schedule for a walk-in or a phone call, with the
customer's own rules and double-booking protection.

A new customer typed in here is a record of the organisation (models.User with
``organisation`` set), never anybody's Kairos account, whatever the email: the same
answer whether or not the address has an account anywhere, and the booking reaches an
account only when the person claims it (services/accounts/claims.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from peewee import IntegrityError

from models import (
    Booking,
    Organisation,
    Provider,
    Service,
    ServiceProvider,
    User,
    db,
    is_sqlite,
)
from services import access, validation
from services.access import Staff
from services.booking.appointments import book
from services.booking.slots import find_slots
from services.errors import Invalid
from services.notifications.outbox import Dispatch

log = logging.getLogger("kairos.desk")

SOURCES = {"walk_in": "Walk-in", "phone": "Phone booking"}


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
    region: str = validation.DEFAULT_REGION,
    dispatch: Dispatch,
) -> Booking:
    """Book for a customer on the phone or at the desk, with the customer's own rules and
    double-booking protection. A new customer becomes the organisation's record, and
    only if the booking is made.
    Who is told of it goes into ``dispatch`` once it is committed."""
    provider = access.provider_for(staff, provider_id)
    if source not in SOURCES:
        raise Invalid({"source": "Say whether this is a walk-in or a phone booking."})
    if not provider.active:
        raise Invalid({"provider": f"{provider.name} no longer takes bookings."})
    if service_id not in {s.id for s in services_of(provider)}:
        raise Invalid({"service": f"Choose a service {provider.name} offers."})
    if customer_id is None and new_customer is None:
        raise Invalid({"customer": "Choose a customer, or add a new one."})
    if customer_id is not None:
        found = access.customer_for(staff, customer_id)
        new_customer = None
    else:
        name, email, phone = _clean_new(new_customer, region)
    # One transaction (taking SQLite's write lock first): if the time was taken
    # meanwhile, the new customer is not left behind without a booking.
    booked = Dispatch()  # handed on when this transaction, not book()'s, has committed
    with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
        if new_customer is not None:
            found = _record(staff.organisation, name, email, phone)
        made = book(
            customer_id=found.id,
            service_id=service_id,
            start=start,
            now=now,
            provider_id=provider.id,
            actor_id=staff.user_id,
            source=source,
            dispatch=booked,
        )
    dispatch.merge(booked)
    made.customer = found
    return made


def _clean_new(customer: NewCustomer, region: str) -> tuple[str, str | None, str | None]:
    name, email, phone = validation.check_all(
        lambda: validation.clean_name(customer.name),
        lambda: validation.clean_email(customer.email) if customer.email.strip() else None,
        lambda: validation.clean_phone(customer.phone, region),
    )
    return name, email, phone


def _record(org: Organisation, name: str, email: str | None, phone: str | None) -> User:
    """The organisation's own record with this email if it has one (the business knows
    it already), else a new record. Nothing outside the organisation is looked at."""
    if email:
        existing = _record_with(org, email)
        if existing is not None:
            return existing
    try:
        with db.atomic():
            return User.create(organisation=org.id, name=name, email=email, phone=phone)
    except IntegrityError:  # the same email added at the same moment (users_record_email)
        return _record_with(org, email)


def _record_with(org: Organisation, email: str) -> User | None:
    return User.get_or_none((User.organisation == org.id) & (User.email == email))


def free_starts(provider: Provider, service: Service, day, now: datetime) -> list:
    """The times ``service`` can start with this provider on local ``day``."""
    slots = find_slots(service, day, day, now, provider_id=provider.id)
    return [slot.start for slot in slots]

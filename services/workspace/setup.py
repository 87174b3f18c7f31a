"""A new business's first set-up, step by step after signing up: how customers reach it,
the owner seeing customers too, a first service, working hours, then the booking link
to share.

Each step only gathers what the owner typed and hands it to the use case that already
owns the rules (settings, staff, services, availability): nothing is checked twice.
Every step can be skipped; where to carry on is read from what the business has, so
the dashboard can offer to resume until the owner says they are done (``finish``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from peewee import fn

from models import Organisation, Provider, Service, ServiceProvider, User, WeeklyHours
from services.errors import Invalid, NotChangeable
from services.workspace import services as offerings
from services.workspace import settings as org_settings
from services.workspace import staff as staffing
from services.workspace.availability_edits import TypedDay

log = logging.getLogger("kairos.setup")

STEPS = ("contact", "provider", "service", "hours", "share")
NOBODY_OFFERS = "Nobody sees customers yet: add yourself as a provider first (the step before)."


# Services to start from, by trade --------------------------------------------------------


@dataclass(frozen=True)
class Template:
    name: str
    minutes: int
    price: str  # in the business's currency, as the form takes it


@dataclass(frozen=True)
class Trade:
    label: str
    services: tuple[Template, ...]


TRADES = {
    "physio": Trade(
        "Physiotherapy",
        (
            Template("Initial assessment", 45, "55"),
            Template("Follow-up", 30, "40"),
            Template("Sports massage", 45, "50"),
        ),
    ),
    "hair": Trade(
        "Hair",
        (
            Template("Cut & finish", 45, "45"),
            Template("Colour", 90, "85"),
            Template("Blow-dry", 30, "30"),
        ),
    ),
    "massage": Trade(
        "Massage",
        (
            Template("Full body massage", 60, "60"),
            Template("Back, neck & shoulders", 30, "35"),
            Template("Deep tissue massage", 90, "85"),
        ),
    ),
    "consulting": Trade(
        "Consulting",
        (
            Template("Introductory call", 30, "0"),
            Template("Consultation", 60, "120"),
            Template("Half-day workshop", 240, "450"),
        ),
    ),
}


def template(trade: str | None, pick: str | None) -> Template | None:
    """The service ``pick`` (its number, from 0; default the first) of ``trade``; None
    for no trade or one not listed (the owner's own service)."""
    found = TRADES.get(trade or "")
    if found is None:
        return None
    index = int(pick) if (pick or "").isdigit() and int(pick) < len(found.services) else 0
    return found.services[index]


def template_values(chosen: Template | None) -> dict[str, str]:
    """The first service form's starting values (empty for the owner's own)."""
    if chosen is None:
        return {}
    return {"name": chosen.name, "duration": str(chosen.minutes), "price": chosen.price}


# Where the owner is ------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    contact: bool  # an address or a phone number customers see
    own_provider: Provider | None  # the owner's own provider row, if they see customers
    offering: list[Provider]  # who a first service is offered by
    service: bool  # an active service that someone active offers
    hours: bool  # whoever the hours step is for has weekly hours
    done: bool

    @property
    def hours_for(self) -> Provider | None:
        """Whose hours the hours step sets: the owner's, else the first active provider."""
        return self.own_provider or (self.offering[0] if self.offering else None)

    @property
    def next_step(self) -> str:
        for step, finished in (
            ("contact", self.contact),
            ("provider", self.own_provider is not None),
            ("service", self.service),
            ("hours", self.hours),
        ):
            if not finished:
                return step
        return "share"

    @property
    def bookable(self) -> bool:
        """Customers can book: a service, offered by someone with hours."""
        return self.service and self.hours


def progress(org: Organisation, owner_id: int) -> Progress:
    active = list(
        Provider.select()
        .where((Provider.organisation == org) & Provider.active)
        .order_by(Provider.id)
    )
    own = next((p for p in active if p.user_id == owner_id), None)
    offering = [own] if own else active
    offered = (
        Service.select(fn.COUNT(Service.id))
        .join(ServiceProvider)
        .join(Provider)
        .where((Service.organisation == org) & Service.active & Provider.active)
        .scalar()
    )
    whose = own or (active[0] if active else None)
    hours = bool(whose) and WeeklyHours.select().where(WeeklyHours.provider == whose.id).exists()
    return Progress(
        contact=bool(org.address or org.phone),
        own_provider=own,
        offering=offering,
        service=bool(offered),
        hours=hours,
        done=org.setup_done_at is not None,
    )


# The steps -----------------------------------------------------------------------------------


def save_contact(
    org: Organisation, *, name: str, address: str, phone: str, actor_id: int, now: datetime
) -> Organisation:
    """The business's name, address and phone, through the settings' own rules; every
    other setting stays as it is."""
    kept = {field: getattr(org, field) for field in ("email", "website", "directions")}
    return org_settings.update_settings(
        org,
        name=name,
        timezone=org.timezone,
        currency=org.currency,
        booking_intro=org.booking_intro,
        contact_details=kept | {"address": address, "phone": phone},
        actor_id=actor_id,
        now=now,
    )


def add_owner(org: Organisation, owner: User, now: datetime) -> Provider | None:
    """The owner sees customers too (staff.add_self); already doing so is no error here.
    None when they are a provider of another business (one provider row per person)."""
    try:
        return staffing.add_self(org, owner, now)
    except NotChangeable:
        return Provider.get_or_none((Provider.user == owner.id) & (Provider.organisation == org))


def create_first_service(
    org: Organisation,
    where: Progress,
    *,
    name: str,
    duration: str,
    price: str,
    actor_id: int,
    now: datetime,
) -> Service:
    """A service as typed (or from a template), offered by the owner when they see
    customers, else by every active provider, with the services' own defaults."""
    if not where.offering:
        raise Invalid({"name": NOBODY_OFFERS})
    draft = offerings.ServiceDraft(
        name=name,
        duration=duration,
        price=price,
        providers=tuple(str(p.id) for p in where.offering),
    )
    return offerings.create(org, draft, actor_id, now)


# Monday to Friday, 09:00–17:00: the hours step's starting point.
DEFAULT_DAYS = range(5)
DEFAULT_HOURS = ("09:00", "17:00")


def default_week() -> list[TypedDay]:
    """The week as the hours form shows it, Monday first."""
    return [
        TypedDay(True, (DEFAULT_HOURS,)) if day in DEFAULT_DAYS else TypedDay(False, ())
        for day in range(7)
    ]


def finish(org: Organisation, now: datetime) -> None:
    """The owner is done with the set-up: the dashboard stops offering it."""
    Organisation.update(setup_done_at=now).where(
        (Organisation.id == org.id) & Organisation.setup_done_at.is_null()
    ).execute()
    log.info("setup.finished organisation_id=%s", org.id)

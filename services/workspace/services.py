"""The owner's catalogue of services: creating, editing, archiving and restoring them.

A view hands over what was typed (a ``ServiceDraft`` of strings); this module decides
what is acceptable and reports every problem at once (``Invalid``). Archiving only
hides a service: its bookings stay, and the booking journey refuses it (services that
are not ``active`` are not offered, see catalogue.service_of and booking.active_service).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from models import Organisation, Provider, Service, ServiceProvider, db
from services import audit
from services.amounts import amount_text, parse_amount
from services.errors import Invalid, NotFound
from services.payments import gateway
from services.validation import BIDI_CONTROLS, check_all
from services.workspace import service_payments

log = logging.getLogger("kairos.offerings")

# (low, high) of each number the owner types; the form's hints say the same.
DURATION = (5, 720)
DURATION_STEP = 5
BUFFER = (0, 240)
MIN_NOTICE = (0, 10_080)  # minutes: up to a week
DAYS_AHEAD = (1, 730)
CANCELLATION_WINDOW = (0, 720)  # hours: up to 30 days
NAME_LIMIT, CATEGORY_LIMIT, DESCRIPTION_LIMIT = 200, 100, 2000
_LARGEST_ID = 2**63 - 1  # larger ids overflow the database driver
_WHOLE = re.compile(r"[0-9]{1,9}")
# Control characters (PostgreSQL refuses NUL in text); newlines and tabs are kept
# where a field may have them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class ServiceDraft:
    """A service as typed into the form: every value a string, as it came."""

    name: str = ""
    category: str = ""
    description: str = ""
    duration: str = ""
    price: str = ""
    buffer_before: str = "0"
    buffer_after: str = "0"
    min_notice: str = "120"  # two hours: no online booking takes the provider by surprise
    max_days_ahead: str = "90"
    cancellation_window: str = "24"
    providers: tuple[str, ...] = ()
    # What is paid online (services/workspace/service_payments.py); a payment left
    # blank keeps the service's rule.
    payment: str = ""
    deposit_amount: str = ""
    deposit_percent: str = ""
    late_refund: str = "0"


@dataclass
class Listed:
    service: Service
    providers: list[Provider] = field(default_factory=list)  # active ones offering it


@dataclass
class Catalogue:
    groups: list[tuple[str, list[Listed]]]  # active services by category
    archived: list[Listed]


def catalogue(org: Organisation) -> Catalogue:
    """Every service of ``org``: the active ones grouped by category, then the archived."""
    services = list(
        Service.select()
        .where(Service.organisation == org)
        .order_by(Service.category, Service.name, Service.id)
    )
    offered = defaultdict(list)
    links = (
        ServiceProvider.select(ServiceProvider, Provider)
        .join(Provider)
        .where((Provider.organisation == org) & Provider.active)
        .order_by(Provider.name)
    )
    for link in links:
        offered[link.service_id].append(link.provider)
    groups: dict[str, list[Listed]] = {}
    archived = []
    for service in services:
        listed = Listed(service, offered[service.id])
        if service.active:
            groups.setdefault(service.category, []).append(listed)
        else:
            archived.append(listed)
    return Catalogue(list(groups.items()), archived)


def categories(org: Organisation) -> list[str]:
    """The categories ``org`` already uses, for the form to suggest."""
    rows = (
        Service.select(Service.category)
        .where((Service.organisation == org) & (Service.category != ""))
        .distinct()
        .order_by(Service.category)
    )
    return [row.category for row in rows]


def offering_providers(org: Organisation) -> list[Provider]:
    """Who can be ticked as offering a service: the active providers."""
    return list(
        Provider.select()
        .where((Provider.organisation == org) & Provider.active)
        .order_by(Provider.name)
    )


def service_for(org: Organisation, service_id: int) -> Service:
    """A service of ``org``, archived or not; anything else is not found."""
    found = None
    if 0 < service_id <= _LARGEST_ID:
        found = Service.get_or_none((Service.id == service_id) & (Service.organisation == org))
    if found is None:
        raise NotFound("No such service.")
    return found


def draft_of(service: Service) -> ServiceDraft:
    """The form's starting values for editing ``service``."""
    chosen = ServiceProvider.select(ServiceProvider.provider).where(
        ServiceProvider.service == service
    )
    return ServiceDraft(
        name=service.name,
        category=service.category,
        description=service.description,
        duration=str(service.duration_minutes),
        price=amount_text(service.price_cents),
        buffer_before=str(service.buffer_before_minutes),
        buffer_after=str(service.buffer_after_minutes),
        min_notice=str(service.min_notice_minutes),
        max_days_ahead=str(service.max_days_ahead),
        cancellation_window=str(service.cancellation_window_hours),
        providers=tuple(str(link.provider_id) for link in chosen),
        **service_payments.draft_values(service),
    )


def create(org: Organisation, draft: ServiceDraft, actor_id: int, now: datetime) -> Service:
    fields, provider_ids = _clean(org, draft, active=True, current=None)
    with db.atomic():
        service = Service.create(organisation=org, active=True, **fields)
        _offer(org, service, provider_ids)
        audit.record(
            org.id,
            actor_id,
            "services.created",
            f"Created the service “{service.name}” ({service.duration_minutes} min,"
            f" {amount_text(service.price_cents)} {org.currency}).",
            now,
            subject=("service", service.id),
            detail={"offered_by": _offered_by(service)},
        )
    log.info("service.created organisation_id=%s service_id=%s", org.id, service.id)
    return service


def update(
    org: Organisation, service_id: int, draft: ServiceDraft, actor_id: int, now: datetime
) -> Service:
    """Save the edited ``draft``. Bookings already made keep their time and price."""
    service = service_for(org, service_id)
    fields, provider_ids = _clean(org, draft, active=service.active, current=service)
    with db.atomic():
        offered_before = _offered_by(service)
        Service.update(**fields).where(Service.id == service.id).execute()
        _offer(org, service, provider_ids)
        _audit_edit(org, service, fields, offered_before, actor_id, now)
    log.info("service.updated organisation_id=%s service_id=%s", org.id, service.id)
    return service_for(org, service.id)


def archive(org: Organisation, service_id: int, actor_id: int, now: datetime) -> Service:
    """Take the service off the booking page; its bookings stay as they are."""
    service = service_for(org, service_id)
    with db.atomic():
        archived = (
            Service.update(active=False)
            .where((Service.id == service.id) & Service.active)
            .execute()
        )
        if archived:
            audit.record(
                org.id,
                actor_id,
                "services.archived",
                f"Archived the service “{service.name}”.",
                now,
                subject=("service", service.id),
            )
    log.info("service.archived organisation_id=%s service_id=%s", org.id, service.id)
    service.active = False
    return service


def restore(org: Organisation, service_id: int, actor_id: int, now: datetime) -> Service:
    """Offer an archived service again: somebody active must still offer it."""
    service = service_for(org, service_id)
    if service.active:
        return service
    offered = (
        ServiceProvider.select()
        .join(Provider)
        .where((ServiceProvider.service == service) & Provider.active)
        .exists()
    )
    if not offered:
        raise Invalid(
            {
                "providers": f"Nobody offers “{service.name}” now. Open it, tick who offers it,"
                " save, then restore it."
            }
        )
    _check_unique_name(org, service.name, service.id)
    with db.atomic():
        Service.update(active=True).where(Service.id == service.id).execute()
        audit.record(
            org.id,
            actor_id,
            "services.restored",
            f"Restored the service “{service.name}”.",
            now,
            subject=("service", service.id),
        )
    log.info("service.restored organisation_id=%s service_id=%s", org.id, service.id)
    service.active = True
    return service


LABELS = {
    "name": "Name",
    "category": "Category",
    "description": "Description",
    "duration_minutes": "Duration (minutes)",
    "price_cents": "Price",
    "buffer_before_minutes": "Buffer before (minutes)",
    "buffer_after_minutes": "Buffer after (minutes)",
    "min_notice_minutes": "Minimum notice (minutes)",
    "max_days_ahead": "Book up to (days ahead)",
    "cancellation_window_hours": "Cancellation window (hours)",
    **service_payments.LABELS,
}


def _audit_edit(org, service, fields, offered_before, actor_id, now) -> None:
    """The audit log's entry for an edit: what changed, who offers it if that changed."""
    changes = audit.diff(service, fields, LABELS)
    for money in ("Price", service_payments.DEPOSIT_LABEL):
        if money in changes:
            changes[money] = [amount_text(c) if c is not None else None for c in changes[money]]
    offered = _offered_by(service)
    if offered != offered_before:
        changes["Offered by"] = [offered_before, offered]
    if not changes:
        return
    what = ", ".join(label.partition(" (")[0].lower() for label in changes)
    audit.record(
        org.id,
        actor_id,
        "services.edited",
        f"Edited the service “{fields['name']}”: {what}.",
        now,
        subject=("service", service.id),
        detail={"changes": changes},
    )


def _offered_by(service: Service) -> list[str]:
    """The names of the active providers offering ``service``."""
    return [
        p.name
        for p in Provider.select(Provider.name)
        .join(ServiceProvider)
        .where((ServiceProvider.service == service.id) & Provider.active)
        .order_by(Provider.name)
    ]


def _offer(org: Organisation, service: Service, provider_ids: list[int]) -> None:
    """Make exactly ``provider_ids`` the active providers offering ``service``. Links to
    deactivated providers stay, so the service is theirs again if they come back."""
    active = Provider.select(Provider.id).where((Provider.organisation == org) & Provider.active)
    ServiceProvider.delete().where(
        (ServiceProvider.service == service) & ServiceProvider.provider.in_(active)
    ).execute()
    if provider_ids:
        ServiceProvider.insert_many(
            [{"service": service.id, "provider": pid} for pid in provider_ids]
        ).execute()


# Checking what was typed ----------------------------------------------------------


def _clean(
    org: Organisation, draft: ServiceDraft, *, active: bool, current: Service | None
) -> tuple[dict, list[int]]:
    service_id = current.id if current else None
    values = check_all(
        lambda: _name(org, draft.name, service_id, check_taken=active),
        lambda: _category(org, draft.category),
        lambda: _text(draft.description, "description", DESCRIPTION_LIMIT, lines=True),
        lambda: _duration(draft.duration),
        lambda: parse_price(draft.price),
        lambda: _whole(draft.buffer_before, "buffer_before", BUFFER, "minutes", blank=0),
        lambda: _whole(draft.buffer_after, "buffer_after", BUFFER, "minutes", blank=0),
        lambda: _whole(draft.min_notice, "min_notice", MIN_NOTICE, "minutes", blank=0),
        lambda: _whole(draft.max_days_ahead, "max_days_ahead", DAYS_AHEAD, "days"),
        lambda: _whole(
            draft.cancellation_window, "cancellation_window", CANCELLATION_WINDOW, "hours", blank=0
        ),
        lambda: _provider_ids(org, draft.providers, required=active),
        lambda: service_payments.clean(
            draft,
            current,
            price=_price_if_valid(draft.price),
            online=gateway.account_for(org) is not None,
        ),
    )
    name, category, description, duration, price, before, after, notice, days, window, ids, paid = (
        values
    )
    if notice >= days * 24 * 60:
        raise Invalid(
            {"min_notice": "Make the minimum notice shorter than how far ahead people can book."}
        )
    fields = {
        "name": name,
        "category": category,
        "description": description,
        "duration_minutes": duration,
        "price_cents": price,
        "buffer_before_minutes": before,
        "buffer_after_minutes": after,
        "min_notice_minutes": notice,
        "max_days_ahead": days,
        "cancellation_window_hours": window,
        **paid,
    }
    return fields, ids


def _text(value: str | None, field_name: str, limit: int, *, lines: bool = False) -> str:
    # Control characters and direction marks (validation.BIDI_CONTROLS) are dropped:
    # staff paste these texts from elsewhere, and nothing in them is meant.
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).translate(BIDI_CONTROLS)
    text = text.strip() if lines else " ".join(text.split())
    if len(text) > limit:
        raise Invalid({field_name: f"Use at most {limit:,} characters (this has {len(text):,})."})
    return text


def _name(org: Organisation, value: str, service_id: int | None, *, check_taken: bool) -> str:
    name = _text(value, "name", NAME_LIMIT)
    if not name:
        raise Invalid({"name": "Enter the service's name."})
    if check_taken:
        _check_unique_name(org, name, service_id)
    return name


def _check_unique_name(org: Organisation, name: str, service_id: int | None) -> None:
    # Two offered services of the same name would confuse customers on the booking page.
    same = Service.select(Service.id, Service.name).where(
        (Service.organisation == org) & Service.active
    )
    for other in same:
        if other.id != service_id and other.name.casefold() == name.casefold():
            raise Invalid({"name": f"You already offer a service called “{other.name}”."})


def _category(org: Organisation, value: str) -> str:
    category = _text(value, "category", CATEGORY_LIMIT)
    # "massage" joins an existing "Massage" rather than starting a second heading.
    existing = {c.casefold(): c for c in categories(org)}
    return existing.get(category.casefold(), category)


def _duration(value: str) -> int:
    minutes = _whole(value, "duration", DURATION, "minutes")
    if minutes % DURATION_STEP:
        raise Invalid({"duration": "Use a multiple of 5 minutes, like 30 or 45."})
    return minutes


def _whole(
    value: str | None, field_name: str, limits: tuple[int, int], unit: str, *, blank=None
) -> int:
    low, high = limits
    text = (value or "").strip()
    if not text and blank is not None:
        return blank
    if not text:
        raise Invalid({field_name: f"Enter a number of {unit}, {low}–{high:,}."})
    if text.startswith("-") and _WHOLE.fullmatch(text[1:]):
        raise Invalid({field_name: f"Use {low}–{high:,} {unit}; it can't be negative."})
    if not _WHOLE.fullmatch(text):
        raise Invalid({field_name: f"Enter a whole number of {unit}, {low}–{high:,}."})
    number = int(text)
    if not low <= number <= high:
        raise Invalid({field_name: f"Use {low}–{high:,} {unit}."})
    return number


def parse_price(value: str | None, field_name: str = "price") -> int:
    """Cents for a price typed in currency units: "45" or "45.50" → 4500 or 4550."""
    return parse_amount(value, field_name, what="price", blank="Enter a price (0 if it's free).")


def _price_if_valid(value: str | None) -> int | None:
    """The price typed, for checking the deposit against it; None when the price itself
    is wrong (its own check says so)."""
    try:
        return parse_price(value)
    except Invalid:
        return None


def _provider_ids(org: Organisation, values: tuple[str, ...], *, required: bool) -> list[int]:
    active = {str(p.id): p.id for p in offering_providers(org)}
    chosen = []
    for value in dict.fromkeys(v.strip() for v in values):
        if value not in active:
            raise Invalid({"providers": "Choose people from the list."})
        chosen.append(active[value])
    if required and not chosen:
        raise Invalid({"providers": "Choose at least one person who offers this service."})
    return chosen

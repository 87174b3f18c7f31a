"""Reading an organisation's public face: who it is, what it offers, and who offers it."""

from __future__ import annotations

from collections import defaultdict

from models import Organisation, Prepared, Provider, Service, ServiceProvider
from services.errors import Invalid, NotFound

_organisation = Prepared(
    lambda slug: Organisation.select().where(Organisation.slug == slug), slug="\x00slug"
)
_service = Prepared(
    lambda org, service: Service.select().where(
        (Service.id == service) & (Service.organisation == org) & Service.active
    ),
    org=-70001,
    service=-70002,
)


def organisation(slug: str) -> Organisation:
    found = _organisation(slug=slug)
    if not found:
        raise NotFound("No such organisation.")
    return found[0]


def services_with_providers(org: Organisation) -> list[tuple[Service, list[Provider]]]:
    """Active services by category and name, each with the active providers offering it."""
    services = list(
        Service.select()
        .where((Service.organisation == org) & Service.active)
        .order_by(Service.category, Service.name)
    )
    offered = defaultdict(list)
    rows = (
        ServiceProvider.select(ServiceProvider, Provider)
        .join(Provider)
        .where(ServiceProvider.service.in_([s.id for s in services]) & Provider.active)
        .order_by(Provider.name)
    )
    for row in rows:
        offered[row.service_id].append(row.provider)
    return [(service, offered[service.id]) for service in services]


def service_of(org: Organisation, service_id: int) -> Service:
    """An active service of ``org``: anything else is bad input, not a missing page."""
    found = _service(org=org.id, service=service_id)
    if not found:
        raise Invalid({"service": "No such service here."})
    found[0].organisation = org  # already loaded: spare the query
    return found[0]

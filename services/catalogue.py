"""Reading an organisation's public face: who it is, what it offers, and who offers it."""

from __future__ import annotations

from collections import defaultdict

from models import Organisation, Provider, Service, ServiceProvider
from services.errors import Invalid, NotFound


def organisation(slug: str) -> Organisation:
    org = Organisation.get_or_none(Organisation.slug == slug)
    if org is None:
        raise NotFound("No such organisation.")
    return org


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
    service = Service.get_or_none(
        (Service.id == service_id) & (Service.organisation == org) & Service.active
    )
    if service is None:
        raise Invalid({"service": "No such service here."})
    service.organisation = org  # already loaded: spare the query
    return service

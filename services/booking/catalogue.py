"""Reading an organisation's public face: who it is, what it offers, and who offers it."""

from __future__ import annotations

from collections import defaultdict

from peewee import JOIN, fn

from models import Organisation, Prepared, Provider, Service, ServiceProvider
from services.errors import Invalid, NotFound

# Every column but the logo (up to 256 KB), which only /logo needs.
_WITHOUT_LOGO = [f for f in Organisation._meta.sorted_fields if f.name != "logo"]
_organisation = Prepared(
    lambda slug: Organisation.select(*_WITHOUT_LOGO).where(Organisation.slug == slug),
    slug="\x00slug",
)


def _offered_by(query):
    """``query`` on Service, one row per active provider offering the service (or one
    with no provider): the service and who offers it in one round trip."""
    return (
        query.switch(Service)
        .join(ServiceProvider, JOIN.LEFT_OUTER)
        .join(
            Provider,
            JOIN.LEFT_OUTER,
            on=(Provider.id == ServiceProvider.provider) & Provider.active,
        )
        .order_by(Provider.id)
    )


def _with_organisation(*fields):
    """Service and ``fields``, with the organisation's columns (but the logo) first."""
    return Service.select(*_WITHOUT_LOGO, *fields).join(
        Organisation, on=(Organisation.id == Service.organisation)
    )


_service_with_providers = Prepared(
    lambda org, service: _offered_by(
        Service.select(Service, Provider).where(
            (Service.id == service) & (Service.organisation == org) & Service.active
        )
    ),
    rows=True,
    org=-70001,
    service=-70002,
)
# The same, found by the organisation's slug, with the organisation: the slots request
# and the booking pages need both, in one round trip instead of two.
_service_at = Prepared(
    lambda slug, service: _offered_by(
        _with_organisation(Service, Provider).where(
            (Organisation.slug == slug) & (Service.id == service) & Service.active
        )
    ),
    rows=True,
    slug="\x00slug",
    service=-70003,
)
# The same again, by the service's id alone: booking, which is given only that.
_offered_service = Prepared(
    lambda service: _offered_by(
        _with_organisation(Service, Provider).where((Service.id == service) & Service.active)
    ),
    rows=True,
    service=-70004,
)


def listed_organisations(limit: int = 200) -> list[Organisation]:
    """The businesses the public front page lists, by name: those taking bookings, with
    at least one active service that an active provider offers."""
    offering = (
        Service.select(Service.id)
        .join(ServiceProvider)
        .join(Provider)
        .where((Service.organisation == Organisation.id) & Service.active & Provider.active)
    )
    return list(
        Organisation.select(Organisation.id, Organisation.slug, Organisation.name)
        .where(fn.EXISTS(offering))
        .order_by(Organisation.name, Organisation.id)
        .limit(limit)
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
    rows = _service_with_providers(org=org.id, service=service_id)
    if not rows:
        raise Invalid({"service": "No such service here."})
    return _service_from(org, rows)


def service_at(slug: str, service_id: int) -> tuple[Organisation, Service]:
    """The organisation at ``slug`` and its active service ``service_id``, as
    ``organisation`` and ``service_of`` give them, in one query. NotFound for no such
    organisation; Invalid for a service that is not one of its active ones."""
    rows = _service_at(slug=slug, service=service_id)
    if not rows:
        organisation(slug)  # NotFound, if that is what is missing
        raise Invalid({"service": "No such service here."})
    return _org_and_service(rows)


def offered_service(service_id: int) -> Service:
    """The active service ``service_id``, its organisation and who offers it, in one
    query; Invalid if it is not offered."""
    rows = _offered_service(service=service_id)
    if not rows:
        raise Invalid({"service": "No such service."})
    return _org_and_service(rows)[1]


def _org_and_service(rows: list) -> tuple[Organisation, Service]:
    split = len(_WITHOUT_LOGO)
    org = _instance(Organisation, _WITHOUT_LOGO, rows[0][:split])
    return org, _service_from(org, [row[split:] for row in rows])


def _service_from(org: Organisation, rows: list) -> Service:
    service_fields, provider_fields = Service._meta.sorted_fields, Provider._meta.sorted_fields
    split = len(service_fields)
    service = _instance(Service, service_fields, rows[0][:split])
    service.organisation = org  # already loaded: spare the query
    # Who offers it came in the same query: availability.providers_for uses this list.
    service.active_providers = [
        _instance(Provider, provider_fields, row[split:]) for row in rows if row[split] is not None
    ]
    return service


def _instance(model, fields, values):
    return model(**{f.name: f.python_value(v) for f, v in zip(fields, values, strict=True)})

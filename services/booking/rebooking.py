"""Coming back to book: which business a customer's "Book" leads to, and where "Book
again" on a past appointment goes (the same service with the same provider, while the
business still offers them together)."""

from __future__ import annotations

from dataclasses import dataclass

from models import Booking, Organisation, Provider, Service, ServiceProvider
from services import access


@dataclass(frozen=True)
class Again:
    """Where "Book again" goes: the time picker for ``service_id`` with ``provider_id``,
    or the business's page (both None) when that pair is no longer offered."""

    slug: str
    service_id: int | None = None
    provider_id: int | None = None


def offered_pairs(organisation_id: int) -> frozenset[tuple[int, int]]:
    """(service id, provider id) of every active service an active provider offers."""
    rows = (
        ServiceProvider.select(ServiceProvider.service, ServiceProvider.provider)
        .join(Service)
        .switch(ServiceProvider)
        .join(Provider)
        .where((Service.organisation == organisation_id) & Service.active & Provider.active)
        .tuples()
    )
    return frozenset(rows)


def book_again(booking: Booking, offered: frozenset[tuple[int, int]]) -> Again:
    """``offered``: the booking's organisation's ``offered_pairs``."""
    slug = booking.organisation.slug
    if (booking.service_id, booking.provider_id) in offered:
        return Again(slug, booking.service_id, booking.provider_id)
    return Again(slug)


def last_business(customer_id: int) -> str | None:
    """The slug of the business the customer last booked with, if any."""
    return (
        Organisation.select(Organisation.slug)
        .join(Booking)
        .where(Booking.customer.in_(access.customer_and_records(customer_id)))
        .order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(1)
        .scalar()
    )

"""Who may do what in an organisation's workspace. Every workspace view asks here."""

from __future__ import annotations

from dataclasses import dataclass

from models import Booking, Membership, Organisation, Provider
from services.catalogue import organisation
from services.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Staff:
    """A signed-in member of an organisation's staff, as the workspace sees them."""

    organisation: Organisation
    user_id: int
    roles: frozenset[str]
    provider: Provider | None  # their own column in the schedule, if they see customers

    @property
    def is_owner(self) -> bool:
        return "owner" in self.roles

    def visible_providers(self) -> list[Provider]:
        """Owners see every active provider; a provider sees their own column."""
        if self.is_owner:
            return list(
                Provider.select()
                .where((Provider.organisation == self.organisation) & Provider.active)
                .order_by(Provider.name)
            )
        return [self.provider] if self.provider else []

    def may_manage(self, booking: Booking) -> bool:
        return self.is_owner or (
            self.provider is not None and booking.provider_id == self.provider.id
        )


def staff_of(user_id: int, slug: str) -> Staff:
    """The user's place in the organisation's staff; Forbidden when they have none."""
    org = organisation(slug)
    roles = frozenset(
        m.role
        for m in Membership.select(Membership.role).where(
            (Membership.user == user_id) & (Membership.organisation == org)
        )
    )
    if not roles:
        raise Forbidden("This workspace is for the business's staff.")
    provider = Provider.get_or_none(
        (Provider.user == user_id) & (Provider.organisation == org) & Provider.active
    )
    return Staff(org, user_id, roles, provider)


def booking_for(staff: Staff, booking_id: int) -> Booking:
    """A booking the staff member may see; anything else, another organisation's
    included, is not found."""
    booking = (
        Booking.with_details()
        .where((Booking.id == booking_id) & (Booking.organisation == staff.organisation))
        .get_or_none()
    )
    if booking is None or not staff.may_manage(booking):
        raise NotFound("No such booking.")
    return booking

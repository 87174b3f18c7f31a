"""Who may do what in an organisation's workspace. Every workspace view asks here."""

from __future__ import annotations

from dataclasses import dataclass

from models import Booking, Membership, Organisation, Prepared, Provider, User
from services.booking.catalogue import organisation
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
            return _active_providers(org=self.organisation.id)
        return [self.provider] if self.provider else []

    def provider_ids(self) -> list[int]:
        return [p.id for p in self.visible_providers()]

    def customers(self):
        """The customers this staff member may see, as a query of users: for the owner,
        everyone who has booked with the business; for a provider, the customers they
        have seen (or will see), i.e. anyone with a booking with them."""
        booked = Booking.select(Booking.customer).where(Booking.organisation == self.organisation)
        if not self.is_owner:
            booked = booked.where(Booking.provider == (self.provider.id if self.provider else 0))
        return User.select().where(User.id.in_(booked))

    def may_manage(self, booking: Booking) -> bool:
        return self.is_owner or (
            self.provider is not None and booking.provider_id == self.provider.id
        )


# Asked on every workspace request (the schedule polls every few seconds): prepared once.
_active_providers = Prepared(
    lambda org: (
        Provider.select()
        .where((Provider.organisation == org) & Provider.active)
        .order_by(Provider.name)
    ),
    org=-70041,
)
_roles = Prepared(
    lambda user, org: Membership.select(Membership.role).where(
        (Membership.user == user) & (Membership.organisation == org)
    ),
    rows=True,
    user=-70042,
    org=-70043,
)
_own_provider = Prepared(
    lambda user, org: Provider.select().where(
        (Provider.user == user) & (Provider.organisation == org) & Provider.active
    ),
    user=-70044,
    org=-70045,
)


def staff_of(user_id: int, slug: str) -> Staff:
    """The user's place in the organisation's staff; Forbidden when they have none."""
    org = organisation(slug)
    roles = frozenset(role for (role,) in _roles(user=user_id, org=org.id))
    if not roles:
        raise Forbidden("This workspace is for the business's staff.")
    own = _own_provider(user=user_id, org=org.id)
    return Staff(org, user_id, roles, own[0] if own else None)


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


def customer_for(staff: Staff, customer_id: int) -> User:
    """A customer the staff member may see; anyone else is not found."""
    found = staff.customers().where(User.id == customer_id).first()
    if found is None:
        raise NotFound("No such customer.")
    return found


def provider_for(staff: Staff, provider_id: int) -> Provider:
    """A provider whose schedule and hours the staff member may change: any of the
    business's providers for the owner (deactivated ones included), themself for a
    provider. Anyone else, another business's included, is not found."""
    found = Provider.get_or_none(
        (Provider.id == provider_id) & (Provider.organisation == staff.organisation)
    )
    if found is None or not (staff.is_owner or (staff.provider and staff.provider.id == found.id)):
        raise NotFound("No such provider.")
    return found

"""Who may see or change what: the one place these rules live. The customer's pages,
the API, the workspace and the booking services all ask here.

A booking:

- its customer sees it (``customer_booking``, ``customer_bookings``): the account it was
  made for, or, when staff made it for one of the organisation's records, the account
  that claimed that record (services/accounts/claims.py), and nobody before that;
- staff see it (``Staff.may_manage``, ``booking_for``): the owner, any booking of the
  organisation; a provider, the bookings in their own column;
- anybody else is told it does not exist (NotFound), never that it is someone else's;
- it may be changed (cancelled or moved) only while it is confirmed: by staff at any
  time, by its customer only until the service's cancellation window opens
  (``changeable``, ``change_facts``; OutsideCancellationWindow after that).

The workspace: ``staff_of`` (who is staff, and in which roles), ``customer_for`` and
``provider_for`` (whose records a staff member may open).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models import (
    Booking,
    BookingStatus,
    Membership,
    Organisation,
    Payment,
    Prepared,
    Provider,
    Service,
    User,
)
from scheduling import change_deadline, customer_may_change
from services.booking.catalogue import organisation
from services.errors import (
    Forbidden,
    NotChangeable,
    NotFound,
    OutsideCancellationWindow,
)
from services.validation import LARGEST_INT

NO_SUCH_BOOKING = "No such booking."


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
        # Another organisation's records are never this one's customers, whatever the
        # bookings say (they cannot say so: the desk only ever uses its own records).
        own = User.organisation.is_null() | (User.organisation == self.organisation)
        return User.select().where(User.id.in_(booked) & own)

    def may_manage(self, booking: Booking) -> bool:
        """The owner: any booking of the organisation; a provider: their own column's."""
        if booking.organisation_id != self.organisation.id:
            return False
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


def staff_in(user_id: int, org: Organisation) -> Staff | None:
    """The user's place in the organisation's staff, or None when they have none."""
    roles = frozenset(role for (role,) in _roles(user=user_id, org=org.id))
    if not roles:
        return None
    own = _own_provider(user=user_id, org=org.id)
    return Staff(org, user_id, roles, own[0] if own else None)


def staff_of(user_id: int, slug: str) -> Staff:
    """The user's place in the organisation's staff; Forbidden when they have none."""
    staff = staff_in(user_id, organisation(slug))
    if staff is None:
        raise Forbidden("This workspace is for the business's staff.")
    return staff


# Bookings -------------------------------------------------------------------------------


def customer_bookings(customer_id: int):
    """Every booking the customer made, or was made for them: for their account, or for
    a business's record of them that they claimed. With its details."""
    # One semi-join (the account's id, and its claimed records' by users_claimed_by),
    # so the booking (customer_id, start_at) index still finds the bookings.
    return Booking.with_details().where(Booking.customer.in_(customer_and_records(customer_id)))


def customer_and_records(customer_id: int):
    """The ids of a customer: their account's, and those of the businesses' records of
    them that they claimed (a query)."""
    return User.select(User.id).where((User.id == customer_id) | (User.claimed_by == customer_id))


def is_customer_of(booking: Booking, user_id: int | None) -> bool:
    """Whether ``user_id`` is the booking's customer: the account it is for, or the
    account that claimed the record it is for."""
    if user_id is None or booking.customer_id is None:
        return False
    if booking.customer_id == user_id:
        return True
    return (
        User.select()
        .where((User.id == booking.customer_id) & (User.claimed_by == user_id))
        .exists()
    )


def customer_booking(customer_id: int, booking_id: int, missing: str = NO_SUCH_BOOKING) -> Booking:
    """The customer's own booking, with its details; anyone else's, or an id too large
    for the database, is not found (``missing`` says so)."""
    booking = None
    if booking_id <= LARGEST_INT:  # a larger id overflows the database driver
        booking = customer_bookings(customer_id).where(Booking.id == booking_id).get_or_none()
    if booking is None:
        raise NotFound(missing)
    return booking


def booking_for(staff: Staff, booking_id: int) -> Booking:
    """A booking the staff member may see; anything else, another organisation's
    included, is not found."""
    booking = None
    if booking_id <= LARGEST_INT:
        booking = (
            Booking.with_details()
            .where((Booking.id == booking_id) & (Booking.organisation == staff.organisation))
            .get_or_none()
        )
    if booking is None or not staff.may_manage(booking):
        raise NotFound(NO_SUCH_BOOKING)
    return booking


def changeable(
    booking_id: int, actor_id: int, now: datetime, *, cancelling: bool = False
) -> Booking:
    """The booking, if ``actor_id`` may cancel or move it now: its staff while it is
    confirmed, its customer while it is confirmed and before the deadline. Otherwise
    why not; to anybody else it does not exist.

    ``cancelling``: besides, its customer may give up a booking still held for its
    payment, and may cancel a paid one inside the window, forfeiting what the
    service's policy keeps (services/payments/policy.py). Sets ``booking.by_staff``."""
    booking = _for_change(booking_id)
    if booking is None:
        raise NotFound(NO_SUCH_BOOKING)
    staff = staff_in(actor_id, booking.organisation)
    as_staff = staff is not None and staff.may_manage(booking)
    customer = is_customer_of(booking, actor_id)
    if not as_staff and not customer:
        raise NotFound(NO_SUCH_BOOKING)  # never reveal that someone else's booking exists
    booking.by_staff = not customer
    if cancelling and customer and booking.status == BookingStatus.PENDING_PAYMENT:
        return booking
    if booking.status != BookingStatus.CONFIRMED:
        raise NotChangeable(f"This booking is {booking.status.replace('_', ' ')}.")
    if not as_staff and not _before_deadline(booking, now):
        if cancelling and paid_online(booking.id):
            return booking
        raise OutsideCancellationWindow(_deadline(booking), booking.organisation.timezone)
    return booking


def paid_online(booking_id: int) -> bool:
    """Whether the booking has an online payment the business still keeps some of."""
    return (
        Payment.select()
        .where(
            (Payment.booking == booking_id)
            & Payment.intent_id.is_null(False)
            & Payment.status.in_(("succeeded", "partially_refunded"))
        )
        .exists()
    )


def inside_window(booking: Booking, now: datetime) -> bool:
    """Whether the booking's cancellation window has opened (its customer can no longer
    change it freely)."""
    return not _before_deadline(booking, now)


def change_facts(booking: Booking, now: datetime, *, as_staff: bool = False) -> dict:
    """What the pages say about changing the booking: ``changeable`` (the rule of
    ``changeable``, for its customer or, ``as_staff``, for staff allowed to see it),
    ``deadline`` (until when its customer may change it online) and ``past``."""
    confirmed = booking.status == BookingStatus.CONFIRMED
    in_time = as_staff or _before_deadline(booking, now)
    return {
        "changeable": confirmed and in_time,
        # Cancelling may go on inside the window for a booking paid online (what the
        # service's policy keeps is kept), and a hold may always be given up.
        "cancellable": (confirmed and (in_time or paid_online(booking.id)))
        or booking.status == BookingStatus.PENDING_PAYMENT,
        "deadline": _deadline(booking),
        "past": booking.start_at <= now,
    }


def _window(booking: Booking) -> timedelta:
    return timedelta(hours=booking.service.cancellation_window_hours)


def _deadline(booking: Booking) -> datetime:
    return change_deadline(booking.start_at, _window(booking))


def _before_deadline(booking: Booking, now: datetime) -> bool:
    return customer_may_change(booking.start_at, _window(booking), now)


# What deciding on a change reads: the booking, its service's window and its
# organisation's time zone (not its logo), in one query.
_ORGANISATION = (Organisation.id, Organisation.slug, Organisation.name, Organisation.timezone)


def _for_change(booking_id: int) -> Booking | None:
    if booking_id > LARGEST_INT:
        return None
    return (
        Booking.select(Booking, Service, *_ORGANISATION)
        .join(Service)
        .switch(Booking)
        .join(Organisation)
        .where(Booking.id == booking_id)
        .get_or_none()
    )


# The workspace's other records ----------------------------------------------------------


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

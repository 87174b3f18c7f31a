"""Private ICS feeds: a provider's bookings (or, for an owner, the whole business's) in
the calendar app they already use, at /cal/<token>.ics.

The address is the proof: whoever has it reads the feed, so it says as little as it
can. An event names the service, and the customer only when the feed's owner chose to
show names; never an email address or phone number. Events carry the same UID and
SEQUENCE as the customer's invitations (services/booking/calendar_links.py), so a
moved booking moves the one event. Only the token's SHA-256 is stored; the token
itself is an HMAC of the app's secret over the feed's identity and the moment its
address was made, so the workspace can show the address again without keeping it, and
making a new address (``regenerate``) is what makes the old one stop working.

Calendar apps poll: ``etag`` is computed from a few columns (the providers'
calendar_version, kept by database triggers, and the feed's settings), so a poll that
changed nothing is answered 304 without building anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Event
from peewee import IntegrityError, fn

from models import (
    Booking,
    BookingStatus,
    CalendarFeed,
    Membership,
    Organisation,
    Provider,
    Service,
    User,
    db,
)
from services import audit
from services.accounts.auth import token_digest
from services.booking.calendar_links import Appointment, publish, timed_event
from services.contact import location
from services.errors import Forbidden

# What a feed holds: bookings from a month ago to the furthest a service can be booked
# ahead (at least MIN_AHEAD), cancelled ones for CANCELLED_SHOWN after they were
# cancelled (so that calendar apps see them go), and holds still waiting for payment
# as tentative. Expired holds are left out: their slot was never taken.
BACK = timedelta(days=30)
MIN_AHEAD = timedelta(days=90)
CANCELLED_SHOWN = timedelta(days=14)
# How often last_fetched_at is written, at most: polls come every few minutes.
FETCH_NOTED_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class Address:
    """A feed and the token of its address (the only place the token is)."""

    feed: CalendarFeed
    token: str


def _token(feed: CalendarFeed, secret: str) -> str:
    made = feed.created_at.isoformat()
    message = f"calendar-feed:{feed.user_id}:{feed.organisation_id}:{feed.scope}:{made}"
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _reloaded(feed: CalendarFeed) -> CalendarFeed:
    """The row as stored: its created_at as the database gives it back, which is what
    the token is made from."""
    return CalendarFeed.get_by_id(feed.id)


def may_have(user_id: int, org: Organisation, scope: str) -> Provider | None:
    """Whether ``user_id`` may have a feed of ``scope`` in ``org``: a business feed is
    for its owners, a provider feed for a provider with a column there (returned).
    Forbidden otherwise."""
    if scope == "business":
        owner = Membership.select().where(
            (Membership.user == user_id)
            & (Membership.organisation == org)
            & (Membership.role == "owner")
        )
        if not owner.exists():
            raise Forbidden("Only the business's owner can have its whole calendar.")
        return None
    if scope == "provider":
        provider = Provider.get_or_none(
            (Provider.user == user_id) & (Provider.organisation == org) & Provider.active
        )
        if provider is None:
            raise Forbidden("Only a provider who sees customers has a calendar feed.")
        return provider
    raise ValueError(scope)


def open_feed(user_id: int, org: Organisation, scope: str, now: datetime, secret: str) -> Address:
    """``user_id``'s feed of ``scope`` in ``org``, made on first use. Forbidden when
    they may not have one (``may_have``)."""
    provider = may_have(user_id, org, scope)
    found = CalendarFeed.get_or_none(
        (CalendarFeed.user == user_id)
        & (CalendarFeed.organisation == org)
        & (CalendarFeed.scope == scope)
    )
    if found is None:
        try:
            with db.atomic():
                found = CalendarFeed.create(
                    user=user_id,
                    organisation=org,
                    scope=scope,
                    provider=provider,
                    token_hash=_placeholder(user_id, org.id, scope),
                    created_at=now,
                )
                found = _reloaded(found)
                found.token_hash = token_digest(_token(found, secret))
                found.save(only=[CalendarFeed.token_hash])
        except IntegrityError:  # made at the same moment by another request
            found = CalendarFeed.get(
                (CalendarFeed.user == user_id)
                & (CalendarFeed.organisation == org)
                & (CalendarFeed.scope == scope)
            )
    found = _reloaded(found)
    return Address(found, _token(found, secret))


def own_feed(user_id: int, now: datetime, secret: str) -> Address:
    """The provider feed of ``user_id``, wherever they are a provider (a person is
    one business's provider at most). Forbidden when they are none."""
    provider = Provider.get_or_none((Provider.user == user_id) & Provider.active)
    if provider is None:
        raise Forbidden("Only a provider who sees customers has a calendar feed.")
    org = Organisation.get_by_id(provider.organisation_id)
    return open_feed(user_id, org, "provider", now, secret)


def _placeholder(user_id: int, org_id: int, scope: str) -> str:
    """A token_hash no token has, for the moment before the real one is known."""
    return f"new:{user_id}:{org_id}:{scope}"


def regenerate(address: Address, actor_id: int, now: datetime, secret: str) -> Address:
    """A new address for the feed: the old token stops working at once."""
    feed = address.feed
    with db.atomic():
        feed.created_at = now
        feed.save(only=[CalendarFeed.created_at])
        feed = _reloaded(feed)
        feed.token_hash = token_digest(_token(feed, secret))
        feed.save(only=[CalendarFeed.token_hash])
        audit.record(
            feed.organisation_id,
            actor_id,
            "settings.calendar_feed_renewed",
            f"Made a new address for {_feed_name(feed)}; the old one stopped working.",
            now,
            subject=("calendar_feed", feed.id),
        )
    return Address(feed, _token(feed, secret))


def show_names(address: Address, show: bool, actor_id: int, now: datetime) -> Address:
    """Whether the feed's events name the customer. Logged: it decides who reads them."""
    feed = address.feed
    if feed.show_names == show:
        return address
    with db.atomic():
        feed.show_names = show
        feed.save(only=[CalendarFeed.show_names])
        audit.record(
            feed.organisation_id,
            actor_id,
            "settings.calendar_feed_names",
            f"{'Showed' if show else 'Hid'} customer names in {_feed_name(feed)}.",
            now,
            subject=("calendar_feed", feed.id),
            detail={"show_names": show},
        )
    return address


def _feed_name(feed: CalendarFeed) -> str:
    if feed.scope == "business":
        return "the business's calendar feed"
    return f"{feed.provider.name}'s calendar feed"


def find(token: str) -> CalendarFeed | None:
    """The feed whose address has ``token``, or None."""
    if not token or len(token) > 100:
        return None
    return CalendarFeed.get_or_none(CalendarFeed.token_hash == token_digest(token))


def _provider_ids(feed: CalendarFeed) -> list[int]:
    if feed.scope == "provider":
        return [feed.provider_id]
    query = Provider.select(Provider.id).where(Provider.organisation == feed.organisation_id)
    return [row.id for row in query]


def etag(feed: CalendarFeed, now: datetime) -> str:
    """Changes when anything in the feed may have: a booking of its providers (their
    calendar_version), its settings, the business's name, address or zone, or the day (the
    window moves on)."""
    versions = (
        Provider.select(Provider.id, Provider.calendar_version)
        .where(Provider.id.in_(_provider_ids(feed)))
        .order_by(Provider.id)
    )
    org = Organisation.get_by_id(feed.organisation_id)
    parts = [f"{p.id}:{p.calendar_version}" for p in versions]
    place = location(org)  # the name, and the address the events' LOCATION gives
    parts += [feed.scope, str(feed.show_names), place, org.timezone, now.date().isoformat()]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _bookings(feed: CalendarFeed, now: datetime):
    ahead = Service.select(fn.MAX(Service.max_days_ahead)).where(
        Service.organisation == feed.organisation_id
    )
    horizon = max(MIN_AHEAD, timedelta(days=ahead.scalar() or 0))
    shown = (Booking.status != BookingStatus.EXPIRED) & (
        (Booking.status != BookingStatus.CANCELLED)
        | (Booking.cancelled_at >= now - CANCELLED_SHOWN)
    )
    query = Booking.with_details().where(
        Booking.provider.in_(_provider_ids(feed))
        & (Booking.start_at >= now - BACK)
        & (Booking.start_at < now + horizon)
        & shown
    )
    return list(query)


def last_modified(bookings: list[Booking], feed: CalendarFeed) -> datetime:
    """When the newest change among ``bookings`` was made (or the feed, when newer)."""
    moments = [feed.created_at]
    for booking in bookings:
        moments += [booking.created_at, booking.cancelled_at or booking.created_at]
    return max(moments)


@dataclass(frozen=True)
class Built:
    body: bytes
    last_modified: datetime


def build(feed: CalendarFeed, now: datetime) -> Built:
    """The feed's VCALENDAR, with each appointment once (calendar_links.publish)."""
    bookings = _bookings(feed, now)
    names = _customer_names(bookings) if feed.show_names else {}
    business = feed.scope == "business"

    def event(appointment: Appointment) -> Event:
        booking = appointment.booking
        summary = booking.service.name
        if booking.customer_id in names:
            summary += f" — {names[booking.customer_id]}"
        else:
            summary += " (booked)"
        if business:
            summary += f" · {booking.provider.name}"
        if appointment.cancelled:
            status = "CANCELLED"
        elif booking.status == BookingStatus.PENDING_PAYMENT:
            status = "TENTATIVE"
        else:
            status = "CONFIRMED"
        made = timed_event(booking, appointment.uid, appointment.sequence, status, summary)
        made.add("location", location(booking.organisation))
        made.add("transp", "TRANSPARENT" if appointment.cancelled else "OPAQUE")
        return made

    cal = publish(bookings, event)
    org = Organisation.get_by_id(feed.organisation_id)
    title = org.name if business else f"{feed.provider.name} · {org.name}"
    cal.add("x-wr-calname", title)
    cal.add("x-wr-timezone", org.timezone)
    cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT15M")
    return Built(cal.to_ical(), last_modified(bookings, feed))


def _customer_names(bookings: list[Booking]) -> dict[int, str]:
    ids = {b.customer_id for b in bookings if b.customer_id is not None}
    if not ids:
        return {}
    return {u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_(ids))}


def fetched(feed: CalendarFeed, now: datetime) -> None:
    """Note that the feed was read (at most once per FETCH_NOTED_EVERY)."""
    if feed.last_fetched_at is None or now - feed.last_fetched_at >= FETCH_NOTED_EVERY:
        CalendarFeed.update(last_fetched_at=now).where(CalendarFeed.id == feed.id).execute()

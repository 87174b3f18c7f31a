"""Adding what a business booked for you to your Kairos account.

A customer the staff enter at the desk is a record of that organisation (a models.User
with ``organisation`` set), never an account: the business learns nothing about
accounts, and nothing lands in anyone's appointments unasked. The record's emails
carry a link (``link_for``) that adds its bookings to a Kairos account. Opening it
proves control of the inbox the business typed, so whichever account is signed in may
claim it (the page says which one that is). From then on the record's bookings, and
those the business makes for it later, show in that account's appointments
(services/access.py), while the business keeps seeing its own record and nothing of
the account.

The link is signed with the SECRET_KEY (itsdangerous) and holds the record's id, a
digest of its email and when it was issued: it stops working after LIFETIME, when the
record's email is no longer the one it was sent to, and once the record is claimed.
Nothing is stored for it, so every try of one email carries the same link (issued
when the email's outbox row was written).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadData, URLSafeSerializer

from models import Booking, BookingStatus, Organisation, User, db
from services.errors import DomainError, Forbidden
from services.validation import LARGEST_INT

log = logging.getLogger("kairos.claims")

LIFETIME = timedelta(days=30)
PATH = "/account/claim/"  # where the link opens (views/claims.py)
_SALT = "kairos.claim-link"
_LONGEST_TOKEN = 200  # a real one is about 80 characters


class ClaimLinkInvalid(DomainError):
    """A link that was never one of ours, or whose booking is gone."""

    code = "claim_link_invalid"

    def __init__(self) -> None:
        super().__init__("This link doesn't work. It may have been cut short when it was copied.")


class ClaimLinkExpired(DomainError):
    """A real link, older than LIFETIME."""

    code = "claim_link_expired"

    def __init__(self, organisation: Organisation) -> None:
        super().__init__(f"This link from {organisation.name} has expired.")
        self.organisation = organisation


class AlreadyClaimed(DomainError):
    """The record's bookings were added to an account already: ``by_you`` when to the
    account asking."""

    code = "already_claimed"

    def __init__(self, organisation: Organisation, *, by_you: bool) -> None:
        super().__init__(f"Your bookings with {organisation.name} are in a Kairos account already.")
        self.organisation = organisation
        self.by_you = by_you


@dataclass(frozen=True)
class Claim:
    """What a link adds to an account: the record's bookings with one organisation."""

    record: User
    organisation: Organisation
    upcoming: list[Booking]  # confirmed and still to come, soonest first
    earlier: int  # and how many past or cancelled ones


def awaits_claim(user: User) -> bool:
    """A record with an email that no account has claimed yet: its emails carry a link."""
    return user.is_record and user.claimed_by_id is None and bool(user.email)


def link_for(record: User, issued_at: datetime, *, secret: str, base_url: str) -> str:
    """The absolute link that adds ``record``'s bookings to an account."""
    return base_url.rstrip("/") + PATH + token_for(record, issued_at, secret)


def token_for(record: User, issued_at: datetime, secret: str) -> str:
    payload = [record.id, int(issued_at.timestamp()), _email_digest(record.email or "")]
    return _serializer(secret).dumps(payload)


def open_link(token: str, now: datetime, secret: str, account_id: int | None = None) -> Claim:
    """What the link would add, if it works: ClaimLinkInvalid or ClaimLinkExpired if not,
    AlreadyClaimed once it was used (``by_you`` when by ``account_id``)."""
    record = _record_for(token, now, secret)
    if record.claimed_by_id is not None:
        raise AlreadyClaimed(record.organisation, by_you=record.claimed_by_id == account_id)
    return _claim_of(record, now)


def claim(token: str, account: User, now: datetime, secret: str) -> Claim:
    """Add the record's bookings to ``account``: they show in its appointments from now
    on. Only one account ever claims a record (a conditional UPDATE decides between two
    at once); the other gets AlreadyClaimed."""
    if account.is_record:
        raise Forbidden("Only a Kairos account can add bookings.")
    record = _record_for(token, now, secret)
    with db.atomic():
        taken = (
            User.update(claimed_by=account.id)
            .where((User.id == record.id) & User.claimed_by.is_null())
            .execute()
        )
    if not taken:
        holder = User.select(User.claimed_by).where(User.id == record.id).scalar()
        raise AlreadyClaimed(record.organisation, by_you=holder == account.id)
    log.info(
        "claim.claimed record_id=%s user_id=%s organisation_id=%s",
        record.id,
        account.id,
        record.organisation_id,
    )
    return _claim_of(record, now)


def release(account_id: int) -> int:
    """The account is going: the records it claimed are their organisations' alone again
    (their next emails carry a new link). How many."""
    return User.update(claimed_by=None).where(User.claimed_by == account_id).execute()


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def _email_digest(email: str) -> str:
    # Binds the link to the address it went to, without putting the address in the URL.
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def _record_for(token: str, now: datetime, secret: str) -> User:
    if len(token) > _LONGEST_TOKEN:
        raise ClaimLinkInvalid()
    try:
        record_id, issued, digest = _serializer(secret).loads(token)
    except (BadData, TypeError, ValueError):  # not signed by us, or not the three values
        raise ClaimLinkInvalid() from None
    if not (isinstance(record_id, int) and 0 < record_id <= LARGEST_INT):
        raise ClaimLinkInvalid()
    record = (
        User.select(User, Organisation)
        .join(Organisation, on=(User.organisation == Organisation.id))
        .where(User.id == record_id)
        .first()
    )
    if record is None or _email_digest(record.email or "") != digest:
        raise ClaimLinkInvalid()  # gone, or its address is not the one the link went to
    if now >= datetime.fromtimestamp(issued, UTC) + LIFETIME:
        raise ClaimLinkExpired(record.organisation)
    return record


def _claim_of(record: User, now: datetime) -> Claim:
    bookings = list(
        Booking.with_details().where(Booking.customer == record.id).order_by(Booking.start_at)
    )
    upcoming = [b for b in bookings if b.status == BookingStatus.CONFIRMED and b.end_at > now]
    return Claim(record, record.organisation, upcoming, len(bookings) - len(upcoming))

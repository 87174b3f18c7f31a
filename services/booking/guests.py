"""Booking without an account first: a new customer gives a name, an email and maybe a
phone on the review page, and gets a passwordless account and the booking together.

The account and the booking are made in one transaction: when the time was taken
meanwhile (SlotTaken, StartPassed, LimitReached), or the payment hold cannot be opened,
neither exists afterwards. An address that already has an account books nothing here
(AddressHasAccount): its holder signs in through an emailed link first, so nobody books
into, or signs in to, somebody else's account by typing their address.

A passwordless account signs in by emailed links (the booking's confirmation carries
one); its holder can add a password later (services/accounts/account.py).
"""

from __future__ import annotations

import logging
from datetime import datetime

from peewee import IntegrityError

from models import Booking, User, db, is_sqlite
from services.booking import appointments as bookings
from services.errors import DomainError, PaymentUnavailable
from services.notifications.outbox import Dispatch
from services.validation import DEFAULT_REGION, check_all, clean_email, clean_name, clean_phone

log = logging.getLogger("kairos.booking")


class AddressHasAccount(DomainError):
    """The address typed belongs to an account: its holder signs in first."""

    code = "address_has_account"

    def __init__(self, email: str) -> None:
        super().__init__("This email address has an account. Sign in to book with it.")
        self.email = email


def book_as_guest(
    *,
    name: str | None,
    email: str | None,
    phone: str | None,
    region: str = DEFAULT_REGION,
    service_id: int,
    start: datetime,
    provider_id: int | None,
    now: datetime,
    dispatch: Dispatch,
) -> Booking:
    """A new passwordless account for ``email`` and its booking of ``service_id`` at
    ``start``. Raises Invalid (per field) for a bad name, email or phone,
    AddressHasAccount when the address has an account, and what ``book`` raises
    when the time cannot be booked; in every one of those cases nothing is written.

    A paid service's payment hold is opened after the commit (never with the write
    lock held over a call to the payment provider). If it cannot be opened, the
    booking is released and PaymentUnavailable raised with the new ``customer`` on
    it: the browser that typed the details signs in to it and can simply try again."""
    name, email, phone = check_all(
        lambda: clean_name(name), lambda: clean_email(email), lambda: clean_phone(phone, region)
    )
    if User.by_email(email) is not None:
        raise AddressHasAccount(email)
    made_here = Dispatch()  # handed on only once committed
    with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
        customer = _new_account(name, email, phone, now)
        # Inside this transaction, book's own becomes a savepoint: its failure rolls
        # back the account as well.
        booking = bookings.book(
            customer_id=customer.id,
            service_id=service_id,
            start=start,
            now=now,
            provider_id=provider_id,
            dispatch=made_here,
            hold_payment=False,
        )
    dispatch.merge(made_here)
    booking.customer = customer
    try:
        bookings.hold_payment(booking, now)
    except PaymentUnavailable as exc:
        exc.customer = customer
        raise
    log.info("account.created_by_booking user_id=%s booking_id=%s", customer.id, booking.id)
    return booking


def _new_account(name: str, email: str, phone: str | None, now: datetime) -> User:
    try:
        with db.atomic():  # a savepoint: PostgreSQL's transaction stays usable
            return User.create(name=name, email=email, phone=phone, created_at=now)
    except IntegrityError:  # the address got an account a moment ago
        raise AddressHasAccount(email) from None


def is_passwordless(user: User) -> bool:
    """An account that signs in by emailed links only (made by booking as a guest)."""
    return not user.is_record and not user.password_hash

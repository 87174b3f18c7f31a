"""How long a business keeps its customers' details on past bookings, and forgetting
them after that.

Each organisation's owner sets ``retention_months`` (24 unless they say otherwise, 1
to 120). A booking that ended longer ago than that keeps its row: times, service,
provider, status, price and currency, which are the business's own figures. What was
said about the person goes:

- the staff's notes on the booking, and its cancellation reason (the words of whoever
  cancelled; the reasons the system itself gives, "rescheduled" and "account deleted",
  stay, as pages read them);
- its history (who did what, with those words) and the log of the messages sent about
  it (whom, what, with the same words);
- the staff's notes about the customer that are not on a booking, written before the
  cutoff, once the customer has no booking there since;
- a customer who is only a record of this business (``records_of``) and has no booking
  there since the cutoff: their name, email and phone, by the one rule that deleting an
  account follows (services.accounts.account.anonymise). An account holder's account is
  theirs: a business's retention never changes it.

``apply`` runs daily for every business (tasks.py). Each step looks only for what is
still to do, so running it again changes nothing; it works in batches of BATCH rows,
each batch a transaction of its own, so a large first run never holds locks for long.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, fields
from datetime import datetime

from peewee import Model

from models import (
    Booking,
    BookingEvent,
    Note,
    Notification,
    Organisation,
    User,
    db,
)
from services.accounts import account

log = logging.getLogger("kairos.retention")

DEFAULT_MONTHS = 24
MOST_MONTHS = 120  # ten years: longer than the record-keeping rules of most trades
BATCH = 500
SYSTEM_REASONS = ("", "rescheduled", account.ACCOUNT_DELETED)


@dataclass
class Forgotten:
    """What one run removed or anonymised, counted."""

    notes: int = 0
    reasons: int = 0
    history: int = 0
    messages: int = 0
    customers: int = 0

    def __add__(self, other: Forgotten) -> Forgotten:
        return Forgotten(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def __str__(self) -> str:  # for the log: "notes=3 reasons=0 ..."
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def months_before(now: datetime, months: int) -> datetime:
    """``now`` moved back ``months`` calendar months (31 March less one: 28 or 29 Feb)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def cutoff(org: Organisation, now: datetime) -> datetime:
    """Bookings that ended before this have their customers' details forgotten."""
    return months_before(now, org.retention_months)


def apply_all(now: datetime) -> Forgotten:
    """Apply every organisation's retention setting."""
    done = Forgotten()
    for org in Organisation.select(Organisation.id, Organisation.retention_months):
        done += apply(org, now)
    return done


def apply(org: Organisation, now: datetime) -> Forgotten:
    """Forget what ``org`` keeps about its customers beyond its retention period."""
    before = cutoff(org, now)
    past = Booking.select(Booking.id).where(
        (Booking.organisation == org.id) & (Booking.end_at < before)
    )
    seen_since = Booking.select(Booking.customer).where(
        (Booking.organisation == org.id)
        & (Booking.end_at >= before)
        & Booking.customer.is_null(False)
    )
    done = Forgotten(
        notes=_delete(Note, Note.booking.in_(past))
        + _delete(
            Note,
            (Note.organisation == org.id)
            & Note.booking.is_null()
            & (Note.created_at < before)
            & Note.customer.not_in(seen_since),
        ),
        reasons=_blank_reasons(past),
        history=_delete(BookingEvent, BookingEvent.booking.in_(past)),
        messages=_delete(
            Notification,
            # Not one a worker is sending this moment; it goes at the next run.
            Notification.booking.in_(past) & (Notification.status != "sending"),
        ),
        customers=_anonymise_records(org, before, seen_since),
    )
    if done:
        log.info("retention.applied organisation_id=%s %s", org.id, done)
    return done


def records_of(org: Organisation):
    """Customers who are only records of ``org`` (entered by its staff; they cannot sign
    in), as a query condition on users."""
    return User.organisation == org.id


def _anonymise_records(org: Organisation, before: datetime, seen_since) -> int:
    customers = Booking.select(Booking.customer).where(
        (Booking.organisation == org.id) & (Booking.end_at < before)
    )
    due = User.select(User.id).where(
        User.id.in_(customers)
        & User.id.not_in(seen_since)
        & records_of(org)
        & (User.email.is_null() | ~account.anonymised())
    )
    count = 0
    while ids := [user.id for user in due.limit(BATCH)]:
        with db.atomic():
            for user_id in ids:
                account.anonymise(user_id)
        count += len(ids)
    return count


def _blank_reasons(past) -> int:
    due = Booking.select(Booking.id).where(
        Booking.id.in_(past) & Booking.cancel_reason.not_in(SYSTEM_REASONS)
    )
    count = 0
    while ids := [booking.id for booking in due.limit(BATCH)]:
        with db.atomic():
            count += Booking.update(cancel_reason="").where(Booking.id.in_(ids)).execute()
    return count


def _delete(model: type[Model], condition) -> int:
    count = 0
    while ids := [row.id for row in model.select(model.id).where(condition).limit(BATCH)]:
        with db.atomic():
            count += model.delete().where(model.id.in_(ids)).execute()
    return count


def periods_for(user_id: int) -> list[Organisation]:
    """The businesses ``user_id`` has booked with, by name, with their retention
    periods (``retention_months``): what the privacy page tells them."""
    booked = Booking.select(Booking.organisation).where(Booking.customer == user_id)
    return list(
        Organisation.select(Organisation.name, Organisation.retention_months)
        .where(Organisation.id.in_(booked))
        .order_by(Organisation.name)
    )

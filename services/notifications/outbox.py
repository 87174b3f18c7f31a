"""Who is told what when a booking is made, moved or cancelled, and when reminders fall
due: rows in the outbox (models.Notification).

The rows are written inside the transaction of the change itself, so a booking never
exists without its messages, nor messages without their booking. The functions that
write them return the ids of the rows to send; the service that made the change adds
them to the caller's ``Dispatch`` once its transaction has committed, and whoever
opened that Dispatch (a request in app.py, the demo data) hands them to the worker;
services/notifications/delivery.py delivers them. The reminders the sweep creates are
returned to it directly (tasks.py).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import JOIN, fn

from models import (
    Booking,
    BookingStatus,
    Notification,
    NotificationPrefs,
    Organisation,
    Prepared,
    Provider,
    PushSubscription,
    User,
    db,
)

log = logging.getLogger("kairos.notify")


@dataclass
class Dispatch:
    """The notifications one unit of work (a request, a command) wrote, to be handed to
    the worker when it is over. Services that write outbox rows take one and add the
    ids once their transaction has committed: rows rolled back are never in it.
    ``calendars``: the two-way calendars with appointments queued for them
    (services/calendar/outbox.py), to be written now rather than at the next sweep."""

    ids: list[int] = field(default_factory=list)
    calendars: set[int] = field(default_factory=set)

    def add(self, ids: Iterable[int]) -> None:
        self.ids.extend(ids)

    def add_calendars(self, calendar_ids: Iterable[int]) -> None:
        self.calendars.update(calendar_ids)

    def merge(self, other: Dispatch) -> None:
        """Take on what another unit of work, committed inside this one, wrote."""
        self.add(other.ids)
        self.add_calendars(other.calendars)


@dataclass
class Person:
    """A recipient, with what they chose and where they can be reached."""

    id: int
    email: str | None
    phone: str | None
    prefs: NotificationPrefs
    devices: list[int] = field(default_factory=list)
    claimed_by: int | None = None  # a business's record: the account that claimed it


def recipients(
    user_ids: Iterable[int | None], known: dict[int, Person] | None = None
) -> dict[int, Person]:
    """The recipients among ``user_ids``; those in ``known`` (looked up earlier, before
    a lock was taken, say) are not read again."""
    known = known or {}
    wanted = [i for i in user_ids if i is not None]
    found = _people(i for i in wanted if i not in known)
    return {i: known.get(i) or found[i] for i in wanted if i in known or i in found}


CHOICES = tuple(
    name for name in NotificationPrefs._meta.sorted_field_names if name not in ("id", "user")
)

# One row per person and push device (one with a NULL device for a person without).
_with_choices = Prepared(
    lambda ids: (
        User.select(
            User.id,
            User.email,
            User.phone,
            User.claimed_by,
            PushSubscription.id,
            NotificationPrefs.id,
            *(getattr(NotificationPrefs, name) for name in CHOICES),
        )
        .join(NotificationPrefs, JOIN.LEFT_OUTER, on=(NotificationPrefs.user == User.id))
        .switch(User)
        .join(PushSubscription, JOIN.LEFT_OUTER, on=(PushSubscription.user == User.id))
        .where(User.id.in_(ids))
        .order_by(User.id, PushSubscription.id)
    ),
    rows=True,
    ids=(),
)


def _people(user_ids: Iterable[int | None]) -> dict[int, Person]:
    """One prepared query (it runs on every booking): people with their choices and
    their devices."""
    ids = tuple(sorted({i for i in user_ids if i is not None}))
    if not ids:
        return {}
    people = {}
    # A booking asks about two or three people: prepared. The sweep asks about many at
    # once, of varying number: built each time (each length would compile its own SQL).
    small = len(ids) <= 4
    found = _with_choices(ids=ids) if small else _with_choices.build(ids=ids).tuples()
    for user_id, email, phone, claimed_by, device_id, prefs_id, *chosen in found:
        person = people.get(user_id)
        if person is None:
            prefs = NotificationPrefs(user=user_id)
            if prefs_id is not None:
                prefs.id = prefs_id
                for name, value in zip(CHOICES, chosen, strict=True):
                    setattr(prefs, name, bool(value))
            person = people[user_id] = Person(user_id, email, phone, prefs, claimed_by=claimed_by)
        if device_id is not None:
            person.devices.append(device_id)
    return people


@dataclass
class BookingNotices:
    """The rows one change to a booking adds (or one reminder), collected and then
    written together."""

    booking: Booking
    now: datetime
    rows: list[dict] = field(default_factory=list)

    def add(
        self,
        person: Person,
        channel: str,
        kind: str,
        detail: dict,
        *,
        subscription: int | None = None,
        reminder: int | None = None,
        skipped: str = "",
    ) -> None:
        label = kind if reminder is None else f"{kind}-{reminder}m"
        key = f"{self.booking.id}:{label}:{channel}:{person.id}"
        self.rows.append(
            {
                "organisation": self.booking.organisation_id,
                "booking": self.booking.id,
                "recipient": person.id,
                "channel": channel,
                "kind": kind,
                "subscription": subscription,
                "dedup_key": key if subscription is None else f"{key}:{subscription}",
                "status": "skipped" if skipped else "queued",
                "last_error": skipped,
                "detail": json.dumps(detail, sort_keys=True),
                "reminder_minutes": reminder,
                "created_at": self.now,
                "due_at": self.now,
            }
        )

    def add_pushes(self, person: Person, kind: str, detail: dict, **kw: object) -> None:
        for device in person.devices:
            self.add(person, "push", kind, detail, subscription=device, **kw)

    def write(self) -> list[int]:
        """Insert the rows (a key already there is left alone); the queued ones' ids."""
        if not self.rows:
            return []
        # Only a second row with the same key is let go (not "INSERT OR IGNORE", which on
        # SQLite would silently drop a row breaking any other constraint too). RETURNING
        # gives the rows actually inserted.
        inserted = (
            Notification.insert_many(self.rows)
            .on_conflict(action="NOTHING", conflict_target=[Notification.dedup_key])
            .returning(Notification.id, Notification.status)
            .tuples()
            .execute()
        )
        return [row_id for row_id, status in inserted if status == "queued"]


def booking_made(
    booking: Booking,
    provider: Provider,
    actor_id: int | None,
    now: datetime,
    previous: Booking | None = None,
    known: dict[int, Person] | None = None,
) -> list[int]:
    """A booking was made, or (``previous``) moved here from another booking: write who
    is told, and return the ids of the rows to send. ``known``: recipients already
    looked up (see ``recipients``)."""
    provider_users = [provider.user_id]
    old_provider = None
    if previous is not None and previous.provider_id != provider.id:
        old_provider = Provider.get_by_id(previous.provider_id)
        provider_users.append(old_provider.user_id)
    people = recipients([booking.customer_id, *provider_users], known)
    customer = people.get(booking.customer_id)
    by_customer = _by_customer(actor_id, booking, customer)
    detail: dict = {"actor": actor_id, "by": "customer" if by_customer else "staff"}
    if previous is not None:
        detail["from"] = previous.start_at.isoformat()
    notices = BookingNotices(booking, now)
    if customer is not None:
        kind = "confirmed" if previous is None else "rescheduled"
        _tell_customer(notices, customer, kind, detail, business_acted=not by_customer)
    if previous is None or old_provider is not None:
        _tell_staff(notices, people.get(provider.user_id), "staff_new", detail, actor_id)
    else:
        _tell_staff(notices, people.get(provider.user_id), "staff_rescheduled", detail, actor_id)
    if old_provider is not None:
        # The colleague it was taken from hears of it as a cancellation of theirs.
        moved = BookingNotices(previous, now)
        moved_detail = {**detail, "reason": f"Moved to {provider.name}.", "to_provider": True}
        _tell_staff(
            moved, people.get(old_provider.user_id), "staff_cancelled", moved_detail, actor_id
        )
        return moved.write() + notices.write()
    return notices.write()


def booking_cancelled(
    booking: Booking,
    actor_id: int | None,
    now: datetime,
    reason: str,
    *,
    tell_customer: bool = True,
    money: dict | None = None,
) -> list[int]:
    """A booking was cancelled: write who is told, and return the ids of the rows to send.
    ``money``: what is refunded and kept of what was paid (refund_cents, kept_cents)."""
    provider = Provider.get_by_id(booking.provider_id)
    people = _people([booking.customer_id, provider.user_id])
    customer = people.get(booking.customer_id)
    by_customer = _by_customer(actor_id, booking, customer)
    detail = {"actor": actor_id, "by": "customer" if by_customer else "staff", "reason": reason}
    detail.update({k: v for k, v in (money or {}).items() if v})
    notices = BookingNotices(booking, now)
    if customer is not None and tell_customer:
        _tell_customer(notices, customer, "cancelled", detail, business_acted=not by_customer)
    _tell_staff(notices, people.get(provider.user_id), "staff_cancelled", detail, actor_id)
    return notices.write()


def payment_refunded(booking: Booking, now: datetime, detail: dict) -> list[int]:
    """A payment came too late for its hold and was refunded: the customer is told by
    every channel they have (they may think they are booked)."""
    people = recipients([booking.customer_id])
    customer = people.get(booking.customer_id)
    notices = BookingNotices(booking, now)
    if customer is not None:
        _tell_customer(notices, customer, "payment_refunded", detail, business_acted=True)
    return notices.write()


def _by_customer(actor_id: int | None, booking: Booking, customer: Person | None) -> bool:
    """The customer did it themselves: the booking's account, or the account that
    claimed the business's record it is for."""
    claimer = customer.claimed_by if customer is not None else None
    return actor_id == booking.customer_id or (claimer is not None and actor_id == claimer)


def _tell_customer(
    notices: BookingNotices, person: Person, kind: str, detail: dict, *, business_acted: bool
) -> None:
    """Email always (when there is an address); push and SMS too when the business did
    it and the customer wants them: they did not see it happen. Without an address
    (an account made by a texted code), push and SMS are all there is: always."""
    if person.email:
        notices.add(person, "email", kind, detail)
    if business_acted or not person.email:
        if person.prefs.push:
            notices.add_pushes(person, kind, detail)
        if person.prefs.sms and person.phone:
            notices.add(person, "sms", kind, detail)


def _tell_staff(
    notices: BookingNotices, person: Person | None, kind: str, detail: dict, actor_id: int | None
) -> None:
    """The provider hears of their bookings' news, unless they made it themselves."""
    if person is None or person.id == actor_id:
        return
    if person.email and person.prefs.staff_wants(kind, "email"):
        notices.add(person, "email", kind, detail)
    if person.prefs.staff_wants(kind, "push"):
        notices.add_pushes(person, kind, detail)


def forget(user_id: int) -> None:
    """A person deleted their account: nothing more goes to them, and their devices and
    choices go."""
    Notification.update(status="skipped", last_error="The account was deleted.").where(
        (Notification.recipient == user_id) & (Notification.status == "queued")
    ).execute()
    PushSubscription.delete().where(PushSubscription.user == user_id).execute()
    NotificationPrefs.delete().where(NotificationPrefs.user == user_id).execute()


# --- reminders ---------------------------------------------------------------------

_OFFSET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hms]?)\s*$")
_UNITS = {"h": 3600, "": 3600, "m": 60, "s": 1}


def parse_offsets(text: str) -> list[timedelta]:
    """'24,2' (hours) or '24h, 30m, 90s' → the offsets, largest first; ValueError if not."""
    offsets = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _OFFSET.match(part)
        if not match:
            raise ValueError(f"Not a length of time: {part!r}.")
        offsets.append(timedelta(seconds=float(match[1]) * _UNITS[match[2]]))
    return sorted(set(offsets), reverse=True)


def create_reminders(now: datetime, override: list[timedelta] | None = None) -> list[int]:
    """Queue the reminders that have fallen due; the new rows' ids.

    For each offset o, a confirmed booking starting within o from now is reminded, once,
    unless a reminder for a nearer offset exists already (a worker that was down does
    not send yesterday's "tomorrow" with today's "in two hours"), or the booking was
    made after its reminder time (nobody needs a "tomorrow" an hour after booking).
    Cancelled and moved bookings are no longer confirmed, so they are never picked up.
    """
    groups: dict[tuple[timedelta, ...], list[int]] = {}
    for org in Organisation.select(Organisation.id, Organisation.reminder_hours):
        try:
            offsets = override if override is not None else parse_offsets(org.reminder_hours)
        except ValueError:
            log.warning("reminders.bad_offsets organisation_id=%s", org.id)
            continue
        groups.setdefault(tuple(offsets), []).append(org.id)
    ids: list[int] = []
    for offsets, org_ids in groups.items():
        for offset in sorted(offsets):  # nearest first: it supersedes the earlier ones
            due = list(_due(org_ids, offset, now))
            people = _people(b.customer_id for b in due)  # one look-up for them all
            for booking in due:
                ids += _remind(booking, offset, now, people[booking.customer_id])
    return ids


def _due(org_ids: list[int], offset: timedelta, now: datetime):
    minutes = int(offset.total_seconds() // 60)
    nearer = Notification.select(Notification.id).where(
        (Notification.booking == Booking.id)
        & (Notification.kind == "reminder")
        & (Notification.reminder_minutes <= minutes)
    )
    return (
        Booking.select(Booking)
        .join(User, JOIN.INNER, on=(Booking.customer == User.id))
        .where(
            (Booking.status == BookingStatus.CONFIRMED)
            & (Booking.organisation.in_(org_ids))
            & (Booking.start_at > now)
            & (Booking.start_at <= now + offset)
            & ~fn.EXISTS(nearer)
        )
        .order_by(Booking.start_at)
    )


def _remind(booking: Booking, offset: timedelta, now: datetime, person: Person) -> list[int]:
    minutes = int(offset.total_seconds() // 60)
    notices = BookingNotices(booking, now)
    detail = {"start": booking.start_at.isoformat()}
    if booking.created_at > booking.start_at - offset:
        # Booked after this reminder's time: recorded, so the sweep does not ask again.
        late = "Booked after the reminder was due."
        notices.add(person, "email", "reminder", detail, reminder=minutes, skipped=late)
    else:
        if person.email and person.prefs.email_reminders:
            notices.add(person, "email", "reminder", detail, reminder=minutes)
        if person.prefs.push:
            notices.add_pushes(person, "reminder", detail, reminder=minutes)
        if person.prefs.sms and person.phone:
            notices.add(person, "sms", "reminder", detail, reminder=minutes)
    if not notices.rows:
        none = "The customer chose no reminders, or has no address for them."
        notices.add(person, "email", "reminder", detail, reminder=minutes, skipped=none)
    with db.atomic():
        return notices.write()

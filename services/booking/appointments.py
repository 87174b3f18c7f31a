"""Booking, cancelling and moving appointments.

The scheduling engine decides what may be booked; the database decides, in the end,
that no provider is ever booked twice (see ``_take``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import Case, IntegrityError, fn

from models import (
    Booking,
    BookingEvent,
    BookingStatus,
    Organisation,
    Payment,
    Prepared,
    Provider,
    Service,
    User,
    db,
    is_sqlite,
)
from scheduling import ServiceRules, available_slots
from services import access, audit
from services.booking import catalogue
from services.booking import slots as availability
from services.calendar import outbox as calendar_outbox
from services.errors import Invalid, LimitReached, NotChangeable, SlotTaken, StartPassed
from services.formats import when
from services.notifications import outbox as notify
from services.notifications.outbox import Dispatch
from services.observability import metrics
from services.payments import checkout, refunds

log = logging.getLogger("kairos.booking")

EXCLUSION_VIOLATION = "23P01"


def active_service(service_id: int) -> Service:
    """The service, with its organisation and active providers loaded (one query);
    Invalid if it is not offered."""
    return catalogue.offered_service(service_id)


def book(
    *,
    customer_id: int,
    service_id: int,
    start: datetime,
    now: datetime,
    provider_id: int | None = None,
    actor_id: int | None = None,
    source: str = "online",
    dispatch: Dispatch,
    hold_payment: bool = True,
) -> Booking:
    """Book ``service`` at ``start`` for a customer, with one provider or whoever is free.
    Staff booking for a walk-in or a phone call pass themselves as ``actor_id`` and the
    ``source``; the same rules and the same protection against double booking apply.
    Who is told of it goes into ``dispatch`` once the booking is committed.

    Raises Invalid when ``start`` is not a time this service is ever offered, and
    SlotTaken (with the nearest free slots) when it is, but somebody got there first.
    A customer booking for themselves (no ``actor_id``, or their own) is held to the
    organisation's limits (LimitReached); staff booking for them are not.
    A caller that books inside a transaction of its own passes ``hold_payment=False``
    and calls ``hold_payment`` once that transaction has committed: the payment
    provider is never called with a transaction (or SQLite's write lock) open.
    """
    service = active_service(service_id)
    start = _check_start(service, start, now)
    limited = actor_id in (None, customer_id)
    # A paid service booked online is held until it is paid (services/payments).
    due = checkout.due_for(service, online_by_customer=limited and source == "online")
    fields = {
        "organisation": service.organisation_id,
        "service": service.id,
        "customer": customer_id,
        "price_cents": service.price_cents,
        "currency": service.organisation.currency,
        "source": source,
    }
    if due is not None:
        fields["status"] = BookingStatus.PENDING_PAYMENT
        fields["hold_expires_at"] = checkout.hold_until(now)
    candidates = _free_providers(service, start, now, provider_id)
    # Who will hear of it, looked up before any lock is taken.
    people = notify.recipients([customer_id, *(p.user_id for p in candidates)])
    for provider in candidates:
        try:
            made = _take(
                service,
                provider,
                start,
                fields,
                actor_id or customer_id,
                now,
                event="booked",
                people=people,
                dispatch=dispatch,
                limits=service.organisation if limited else None,
            )
        except SlotTaken:
            continue  # with "any provider", the next one may still be free
        # Hand back what was booked with what it refers to, so nobody reads it again.
        made.service, made.provider, made.organisation = service, provider, service.organisation
        if due is not None and hold_payment:
            checkout.open_hold(made, service, due, now)  # PaymentUnavailable: released
        return made
    raise _taken_or_invalid(service, start, now, provider_id)


def hold_payment(booking: Booking, now: datetime) -> None:
    """Open the payment hold of a booking made with ``book(hold_payment=False)``, after
    its transaction committed. PaymentUnavailable: the booking is released."""
    if booking.status == BookingStatus.PENDING_PAYMENT:
        due = checkout.due_for(booking.service, online_by_customer=True)
        checkout.open_hold(booking, booking.service, due, now)


def book_once(
    *,
    customer_id: int,
    service_id: int,
    start: datetime,
    now: datetime,
    provider_id=None,
    dispatch: Dispatch,
) -> Booking:
    """book(), except that a second tap on "Confirm" (or the form sent again) gives back
    the booking the first one made, instead of booking another provider or a 409."""
    made = _just_booked(customer_id, service_id, start, now, provider_id)
    if made is not None:
        return made
    try:
        return book(
            customer_id=customer_id,
            service_id=service_id,
            start=start,
            now=now,
            provider_id=provider_id,
            dispatch=dispatch,
        )
    except (SlotTaken, LimitReached):
        # The first tap may have won meanwhile (and, at the limit, is what filled it).
        made = _just_booked(customer_id, service_id, start, now, provider_id)
        if made is None:
            raise
        return made


def _just_booked(customer_id, service_id, start, now, provider_id) -> Booking | None:
    query = Booking.select().where(
        (Booking.customer == customer_id)
        & (Booking.service == service_id)
        & (Booking.start_at == start)
        & Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT))
        & (Booking.created_at > now - timedelta(minutes=10))
    )
    if provider_id is not None:
        query = query.where(Booking.provider == provider_id)
    return query.first()


def cancel(
    *, booking_id: int, actor_id: int, now: datetime, reason: str = "", dispatch: Dispatch
) -> Booking:
    """Cancel a booking, if ``actor_id`` may (services/access.py: staff any time, its
    customer until the cancellation window opens). Who is told of it goes into
    ``dispatch`` once the cancellation is committed."""
    booking = access.changeable(booking_id, actor_id, now, cancelling=True)
    held = booking.status == BookingStatus.PENDING_PAYMENT  # given up before paying
    with db.atomic():
        if not is_sqlite():
            _queue_behind_others_booking(booking.provider_id)
        changed = (
            Booking.update(
                status=BookingStatus.CANCELLED,
                cancelled_at=now,
                cancelled_by=actor_id,
                cancel_reason=reason.strip(),
            )
            .where((Booking.id == booking.id) & (Booking.status == booking.status))
            .execute()
        )
        if not changed:
            raise NotChangeable("This booking was already cancelled.")
        record_event(booking.id, actor_id, "cancelled", now, reason=reason.strip())
        # What goes back is decided and written with the cancellation; Stripe is asked
        # once it is committed (and again by the sweep if it does not answer).
        money = refunds.plan_on_cancel(
            booking,
            by_business=booking.by_staff,
            inside_window=access.inside_window(booking, now),
            actor_id=actor_id,
            now=now,
        )
        if actor_id != booking.customer_id:  # staff (access.changeable let them), for the log
            audit.record(
                booking.organisation_id,
                actor_id,
                "bookings.cancelled",
                f"Cancelled {booking.service.name} on"
                f" {when(booking.start_at, booking.organisation.timezone)}"
                f" (booking #{booking.id}).",
                now,
                subject=("booking", booking.id),
            )
        told, calendars = [], []
        if not held:  # nobody was told of a booking that was never confirmed
            told = notify.booking_cancelled(booking, actor_id, now, reason.strip(), money=money)
            calendars = calendar_outbox.booking_changed(booking, now)
    dispatch.add(told)
    dispatch.add_calendars(calendars)
    refunds.send_pending(booking.id)
    if held:
        checkout.cancel_intent(booking.id, now, dispatch)
    log.info("booking.cancelled booking_id=%s user_id=%s", booking.id, actor_id)
    return Booking.get_by_id(booking.id)


def reschedule(
    *,
    booking_id: int,
    actor_id: int,
    start: datetime,
    now: datetime,
    provider_id: int | None = None,
    dispatch: Dispatch,
) -> Booking:
    """Move a booking to ``start``: the new time is taken and the old released together,
    or nothing changes. Returns the new booking, which points back at the old one.
    Who is told of it goes into ``dispatch`` once the move is committed."""
    old = access.changeable(booking_id, actor_id, now)
    service = active_service(old.service_id)  # a held booking is not CONFIRMED: refused
    if start == old.start_at and provider_id in (None, old.provider_id):
        raise Invalid({"start": "That is the time it already has."})
    start = _check_start(service, start, now, ignore_booking=old.id)
    fields = {
        "organisation": old.organisation_id,
        "service": service.id,
        "customer": old.customer_id,
        "price_cents": old.price_cents,
        "currency": old.currency,
        "rescheduled_from": old.id,
        "source": old.source,
    }
    candidates = _free_providers(service, start, now, provider_id, ignore_booking=old.id)
    people = notify.recipients([old.customer_id, *(p.user_id for p in candidates)])
    for provider in candidates:
        try:
            return _take(
                service,
                provider,
                start,
                fields,
                actor_id,
                now,
                event="booked",
                release=old,
                people=people,
                dispatch=dispatch,
            )
        except SlotTaken:
            continue
    raise _taken_or_invalid(service, start, now, provider_id, ignore_booking=old.id)


def _check_start(service: Service, start: datetime, now: datetime, ignore_booking=None):
    if start.tzinfo is None:
        raise Invalid({"start": "Give the time with its UTC offset."})
    if start <= now:
        alternatives = availability.nearest_slots(
            service, now, now, None, ignore_booking=ignore_booking
        )
        raise StartPassed(alternatives, service.organisation.timezone)
    return start.astimezone(UTC)


def _free_providers(service, start, now, provider_id, ignore_booking=None) -> list[Provider]:
    """Providers who could take ``start``, least busy first."""
    tz = ZoneInfo(service.organisation.timezone)
    day = start.astimezone(tz).date()
    providers = availability.providers_for(service, provider_id)
    rules: ServiceRules = availability.rules_for(service)
    cals = availability.calendars(providers, day, day, tz, ignore_booking=ignore_booking)
    by_id = {p.id: p for p in providers}
    return [
        by_id[cal.provider_id]
        for cal in availability.by_least_busy(cals)
        if any(s.start == start for s in available_slots(cal, rules, tz, day, day, now))
    ]


def _taken_or_invalid(service, start, now, provider_id, ignore_booking=None) -> Exception:
    if availability.would_be_slot(service, start, now, provider_id):
        alternatives = availability.nearest_slots(
            service, start, now, provider_id, ignore_booking=ignore_booking
        )
        return SlotTaken(alternatives, service.organisation.timezone)
    return Invalid({"start": "This service is not offered at that time."})


def _take(
    service,
    provider,
    start,
    fields,
    actor_id,
    now,
    *,
    event,
    dispatch,
    release=None,
    people=None,
    limits: Organisation | None = None,
) -> Booking:
    """Insert the booking so that the database itself refuses an overlap.

    SQLite: take the write lock first (BEGIN IMMEDIATE), look again, insert.
    PostgreSQL: the exclusion constraint booking_no_overlap decides.
    ``release`` is a booking given up in the same transaction (a reschedule).
    ``provider`` is as it was when the time was found free (its hours_version).
    ``limits``: the organisation whose per-customer limits apply (see _within_limits).
    """
    provider_id = provider.id
    rules = availability.rules_for(service)
    block = rules.block(start)
    row = dict(
        fields,
        provider=provider_id,
        start_at=start,
        end_at=start + rules.duration,
        block_start=block.start,
        block_end=block.end,
        created_at=now,
    )
    try:
        with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
            if limits is not None:
                _within_limits(limits, fields["customer"], start, now)
            if is_sqlite():
                state = _states(_provider_state(ids=(provider_id,)))
            else:
                state = _queue_behind_others_booking(
                    provider_id, release.provider_id if release else None
                )
            # Under the lock, which deactivation and changes to hours and time off also
            # take: the provider may have stopped, or the time closed, since it was found.
            active, hours_version = state.get(provider_id, (False, None))
            if not active:
                raise SlotTaken()
            if hours_version != provider.hours_version and not _still_working(
                service, provider_id, start, now
            ):
                raise SlotTaken()
            if release is not None:
                _release(release, actor_id, now)
            if is_sqlite() and Booking.overlapping(provider_id, block.start, block.end).exists():
                raise SlotTaken()
            booking = Booking.create(**row)
            detail = {"start": start.isoformat(), "provider": provider_id}
            if release is not None:
                detail["rescheduled_from"] = release.id
                # A reschedule keeps what was paid: the payments follow the booking.
                Payment.update(booking=booking.id).where(Payment.booking == release.id).execute()
            record_event(booking.id, actor_id, event, now, **detail)
            if actor_id != fields["customer"]:  # staff booking or moving it for a customer
                _audit_staff(booking, service, provider, release, actor_id, now)
            told, calendars = [], []
            # held for its payment: told once it is paid (payments.checkout.settle)
            if row.get("status") != BookingStatus.PENDING_PAYMENT:
                told = notify.booking_made(
                    booking, provider, actor_id, now, previous=release, known=people
                )
                calendars = calendar_outbox.booking_changed(booking, now, previous=release)
    except IntegrityError as exc:
        # Peewee raises its IntegrityError while handling the driver's error, so the
        # driver's error (with the SQLSTATE) is the context, not the cause.
        if _sqlstate(exc) == EXCLUSION_VIOLATION:
            raise SlotTaken() from exc
        raise
    dispatch.add(told)
    dispatch.add_calendars(calendars)
    metrics.booking_created(rescheduled=release is not None)
    log.info(
        "booking.created booking_id=%s provider_id=%s user_id=%s", booking.id, provider_id, actor_id
    )
    return booking


_SOURCE_WORDS = {"walk_in": "a walk-in", "phone": "a phone booking", "online": "online"}


def _audit_staff(booking, service, provider, release, actor_id, now) -> None:
    """The audit log's entry for a booking staff made or moved (in _take's transaction)."""
    tz = service.organisation.timezone
    if release is None:
        action = "bookings.booked"
        summary = (
            f"Booked {service.name} with {provider.name} on {when(booking.start_at, tz)}"
            f" ({_SOURCE_WORDS.get(booking.source, booking.source)}, booking #{booking.id})."
        )
    else:
        action = "bookings.moved"
        summary = (
            f"Moved {service.name} (booking #{release.id}) from {when(release.start_at, tz)}"
            f" to {when(booking.start_at, tz)}"
            + (f" with {provider.name}" if provider.id != release.provider_id else "")
            + f"; it is booking #{booking.id} now."
        )
    audit.record(
        service.organisation_id, actor_id, action, summary, now, subject=("booking", booking.id)
    )


def _within_limits(org: Organisation, customer_id: int, start: datetime, now: datetime) -> None:
    """LimitReached if the customer already holds ``org``'s most upcoming bookings, or
    its most on the local day of ``start``. Confirmed bookings count; cancelled don't.

    Called first thing in the booking's transaction. Two requests of one customer may
    book different providers, so the provider locks don't order them: on PostgreSQL the
    customer's row is locked first (FOR NO KEY UPDATE, which a booking's foreign key
    check does not wait for), and the count, a statement of its own, then sees the other
    request's committed booking (READ COMMITTED). On SQLite the write lock taken by
    BEGIN IMMEDIATE already puts every booking in a row. Costs one indexed count
    (booking (customer_id, start_at)), plus the primary-key lock on PostgreSQL.
    """
    if not is_sqlite():
        _lock_customer(customer=customer_id)
    tz = ZoneInfo(org.timezone)
    day = start.astimezone(tz).date()
    day_start = datetime.combine(day, time(), tz).astimezone(UTC)
    day_end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    ((upcoming, that_day),) = _held(
        org=org.id,
        customer=customer_id,
        since=min(now, day_start),
        now=now,
        day_start=day_start,
        day_end=day_end,
    )
    where = f"with {org.name}"
    if upcoming >= org.max_future_bookings:
        raise LimitReached(
            f"You already have {_appointments(upcoming, 'upcoming ')} {where}, and"
            f" {org.max_future_bookings} is the most you can book yourself."
            " Cancel one to book another.",
            limit="upcoming",
            allowed=org.max_future_bookings,
        )
    if that_day >= org.max_bookings_per_day:
        raise LimitReached(
            f"You already have {_appointments(that_day)} {where} on"
            f" {day:%a} {day.day} {day:%b}, and {org.max_bookings_per_day} is the most you"
            " can book yourself for one day. Choose another day, or cancel one of those.",
            limit="per_day",
            allowed=org.max_bookings_per_day,
        )


def _appointments(count: int, kind: str = "") -> str:
    return f"{count} {kind}appointment" + ("" if count == 1 else "s")


_lock_customer = Prepared(  # PostgreSQL: see _within_limits
    lambda customer: (
        User.select(User.id).where(User.id == customer).for_update("FOR NO KEY UPDATE")
    ),
    rows=True,
    customer=-70031,
)


def _held_by(org, customer, since, now, day_start, day_end):
    return Booking.select(
        fn.COUNT(Case(None, [(Booking.start_at > now, 1)])),
        fn.COUNT(Case(None, [((Booking.start_at >= day_start) & (Booking.start_at < day_end), 1)])),
    ).where(
        (Booking.customer == customer)
        & (Booking.organisation == org)
        & Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT))
        & (Booking.start_at >= since)
    )


_held = Prepared(  # (upcoming, on the day) of one customer's confirmed bookings
    _held_by,
    rows=True,
    org=-70032,
    customer=-70033,
    since=datetime(2001, 1, 1, tzinfo=UTC),
    now=datetime(2001, 2, 1, tzinfo=UTC),
    day_start=datetime(2001, 3, 1, tzinfo=UTC),
    day_end=datetime(2001, 4, 1, tzinfo=UTC),
)


def _queue_behind_others_booking(*provider_ids: int | None) -> dict[int, tuple[bool, int]]:
    """PostgreSQL: wait for other transactions changing these providers' bookings.

    Two overlapping inserts at the same instant can each find the other's new row while
    checking booking_no_overlap and wait for each other: a deadlock, which PostgreSQL
    breaks after deadlock_timeout (1 s) by failing one of them (a 503, not a 409).
    Locking the providers' rows first, always in id order, makes them queue instead; the
    constraint still decides who gets the time. (The calendar_version triggers update
    these rows too, so taking the lock first also keeps that from deadlocking.)
    Returns each provider's (active, hours_version), as read under the lock.
    """
    ids = tuple(sorted({pid for pid in provider_ids if pid is not None}))
    return _states(_lock_providers(ids=ids))


def _states(rows) -> dict[int, tuple[bool, int]]:
    return {pid: (bool(active), version) for pid, active, version in rows}


_lock_providers = Prepared(
    lambda ids: (
        Provider.select(Provider.id, Provider.active, Provider.hours_version)
        .where(Provider.id.in_(ids))
        .order_by(Provider.id)
        .for_update("FOR NO KEY UPDATE")
    ),
    rows=True,
    ids=(),
)


_provider_state = Prepared(  # SQLite: the write lock is already held
    lambda ids: Provider.select(Provider.id, Provider.active, Provider.hours_version).where(
        Provider.id.in_(ids)
    ),
    rows=True,
    ids=(),
)


def _still_working(service: Service, provider_id: int, start: datetime, now: datetime) -> bool:
    """Whether ``start`` is inside the provider's working time and clear of their time
    off and imported busy time (bookings aside: the overlap check and the constraint see
    to those)."""
    tz = ZoneInfo(service.organisation.timezone)
    day = start.astimezone(tz).date()
    (cal,) = availability.calendars(
        [Provider(id=provider_id)], day, day, tz, include_bookings=False
    )
    rules = availability.rules_for(service)
    return any(s.start == start for s in available_slots(cal, rules, tz, day, day, now))


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of the driver's error behind a Peewee error, if there is one."""
    cause = exc.__cause__ or exc.__context__
    return getattr(cause, "sqlstate", None)


def _release(booking: Booking, actor_id: int, now: datetime) -> None:
    changed = (
        Booking.update(
            status=BookingStatus.CANCELLED,
            cancelled_by=actor_id,
            cancel_reason="rescheduled",
            cancelled_at=now,
        )
        .where((Booking.id == booking.id) & (Booking.status == BookingStatus.CONFIRMED))
        .execute()
    )
    if not changed:
        raise NotChangeable("This booking was changed meanwhile.")
    record_event(booking.id, actor_id, "rescheduled", now)


def record_event(
    booking_id: int, actor_id: int | None, action: str, now: datetime, **detail: object
) -> None:
    BookingEvent.create(
        booking=booking_id,
        actor=actor_id,
        action=action,
        detail=json.dumps(detail, sort_keys=True),
        created_at=now,
    )

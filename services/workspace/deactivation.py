"""Deactivating a provider once each of their future bookings is moved to another
provider or cancelled; the staff page shows what that involves first (``departure``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from peewee import JOIN

from models import (
    Booking,
    BookingStatus,
    Membership,
    Provider,
    Service,
    ServiceProvider,
    User,
    locked,
)
from scheduling import available_slots
from services import audit
from services.booking import appointments as bookings
from services.booking import slots as availability
from services.errors import DomainError, Invalid, NotChangeable, SlotTaken
from services.notifications.outbox import Dispatch

log = logging.getLogger("kairos.staff")

MAX_MESSAGE = 500


class NotAllDone(DomainError):
    """Deactivation stopped: ``problems`` maps each booking still needing a decision to why."""

    code = "not_all_done"

    def __init__(self, problems: dict[int, str]) -> None:
        super().__init__("Some bookings still need a decision.")
        self.problems = problems


@dataclass(frozen=True)
class Handover:
    """A future booking of the provider leaving, and who could take it instead."""

    booking: Booking
    candidates: list[Provider]  # active, offer the service, and free at that very time


@dataclass(frozen=True)
class Departure:
    provider: Provider
    handovers: list[Handover]
    orphaned: list[Service]  # active services nobody would offer any more


def _future(provider_id: int, now: datetime):
    return Booking.select().where(
        (Booking.provider == provider_id)
        & (Booking.status == BookingStatus.CONFIRMED)
        & (Booking.start_at > now)
    )


def departure(provider: Provider, now: datetime) -> Departure:
    """What deactivating ``provider`` now involves."""
    future = list(
        _future(provider.id, now)
        .select(Booking, Service, User)
        .join(Service)
        .switch(Booking)
        .join(User, JOIN.LEFT_OUTER, on=(Booking.customer == User.id), attr="customer")
        .order_by(Booking.start_at)
    )
    others = list(
        Provider.select().where(
            (Provider.organisation == provider.organisation_id)
            & Provider.active
            & (Provider.id != provider.id)
        )
    )
    candidates = _candidates(future, others, ZoneInfo(provider.organisation.timezone), now)
    theirs = (
        Service.select()
        .join(ServiceProvider)
        .where((ServiceProvider.provider == provider.id) & Service.active)
    )
    still_offered = {
        row.service_id
        for row in ServiceProvider.select(ServiceProvider.service).where(
            ServiceProvider.provider.in_([p.id for p in others])
        )
    }
    return Departure(
        provider,
        [Handover(b, candidates[b.id]) for b in future],
        [s for s in theirs.order_by(Service.name) if s.id not in still_offered],
    )


def _candidates(future, others, tz: ZoneInfo, now: datetime) -> dict[int, list[Provider]]:
    """For each booking, the other providers who could take it: what booking.reschedule
    would accept (working then, free, and within the service's booking rules)."""
    found: dict[int, list[Provider]] = defaultdict(list)
    if not others or not future:
        return found
    offers = set(
        ServiceProvider.select(ServiceProvider.service, ServiceProvider.provider)
        .where(ServiceProvider.provider.in_([p.id for p in others]))
        .tuples()
    )
    by_day = defaultdict(list)
    for b in future:
        by_day[b.start_at.astimezone(tz).date()].append(b)
    for day, todays in by_day.items():  # two queries a day, whatever the number of bookings
        cals = {c.provider_id: c for c in availability.calendars(others, day, day, tz)}
        for b in todays:
            if not b.service.active:
                continue  # an archived service cannot be moved (booking.reschedule refuses)
            rules = availability.rules_for(b.service)
            found[b.id] = [
                p
                for p in others
                if (b.service_id, p.id) in offers
                and any(
                    s.start == b.start_at
                    for s in available_slots(cals[p.id], rules, tz, day, day, now)
                )
            ]
    return found


def deactivate(
    provider: Provider,
    actor_id: int,
    decisions: dict[int, str],
    message: str,
    now: datetime,
    *,
    dispatch: Dispatch,
) -> None:
    """Move or cancel each future booking as ``decisions`` says (booking id → a provider
    id, or "cancel"), then deactivate. Invalid when a decision is missing or wrong
    (nothing done); NotAllDone when a move failed or a booking arrived meanwhile (the
    moves and cancellations that worked stay done, and their customers are told through
    ``dispatch``; the provider stays active)."""
    if not provider.active:
        return
    plan = departure(provider, now)
    chosen, message = _check_decisions(plan, decisions, message)
    failures, handled = {}, {"moved": 0, "cancelled": 0}
    for handover in plan.handovers:
        booking = handover.booking
        target = chosen[booking.id]
        try:
            if target is None:
                bookings.cancel(
                    booking_id=booking.id,
                    actor_id=actor_id,
                    now=now,
                    reason=message,
                    dispatch=dispatch,
                )
            else:
                bookings.reschedule(
                    booking_id=booking.id,
                    actor_id=actor_id,
                    start=booking.start_at,
                    now=now,
                    provider_id=target,
                    dispatch=dispatch,
                )
        except NotChangeable:
            continue  # cancelled or moved by the customer meanwhile: nothing left to decide
        except (SlotTaken, Invalid):
            name = next(p.name for p in handover.candidates if p.id == target)
            failures[booking.id] = (
                f"{name} is no longer free then: choose someone else, or cancel it."
            )
        else:
            handled["cancelled" if target is None else "moved"] += 1
    if failures:
        raise NotAllDone(failures)
    _finish(provider, actor_id, now, handled)


def _check_decisions(plan: Departure, decisions: dict[int, str], message: str):
    """What to do with each booking (None: cancel). Invalid when a decision or the
    message is missing; NotAllDone when a chosen provider can't take it (any more)."""
    chosen: dict[int, int | None] = {}
    problems, conflicts = {}, {}
    for handover in plan.handovers:
        b = handover.booking
        raw = (decisions.get(b.id) or "").strip()
        if raw == "cancel":
            chosen[b.id] = None
        elif raw.isdigit() and int(raw) in {p.id for p in handover.candidates}:
            chosen[b.id] = int(raw)
        elif raw:  # offered when the page was drawn, but booked or away since
            conflicts[b.id] = "That provider can't take it any more: choose again, or cancel it."
        else:
            problems[f"decision-{b.id}"] = "Choose what happens to this booking."
    message = (message or "").strip()
    if None in chosen.values() and not message:
        problems["message"] = "Write a short message for the customers whose bookings you cancel."
    elif len(message) > MAX_MESSAGE:
        problems["message"] = f"Use at most {MAX_MESSAGE} characters."
    if problems:
        raise Invalid(problems | {f"decision-{i}": m for i, m in conflicts.items()})
    if conflicts:
        raise NotAllDone(conflicts)
    return chosen, message


def _handled(handled: dict[str, int]) -> str:
    """How the provider's future bookings were handed over, for the audit log."""
    done = [
        f"{n} moved" if what == "moved" else f"{n} cancelled" for what, n in handled.items() if n
    ]
    return f"; their future bookings: {' and '.join(done)}" if done else ""


def _finish(provider: Provider, actor_id: int, now: datetime, handled: dict[str, int]) -> None:
    # Locked, so that no booking can be made for them between this look and the update.
    with locked(Provider, provider.id):
        late = [b.id for b in _future(provider.id, now)]
        if late:
            raise NotAllDone(
                {i: "Booked while you were deciding: choose what happens to it." for i in late}
            )
        Provider.update(active=False).where(Provider.id == provider.id).execute()
        if provider.user_id:
            Membership.delete().where(
                (Membership.user == provider.user_id)
                & (Membership.organisation == provider.organisation_id)
                & (Membership.role == "provider")
            ).execute()
        audit.record(
            provider.organisation_id,
            actor_id,
            "staff.deactivated",
            f"Deactivated {provider.name}{_handled(handled)}.",
            now,
            subject=("provider", provider.id),
            detail=handled,
        )
    log.info("staff.deactivated provider_id=%s", provider.id)

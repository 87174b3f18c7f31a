"""The owner's staff: inviting providers by email, joining from the emailed link, and
deactivating a provider once each of their future bookings is moved or cancelled.

An invitation is a single-use link that expires after a week. Only the token's SHA-256
is stored, so the email holds the only copy. Joining claims the invitation with a
conditional UPDATE in the transaction that adds the membership, so two clicks (two
tabs, a retry) can never make two memberships.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from peewee import JOIN, IntegrityError

from models import (
    Booking,
    Invitation,
    Membership,
    Organisation,
    Provider,
    Service,
    ServiceProvider,
    User,
    db,
    is_sqlite,
)
from scheduling import available_slots
from services import availability
from services import booking as bookings
from services import mail as mailer
from services.accounts import (
    DEFAULT_REGION,
    LinkBuilder,
    check_all,
    clean_email,
    clean_name,
    clean_password,
    clean_phone,
)
from services.auth import hash_password
from services.catalogue import organisation
from services.errors import DomainError, Forbidden, Invalid, NotChangeable, NotFound, SlotTaken

log = logging.getLogger("kairos.staff")

INVITATION_LIFETIME = timedelta(days=7)
MAX_MESSAGE = 500


class InvitationInvalid(DomainError):
    """An invitation link that is unknown, used, withdrawn or expired."""

    code = "invitation_invalid"

    def __init__(self) -> None:
        super().__init__("This invitation has expired, was already used, or was withdrawn.")


class CannotJoin(DomainError):
    """The invitation is fine, but this account cannot become a provider here."""

    code = "cannot_join"


class NotAllDone(DomainError):
    """Deactivation stopped: ``problems`` maps each booking still needing a decision to why."""

    code = "not_all_done"

    def __init__(self, problems: dict[int, str]) -> None:
        super().__init__("Some bookings still need a decision.")
        self.problems = problems


@contextmanager
def _writing():
    """A write transaction; on SQLite it takes the write lock first, so what it reads
    cannot change before it writes."""
    with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
        yield


@contextmanager
def _locked(model, row_id: int):
    """A write transaction that other writers to this row wait for (FOR UPDATE on
    PostgreSQL; it also waits for bookings being made for a provider row)."""
    with _writing():
        if not is_sqlite():
            list(model.select(model.id).where(model.id == row_id).for_update())
        yield


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _join_as_provider(org: Organisation, user: User) -> None:
    Membership.insert(
        user=user.id, organisation=org.id, role="provider"
    ).on_conflict_ignore().execute()


# The staff page ----------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    provider: Provider
    email: str | None  # None: nobody signs in as this provider
    services: list[str]


@dataclass(frozen=True)
class Team:
    active: list[Member]
    inactive: list[Member]
    pending: list[Invitation]  # open invitations, newest first (expired ones included)
    owner_may_add_self: bool


def team(org: Organisation, owner_id: int) -> Team:
    providers = list(
        Provider.select(Provider, User)
        .join(User, JOIN.LEFT_OUTER, on=(Provider.user == User.id), attr="user")
        .where(Provider.organisation == org)
        .order_by(Provider.name, Provider.id)
    )
    offered = defaultdict(list)
    for provider_id, name in (
        ServiceProvider.select(ServiceProvider.provider, Service.name)
        .join(Service)
        .where((Service.organisation == org) & Service.active)
        .order_by(Service.name)
        .tuples()
    ):
        offered[provider_id].append(name)
    members = [Member(p, p.user.email if p.user_id else None, offered[p.id]) for p in providers]
    pending = Invitation.select().where(_open(org)).order_by(Invitation.created_at.desc())
    return Team(
        active=[m for m in members if m.provider.active],
        inactive=[m for m in members if not m.provider.active],
        pending=list(pending),
        owner_may_add_self=not Provider.select().where(Provider.user == owner_id).exists(),
    )


def add_self(org: Organisation, user: User) -> Provider:
    """The owner sees customers too: a provider row (and membership) of their own."""
    try:
        with _writing():
            provider = Provider.create(organisation=org, user=user, name=user.name)
            _join_as_provider(org, user)
    except IntegrityError:  # Provider.user is unique: they are a provider somewhere already
        raise NotChangeable("You already see customers as a provider.") from None
    log.info("staff.owner_added_self organisation_id=%s user_id=%s", org.id, user.id)
    return provider


def reactivate(provider: Provider) -> Provider:
    with _writing():
        Provider.update(active=True).where(Provider.id == provider.id).execute()
        if provider.user_id:
            _join_as_provider(provider.organisation, provider.user)
    log.info("staff.reactivated provider_id=%s", provider.id)
    return Provider.get_by_id(provider.id)


# Inviting ------------------------------------------------------------------------------


def _open(org: Organisation):
    return (
        (Invitation.organisation == org)
        & Invitation.accepted_at.is_null()
        & Invitation.revoked_at.is_null()
    )


_THEIR = {
    "Enter your name.": "Enter their name.",
    "Enter your email address.": "Enter their email.",
}


def invite(
    org: Organisation,
    inviter: User,
    name: str,
    email: str,
    now: datetime,
    *,
    link: LinkBuilder,
    mail: mailer.MailConfig | None = None,
) -> Invitation:
    """Email ``email`` a link to join ``org`` as a provider."""
    try:
        name, email = check_all(lambda: clean_name(name), lambda: clean_email(email))
    except Invalid as exc:
        raise Invalid({k: _THEIR.get(v, v) for k, v in exc.fields.items()}) from None
    _check_not_staff(org, email, inviter.id)
    token = secrets.token_urlsafe(32)
    with _locked(Organisation, org.id):  # two owners inviting the same person at once
        waiting = Invitation.select().where(_open(org) & (Invitation.email == email)).first()
        if waiting and waiting.expires_at > now:
            raise Invalid(
                {"email": f"An invitation to {email} is waiting for an answer: "
                 "use Resend under Pending invitations to send a new link."}
            )  # fmt: skip
        if waiting:  # expired: the new invitation replaces it
            Invitation.update(revoked_at=now).where(Invitation.id == waiting.id).execute()
        invitation = Invitation.create(
            organisation=org,
            email=email,
            name=name,
            token_hash=_digest(token),
            invited_by=inviter,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
    _send(invitation, org, inviter, token, now, link, mail)
    log.info("staff.invited organisation_id=%s invitation_id=%s", org.id, invitation.id)
    return invitation


def _check_not_staff(org: Organisation, email: str, inviter_id: int) -> None:
    user = User.by_email(email)
    if user is None:
        return
    roles = {
        m.role
        for m in Membership.select().where(
            (Membership.user == user.id) & (Membership.organisation == org)
        )
    }
    if user.id == inviter_id and "provider" not in roles:
        raise Invalid(
            {"email": "That's you: use “I also see customers” to see customers yourself."}
        )
    if roles:
        raise Invalid({"email": f"{email} is already on your staff."})
    if (
        Provider.select()
        .where((Provider.user == user.id) & (Provider.organisation == org))
        .exists()
    ):
        raise Invalid(
            {"email": f"{email} was a provider here: reactivate them under Deactivated providers."}
        )


def _send(invitation, org, inviter, token, now, link, mail) -> None:
    expires = invitation.expires_at.astimezone(ZoneInfo(org.timezone))
    mailer.send(
        invitation.email,
        f"Join {org.name} on Kairos",
        "invitation",
        config=mail,
        now=now,
        name=invitation.name,
        business=org.name,
        inviter=inviter.name,
        link=link(token),
        expires=f"{expires:%A} {expires.day} {expires:%B %Y}, {expires:%H:%M}",
    )


def _pending_of(org: Organisation, invitation_id: int) -> Invitation:
    found = Invitation.get_or_none(
        (Invitation.id == invitation_id) & (Invitation.organisation == org)
    )
    if found is None:
        raise NotFound("No such invitation.")
    if found.accepted_at is not None:
        raise NotChangeable(f"{found.email} has already accepted this invitation.")
    return found


def resend(
    org: Organisation,
    invitation_id: int,
    inviter: User,
    now: datetime,
    *,
    link: LinkBuilder,
    mail: mailer.MailConfig | None = None,
) -> Invitation:
    """A new link with a new week to use it; the old link stops working."""
    invitation = _pending_of(org, invitation_id)
    token = secrets.token_urlsafe(32)
    changed = (
        Invitation.update(
            token_hash=_digest(token),
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
            invited_by=inviter.id,
        )
        .where((Invitation.id == invitation.id) & _open(org))
        .execute()
    )
    if not changed:
        raise NotChangeable(f"The invitation to {invitation.email} was answered or withdrawn.")
    invitation = Invitation.get_by_id(invitation.id)
    _send(invitation, org, inviter, token, now, link, mail)
    log.info("staff.invitation_resent invitation_id=%s", invitation.id)
    return invitation


def revoke(org: Organisation, invitation_id: int, now: datetime) -> Invitation:
    """Withdraw an invitation; doing it twice is harmless."""
    invitation = _pending_of(org, invitation_id)
    Invitation.update(revoked_at=now).where((Invitation.id == invitation.id) & _open(org)).execute()
    log.info("staff.invitation_revoked invitation_id=%s", invitation.id)
    return invitation


# Joining -------------------------------------------------------------------------------


def invitation_by_token(slug: str, token: str, now: datetime) -> Invitation:
    """The open invitation to ``slug`` behind ``token``; InvitationInvalid otherwise."""
    org = organisation(slug)
    found = Invitation.get_or_none(
        (Invitation.token_hash == _digest(token)) & (Invitation.organisation == org)
    )
    if found is None or found.accepted_at or found.revoked_at or found.expires_at <= now:
        raise InvitationInvalid()
    found.organisation = org
    return found


def join_state(invitation: Invitation, user: User | None) -> str:
    """What the person opening the link can do: "join" (signed in as the invited email),
    "sign_up" (no account yet), "sign_in" (an account exists), "switch" (signed in as
    somebody else), "blocked" (this account cannot join: see ``join_problem``)."""
    if user is None:
        return "sign_in" if User.by_email(invitation.email) else "sign_up"
    if user.email != invitation.email:
        return "switch"
    return "blocked" if join_problem(invitation.organisation, user) else "join"


def join_problem(org: Organisation, user: User) -> str | None:
    provider = Provider.get_or_none(Provider.user == user.id)
    if provider is None or not provider.active:
        return None
    if provider.organisation_id == org.id:
        return f"You are already on {org.name}'s staff."
    return (
        f"Your account already sees customers at {provider.organisation.name}, and a Kairos "
        "account can be a provider for one business at a time. Ask them to deactivate you "
        f"there, or ask {org.name} to invite another email address."
    )


def accept(slug: str, token: str, user: User, now: datetime) -> Provider:
    """The signed-in ``user`` joins as a provider."""
    invitation = invitation_by_token(slug, token, now)
    if user.email != invitation.email:
        raise Forbidden(f"This invitation is for {invitation.email}.")
    try:
        with _writing():
            return _join(invitation, user, now)
    except IntegrityError:  # became a provider elsewhere meanwhile (Provider.user is unique)
        raise CannotJoin(
            join_problem(invitation.organisation, user) or "Please try again."
        ) from None


def join_with_new_account(
    slug: str,
    token: str,
    now: datetime,
    *,
    name: str,
    password: str,
    phone: str | None = None,
    region: str = DEFAULT_REGION,
) -> User:
    """Create the invited person's account and join, all or nothing."""
    invitation = invitation_by_token(slug, token, now)
    name, password, phone = check_all(
        lambda: clean_name(name),
        lambda: clean_password(password),
        lambda: clean_phone(phone, region),
    )
    password_hash = hash_password(password)  # slow on purpose: before taking the write lock
    try:
        with _writing():
            user = User.create(
                email=invitation.email,
                name=name,
                phone=phone,
                password_hash=password_hash,
                created_at=now,
            )
            _join(invitation, user, now)
    except IntegrityError:  # the unique email: an account was made meanwhile
        raise Invalid(
            {"email": f"An account for {invitation.email} exists now: sign in to accept."}
        ) from None
    log.info("account.created user_id=%s via=invitation", user.id)
    return user


def _join(invitation: Invitation, user: User, now: datetime) -> Provider:
    """Claim the invitation and make ``user`` a provider, in the caller's transaction."""
    claimed = (
        Invitation.update(accepted_at=now, accepted_by=user.id)
        .where(
            (Invitation.id == invitation.id)
            & Invitation.accepted_at.is_null()
            & Invitation.revoked_at.is_null()
            & (Invitation.expires_at > now)
        )
        .execute()
    )
    if not claimed:
        raise InvitationInvalid()
    org = invitation.organisation
    if problem := join_problem(org, user):
        raise CannotJoin(problem)
    earlier = Provider.get_or_none(Provider.user == user.id)  # deactivated, if any
    if earlier and earlier.organisation_id == org.id:
        Provider.update(active=True).where(Provider.id == earlier.id).execute()
        provider = earlier
    else:
        if earlier:  # let go by another business: their history there keeps the name
            Provider.update(user=None).where(Provider.id == earlier.id).execute()
        provider = Provider.create(organisation=org, user=user, name=user.name)
    _join_as_provider(org, user)
    log.info(
        "staff.joined organisation_id=%s user_id=%s invitation_id=%s",
        org.id,
        user.id,
        invitation.id,
    )
    return provider


# Deactivating --------------------------------------------------------------------------


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
        & (Booking.status == "confirmed")
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
    provider: Provider, actor_id: int, decisions: dict[int, str], message: str, now: datetime
) -> None:
    """Move or cancel each future booking as ``decisions`` says (booking id → a provider
    id, or "cancel"), then deactivate. Invalid when a decision is missing or wrong
    (nothing done); NotAllDone when a move failed or a booking arrived meanwhile (the
    moves and cancellations that worked stay done; the provider stays active)."""
    if not provider.active:
        return
    plan = departure(provider, now)
    chosen, message = _check_decisions(plan, decisions, message)
    failures = {}
    for handover in plan.handovers:
        booking = handover.booking
        target = chosen[booking.id]
        try:
            if target is None:
                bookings.cancel(booking_id=booking.id, actor_id=actor_id, now=now, reason=message)
            else:
                bookings.reschedule(
                    booking_id=booking.id,
                    actor_id=actor_id,
                    start=booking.start_at,
                    now=now,
                    provider_id=target,
                )
        except NotChangeable:
            continue  # cancelled or moved by the customer meanwhile: nothing left to decide
        except (SlotTaken, Invalid):
            name = next(p.name for p in handover.candidates if p.id == target)
            failures[booking.id] = (
                f"{name} is no longer free then: choose someone else, or cancel it."
            )
    if failures:
        raise NotAllDone(failures)
    _finish(provider, now)


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


def _finish(provider: Provider, now: datetime) -> None:
    # Locked, so that no booking can be made for them between this look and the update.
    with _locked(Provider, provider.id):
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
    log.info("staff.deactivated provider_id=%s", provider.id)

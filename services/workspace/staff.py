"""The owner's staff list, the owner adding themself as a provider, and reactivating a
provider. Inviting and joining live in invitations.py, deactivating in
deactivation.py; both build on the transaction helpers here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN, IntegrityError

from models import (
    Invitation,
    Membership,
    Organisation,
    Provider,
    Service,
    ServiceProvider,
    User,
    writing,
)
from services import audit
from services.errors import NotChangeable

log = logging.getLogger("kairos.staff")


def join_as_provider(org: Organisation, user: User) -> None:
    Membership.insert(
        user=user.id, organisation=org.id, role="provider"
    ).on_conflict_ignore().execute()


def open_invitations(org: Organisation):
    """Neither accepted nor withdrawn (expired ones included): what the staff page lists
    as pending, and what resend and revoke may still change."""
    return (
        (Invitation.organisation == org)
        & Invitation.accepted_at.is_null()
        & Invitation.revoked_at.is_null()
    )


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
    pending = (
        Invitation.select().where(open_invitations(org)).order_by(Invitation.created_at.desc())
    )
    return Team(
        active=[m for m in members if m.provider.active],
        inactive=[m for m in members if not m.provider.active],
        pending=list(pending),
        owner_may_add_self=not Provider.select().where(Provider.user == owner_id).exists(),
    )


def add_self(org: Organisation, user: User, now: datetime) -> Provider:
    """The owner sees customers too: a provider row (and membership) of their own."""
    try:
        with writing():
            provider = Provider.create(organisation=org, user=user, name=user.name)
            join_as_provider(org, user)
            audit.record(
                org.id,
                user.id,
                "staff.provider_added",
                "Became a provider too (sees customers).",
                now,
                subject=("provider", provider.id),
            )
    except IntegrityError:  # Provider.user is unique: they are a provider somewhere already
        raise NotChangeable("You already see customers as a provider.") from None
    log.info("staff.owner_added_self organisation_id=%s user_id=%s", org.id, user.id)
    return provider


def reactivate(provider: Provider, actor_id: int, now: datetime) -> Provider:
    with writing():
        Provider.update(active=True).where(Provider.id == provider.id).execute()
        if provider.user_id:
            join_as_provider(provider.organisation, provider.user)
        audit.record(
            provider.organisation_id,
            actor_id,
            "staff.reactivated",
            f"Reactivated {provider.name}.",
            now,
            subject=("provider", provider.id),
        )
    log.info("staff.reactivated provider_id=%s", provider.id)
    return Provider.get_by_id(provider.id)

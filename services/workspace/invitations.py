"""Inviting providers by email, and joining from the emailed link.

An invitation is a single-use link that expires after a week. Only the token's SHA-256
is stored, so the email holds the only copy. Joining claims the invitation with a
conditional UPDATE in the transaction that adds the membership, so two clicks (two
tabs, a retry) can never make two memberships.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from peewee import IntegrityError, fn

from models import (
    Invitation,
    Membership,
    Organisation,
    Provider,
    User,
    WeeklyHours,
    locked,
    writing,
)
from scheduling.zones import zone_label
from services import audit
from services import mail as mailer
from services.accounts.account import LinkBuilder
from services.accounts.auth import hash_password
from services.booking.catalogue import organisation
from services.errors import DomainError, Forbidden, Invalid, NotChangeable, NotFound
from services.validation import (
    DEFAULT_REGION,
    check_all,
    clean_email,
    clean_name,
    clean_password,
    clean_phone,
)
from services.workspace.staff import join_as_provider, open_invitations

log = logging.getLogger("kairos.staff")

INVITATION_LIFETIME = timedelta(days=7)


class InvitationInvalid(DomainError):
    """An invitation link that is unknown, used, withdrawn or expired."""

    code = "invitation_invalid"

    def __init__(self) -> None:
        super().__init__("This invitation has expired, was already used, or was withdrawn.")


class CannotJoin(DomainError):
    """The invitation is fine, but this account cannot become a provider here."""

    code = "cannot_join"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Inviting ------------------------------------------------------------------------------


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
    with locked(Organisation, org.id):  # two owners inviting the same person at once
        waiting = (
            Invitation.select().where(open_invitations(org) & (Invitation.email == email)).first()
        )
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
        audit.record(
            org.id,
            inviter.id,
            "staff.invited",
            f"Invited {name} ({email}) to join as a provider.",
            now,
            subject=("invitation", invitation.id),
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
        expires=f"{expires:%A} {expires.day} {expires:%B %Y}, {expires:%H:%M}"
        f" {zone_label(org.timezone, expires)}",
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
    with writing():
        changed = (
            Invitation.update(
                token_hash=_digest(token),
                created_at=now,
                expires_at=now + INVITATION_LIFETIME,
                invited_by=inviter.id,
            )
            .where((Invitation.id == invitation.id) & open_invitations(org))
            .execute()
        )
        if not changed:
            raise NotChangeable(f"The invitation to {invitation.email} was answered or withdrawn.")
        audit.record(
            org.id,
            inviter.id,
            "staff.invitation_resent",
            f"Sent {invitation.email} a new invitation link.",
            now,
            subject=("invitation", invitation.id),
        )
    invitation = Invitation.get_by_id(invitation.id)
    _send(invitation, org, inviter, token, now, link, mail)
    log.info("staff.invitation_resent invitation_id=%s", invitation.id)
    return invitation


def revoke(org: Organisation, invitation_id: int, actor_id: int, now: datetime) -> Invitation:
    """Withdraw an invitation; doing it twice is harmless (and logged once)."""
    invitation = _pending_of(org, invitation_id)
    with writing():
        withdrawn = (
            Invitation.update(revoked_at=now)
            .where((Invitation.id == invitation.id) & open_invitations(org))
            .execute()
        )
        if withdrawn:
            audit.record(
                org.id,
                actor_id,
                "staff.invitation_withdrawn",
                f"Withdrew the invitation to {invitation.email}.",
                now,
                subject=("invitation", invitation.id),
            )
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
        with writing():
            return _join(invitation, user, now)
    except IntegrityError:  # became a provider elsewhere meanwhile (Provider.user is unique)
        raise CannotJoin(
            join_problem(invitation.organisation, user) or "Please try again."
        ) from None


def needs_hours(org: Organisation, user_id: int) -> bool:
    """``user_id`` provides here and has no weekly hours yet (so nobody can book them):
    someone who just joined lands where they are asked to set some."""
    return (
        Provider.select()
        .where((Provider.organisation == org) & (Provider.user == user_id) & Provider.active)
        .where(~fn.EXISTS(WeeklyHours.select().where(WeeklyHours.provider == Provider.id)))
        .exists()
    )


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
        lambda: clean_password(password, about=(invitation.email, name)),
        lambda: clean_phone(phone, region),
    )
    password_hash = hash_password(password)  # slow on purpose: before taking the write lock
    try:
        with writing():
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
    join_as_provider(org, user)
    audit.record(
        org.id,
        user.id,
        "staff.joined",
        f"Accepted the invitation and joined as a provider ({user.email}).",
        now,
        subject=("provider", provider.id),
    )
    log.info(
        "staff.joined organisation_id=%s user_id=%s invitation_id=%s",
        org.id,
        user.id,
        invitation.id,
    )
    return provider

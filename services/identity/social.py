"""Signing in with Google, Apple (OpenID Connect) and Facebook (OAuth 2 and the Graph
API's ``/me``): which providers are configured, the way there and back, and what an
identity does to accounts. The wire (tokens, keys, claims) is services/identity/oauth_client.py.

``begin`` makes the consent address with a fresh ``state``, ``nonce`` and PKCE verifier,
which the caller keeps (the browser's session) until ``finish`` gets the answer: the
state must be the one sent, the code is traded with the verifier, and the ID token must
hold (Google, Apple) or Facebook's ``/me`` answer. What goes wrong is a SocialError
(Cancelled, ProviderDown), saying what to tell the person and, in ``reason``, why.

``sign_in`` turns the identity into an account: a known identity is its account; a new
one whose provider vouches for an email (``email_verified``) that an account has is
linked to that account; a new one with an unverified email of an account is refused
(EmailNotVerified), since anyone can put any address on a Facebook or Google profile;
otherwise a new account is made. An address the provider does not vouch for is not the
new account's email (it stays on the identity, for the list of sign-in methods): the
address's owner could otherwise be signed in to it later with an emailed link. Facebook
does not say whether an address was verified, so its addresses count as unverified.
``link`` adds an identity to a signed-in account, unless another account has it.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from peewee import IntegrityError

from config import Settings
from models import Identity, User, writing
from services.accounts.account import DELETED_DOMAIN
from services.errors import DomainError, Invalid
from services.identity import oauth_client
from services.identity.oauth_client import Provider
from services.validation import clean_email, clean_name

log = logging.getLogger("kairos.identity")

LABELS = {"google": "Google", "apple": "Apple", "facebook": "Facebook"}
CANCELLED = ("access_denied", "user_cancelled_authorize")  # Apple's when the person closes it


def configured(settings: Settings) -> list[Provider]:
    """The providers with a client id and secret, in the order their buttons show."""
    found = [
        Provider(
            "google",
            "Google",
            settings.google_client_id,
            settings.google_client_secret,
            "openid email profile",
            metadata_url=settings.google_metadata_url,
        ),
        # Apple sends the name and email only to a form_post (a POST from its page).
        Provider(
            "apple",
            "Apple",
            settings.apple_client_id,
            settings.apple_client_secret,
            "openid name email",
            metadata_url=settings.apple_metadata_url,
            extra={"response_mode": "form_post"},
        ),
        Provider(
            "facebook",
            "Facebook",
            settings.facebook_client_id,
            settings.facebook_client_secret,
            "public_profile email",
            authorize_url=settings.facebook_authorize_url,
            token_url=settings.facebook_token_url,
            graph_url=settings.facebook_graph_url,
        ),
    ]
    return [p for p in found if p.client_id and p.client_secret]


def provider_named(settings: Settings, name: str) -> Provider | None:
    return next((p for p in configured(settings) if p.name == name), None)


# What goes wrong ---------------------------------------------------------------------


class SocialError(DomainError):
    """Signing in with a provider did not work; ``reason`` is for the log (never a token)."""

    code = "social_failed"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class Cancelled(SocialError):
    code = "social_cancelled"


class ProviderDown(SocialError):
    code = "social_unavailable"


class EmailNotVerified(DomainError):
    """The identity is new, and its email is an account's, but the provider does not
    vouch for it: the account's holder signs in another way and adds it."""

    code = "email_not_verified"

    def __init__(self, provider: str) -> None:
        super().__init__(
            f"There is already a Kairos account with the email address your {LABELS[provider]}"
            " account gives."
        )
        self.provider = provider


class LinkedElsewhere(DomainError):
    code = "identity_taken"

    def __init__(self, provider: str) -> None:
        super().__init__(
            f"That {LABELS[provider]} account already signs in to another Kairos account."
        )
        self.provider = provider


def refused(provider: Provider, reason: str) -> SocialError:
    return SocialError(f"{provider.label} could not sign you in.", reason)


def down(provider: Provider, reason: str) -> ProviderDown:
    return ProviderDown(f"{provider.label} is not answering just now.", reason)


# The round trip ----------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """Who the provider says the person is."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def begin(provider: Provider, redirect_uri: str) -> tuple[str, dict[str, str]]:
    """The consent page's address, and what to keep until the person comes back."""
    with _answering(provider):
        return oauth_client.consent(provider, redirect_uri)


def finish(
    provider: Provider, kept: dict, answer: dict, redirect_uri: str, now: datetime
) -> Profile:
    """The person, from the provider's ``answer`` (the callback's parameters) and what
    ``begin`` had kept. SocialError (Cancelled, ProviderDown) when it cannot be had."""
    sent = kept.get("state") or ""
    if not hmac.compare_digest(str(answer.get("state") or "").encode(), sent.encode()):
        raise refused(provider, "state")
    if answer.get("error"):
        if answer["error"] in CANCELLED:
            raise Cancelled(f"You cancelled signing in with {provider.label}.", "cancelled")
        said = re.sub(r"[^\w.-]", "?", str(answer["error"])[:40])  # one line in the log
        raise refused(provider, f"error={said}")
    if not answer.get("code"):
        raise refused(provider, "no code")
    with _answering(provider):
        token = oauth_client.exchange(provider, str(answer["code"]), kept["verifier"], redirect_uri)
        if provider.is_oidc:
            claims = oauth_client.verify_id_token(provider, token, kept.get("nonce") or "", now)
        else:
            me = oauth_client.graph_me(provider, str(token.get("access_token") or ""))
    if provider.is_oidc:
        name = claims.get("name")
        if provider.name == "apple":  # Apple puts the name only in its first answer's form
            name = name or _apple_name(answer.get("user"))
        email, verified = claims.get("email"), _true(claims.get("email_verified"))
        return _profile(provider, claims["sub"], email, verified, name)
    return _profile(provider, me.get("id"), me.get("email"), False, me.get("name"))


def _true(value: object) -> bool:
    return value is True or value == "true"  # Apple sends "true" as a string


def _apple_name(user: object) -> str | None:
    """The name in Apple's first-time ``user`` form field (JSON), if it is one."""
    if not isinstance(user, str) or len(user) > 2000:
        return None
    try:
        name = json.loads(user).get("name") or {}
        parts = [name.get("firstName"), name.get("lastName")]
    except (ValueError, AttributeError):
        return None
    return " ".join(p for p in parts if isinstance(p, str) and p.strip()) or None


def _profile(
    provider: Provider, subject: object, email: object, verified: bool, name: object
) -> Profile:
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise refused(provider, "no subject")
    try:
        address = clean_email(email) if isinstance(email, str) else None
    except Invalid:
        address = None
    if address is not None and len(address) > 254:
        address = None
    try:
        person = clean_name(name) if isinstance(name, str) else None
    except Invalid:
        person = None
    return Profile(provider.name, subject, address, bool(address) and verified, person)


@contextmanager
def _answering(provider: Provider):
    """The provider's errors as SocialError (ProviderDown when it did not answer)."""
    try:
        yield
    except oauth_client.ProviderDown as exc:
        raise down(provider, exc.reason) from exc
    except oauth_client.ProviderError as exc:
        raise refused(provider, exc.reason) from exc


# Accounts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    user: User
    created: bool  # a new account
    linked: bool  # the identity was added to an account that had the email


def sign_in(profile: Profile, now: datetime) -> SignedIn:
    """The account ``profile`` signs in to, made or linked as the module says."""
    try:
        return _sign_in(profile, now)
    except IntegrityError:  # the same identity or email came back twice at once
        return _sign_in(profile, now)


def _sign_in(profile: Profile, now: datetime) -> SignedIn:
    with writing():
        identity = _identity(profile)
        if identity is not None:
            Identity.update(last_used_at=now).where(Identity.id == identity.id).execute()
            return SignedIn(identity.user, False, False)
        holder = User.by_email(profile.email) if profile.email else None
        if holder is not None and not profile.email_verified:
            raise EmailNotVerified(profile.provider)
        user = holder or User.create(
            name=profile.name or f"{LABELS[profile.provider]} user",
            email=profile.email if profile.email_verified else None,
            created_at=now,
        )
        _add(user, profile, now, used=True)
    log.info(
        "social.%s user_id=%s provider=%s",
        "linked" if holder else "created",
        user.id,
        profile.provider,
    )
    return SignedIn(user, holder is None, holder is not None)


def link(user_id: int, profile: Profile, now: datetime) -> bool:
    """Add the identity to account ``user_id``: True if it is new, False if the account
    had it already; LinkedElsewhere if another account has it."""
    try:
        with writing():
            identity = _identity(profile)
            if identity is not None and identity.user_id != user_id:
                raise LinkedElsewhere(profile.provider)
            if identity is not None:
                return False
            _add(User.get_by_id(user_id), profile, now, used=False)
    except IntegrityError:  # another account added it meanwhile
        raise LinkedElsewhere(profile.provider) from None
    log.info("social.added user_id=%s provider=%s", user_id, profile.provider)
    return True


def _identity(profile: Profile) -> Identity | None:
    """The identity as stored, with its account; None if there is none, or if its account
    was deleted (anonymised), in which case the identity goes: it signs nobody in."""
    identity = (
        Identity.select(Identity, User)
        .join(User)
        .where((Identity.provider == profile.provider) & (Identity.subject == profile.subject))
        .first()
    )
    if identity is not None and (identity.user.email or "").endswith("@" + DELETED_DOMAIN):
        Identity.delete().where(Identity.id == identity.id).execute()
        return None
    return identity


def _add(user: User, profile: Profile, now: datetime, *, used: bool) -> Identity:
    return Identity.create(
        user=user,
        provider=profile.provider,
        subject=profile.subject,
        email=profile.email,
        email_verified=profile.email_verified,
        created_at=now,
        last_used_at=now if used else None,
    )


def linked_providers(user_id: int) -> set[str]:
    """The providers (of these three) the account already signs in with."""
    rows = Identity.select(Identity.provider).where(
        (Identity.user == user_id) & Identity.provider.in_(tuple(LABELS))
    )
    return {row.provider for row in rows}

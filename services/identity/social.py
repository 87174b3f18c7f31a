"""Signing in with Google, Apple (OpenID Connect) and Facebook (OAuth 2 and the Graph
API's ``/me``): the consent address, the way back, and what an identity does to
accounts.

``begin`` makes the consent address with a fresh ``state``, ``nonce`` and PKCE verifier
(S256), which the caller keeps (the browser's session) until ``finish`` gets the answer:
the state must be the one sent, the code is traded with the verifier, and for OpenID
Connect the ID token's signature is checked against the provider's JWKS, then its
``iss``, ``aud``, ``exp``, ``iat`` and ``nonce`` (Authlib's CodeIDToken, with every one of
these essential). Facebook has no ID token: its ``/me`` answers with the access token
(and its ``appsecret_proof``).

``sign_in`` turns the identity into an account: a known identity is its account; a new
one whose provider vouches for an email (``email_verified``) that an account has is
linked to that account; a new one with an unverified email of an account is refused
(EmailNotVerified), since anyone can put any address on a Facebook or Google profile;
otherwise a new account is made. An address the provider does not vouch for is not the
new account's email (it stays on the identity, for the list of sign-in methods): the
address's owner could otherwise be signed in to it later with an emailed link. Facebook
does not say whether an address was verified, so its addresses count as unverified.
``link`` adds an identity to a signed-in account, unless another account has it.

The discovery documents and key sets are fetched from the configured addresses (local
stand-ins in the tests) within time and size limits, and kept for an hour; an ID token
signed with a key not yet seen fetches the key set again, once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from peewee import IntegrityError

from config import Settings
from models import Identity, User, db, is_sqlite
from services.accounts.account import DELETED_DOMAIN
from services.errors import DomainError, Invalid
from services.validation import clean_email, clean_name

log = logging.getLogger("kairos.identity")

TIMEOUT = (5, 10)  # connect, read (seconds)
MAX_BYTES = 256 * 1024
KEEP_FOR = 3600  # seconds a discovery document or key set is kept
LEEWAY = 60  # seconds of clock skew allowed on exp and iat
SIGNING_ALGORITHMS = ("RS256", "ES256", "PS256")  # never "none" nor a shared secret
LABELS = {"google": "Google", "apple": "Apple", "facebook": "Facebook"}
CANCELLED = ("access_denied", "user_cancelled_authorize")  # Apple's when the person closes it


@dataclass(frozen=True)
class Provider:
    """One provider as configured: OpenID Connect by ``metadata_url``, or OAuth 2 with
    its endpoints (Facebook)."""

    name: str
    client_id: str
    client_secret: str
    scope: str
    metadata_url: str = ""
    authorize_url: str = ""
    token_url: str = ""
    graph_url: str = ""
    extra: dict = field(default_factory=dict)  # more consent parameters

    @property
    def label(self) -> str:
        return LABELS[self.name]

    @property
    def is_oidc(self) -> bool:
        return bool(self.metadata_url)


def configured(settings: Settings) -> list[Provider]:
    """The providers with a client id and secret, in the order their buttons show."""
    found = [
        Provider(
            "google",
            settings.google_client_id,
            settings.google_client_secret,
            "openid email profile",
            metadata_url=settings.google_metadata_url,
        ),
        # Apple sends the name and email only to a form_post (a POST from its page).
        Provider(
            "apple",
            settings.apple_client_id,
            settings.apple_client_secret,
            "openid name email",
            metadata_url=settings.apple_metadata_url,
            extra={"response_mode": "form_post"},
        ),
        Provider(
            "facebook",
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
    kept = {"state": secrets.token_urlsafe(32), "verifier": secrets.token_urlsafe(48)}
    params = dict(provider.extra)
    if provider.is_oidc:
        kept["nonce"] = params["nonce"] = secrets.token_urlsafe(32)
    endpoint = _metadata(provider)["authorization_endpoint"] if provider.is_oidc else None
    with _session(provider, redirect_uri) as session:
        url, _ = session.create_authorization_url(
            endpoint or provider.authorize_url,
            state=kept["state"],
            code_verifier=kept["verifier"],
            **params,
        )
    return url, kept


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
        raise refused(provider, f"error={str(answer['error'])[:40]}")
    if not answer.get("code"):
        raise refused(provider, "no code")
    token = _exchange(provider, str(answer["code"]), kept["verifier"], redirect_uri)
    if provider.is_oidc:
        claims = verify_id_token(provider, token, kept.get("nonce") or "", now)
        name = claims.get("name") or _apple_name(answer.get("user"))
        email, verified = claims.get("email"), _true(claims.get("email_verified"))
        return _profile(provider, claims["sub"], email, verified, name)
    me = _graph_me(provider, str(token.get("access_token") or ""))
    return _profile(provider, me.get("id"), me.get("email"), False, me.get("name"))


def verify_id_token(provider: Provider, token: dict, nonce: str, now: datetime) -> dict:
    """The ID token's claims, once its signature (the provider's JWKS) and its ``iss``,
    ``aud``, ``exp``, ``iat`` and ``nonce`` hold; else SocialError (reason "id_token")."""
    metadata = _metadata(provider)
    id_token = token.get("id_token")
    if not nonce or not isinstance(id_token, str):
        raise refused(provider, "id_token: none, or no nonce was sent")
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in SIGNING_ALGORITHMS if a in offered]
    if not algorithms:
        raise refused(provider, "id_token: no signing algorithm we accept")
    registry = JWSRegistry(algorithms=algorithms)
    try:
        try:
            decoded = jwt.decode(id_token, _keys(provider, metadata), registry=registry)
        except InvalidKeyIdError:  # a key made since we fetched the set
            decoded = jwt.decode(id_token, _keys(provider, metadata, True), registry=registry)
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "values": _issuers(metadata["issuer"])},
                "aud": {"essential": True, "value": provider.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
                "iat": {"essential": True},
            },
            {
                "nonce": nonce,
                "client_id": provider.client_id,
                "access_token": token.get("access_token"),  # at_hash, when there is one
            },
        )
        claims.validate(now=int(now.timestamp()), leeway=LEEWAY)
    except (JoseError, ValueError) as exc:  # a bad signature, a claim that does not hold
        raise refused(provider, f"id_token: {type(exc).__name__} {exc}"[:120]) from exc
    return dict(claims)


def _issuers(issuer: str) -> list[str]:
    # Google's ID tokens name their issuer with or without the scheme.
    if issuer == "https://accounts.google.com":
        return [issuer, "accounts.google.com"]
    return [issuer]


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


# HTTP --------------------------------------------------------------------------------


def _session(provider: Provider, redirect_uri: str) -> OAuth2Session:
    session = OAuth2Session(
        provider.client_id,
        provider.client_secret,
        scope=provider.scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",  # the one Apple takes
        default_timeout=TIMEOUT,
    )
    session.max_redirects = 0
    session.trust_env = False
    return session


def _exchange(provider: Provider, code: str, verifier: str, redirect_uri: str) -> dict:
    endpoint = _metadata(provider)["token_endpoint"] if provider.is_oidc else provider.token_url
    try:
        with _session(provider, redirect_uri) as session:
            return dict(
                session.fetch_token(
                    endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=verifier,
                )
            )
    except OAuthError as exc:  # invalid_grant: a code used or forged, a wrong verifier
        raise refused(provider, f"token: {exc.error}") from exc
    except (requests.RequestException, ValueError) as exc:
        raise down(provider, f"token: {type(exc).__name__}") from exc


def _graph_me(provider: Provider, access_token: str) -> dict:
    proof = hmac.new(
        provider.client_secret.encode(), access_token.encode(), hashlib.sha256
    ).hexdigest()
    return _get_json(
        provider,
        f"{provider.graph_url}/me",
        params={"fields": "id,name,email", "appsecret_proof": proof},
        headers={"Authorization": f"Bearer {access_token}"},
    )


def _get_json(provider: Provider, url: str, **kwargs) -> dict:
    """A JSON object from ``url``: no redirects, within TIMEOUT and MAX_BYTES; a failure
    is ProviderDown (the answer itself is never shown or logged)."""
    try:
        with requests.get(
            url, timeout=TIMEOUT, allow_redirects=False, stream=True, **kwargs
        ) as response:
            content = response.raw.read(MAX_BYTES + 1, decode_content=True)
            status = response.status_code
    except requests.RequestException as exc:
        raise down(provider, f"GET {type(exc).__name__}") from exc
    if status != 200 or len(content) > MAX_BYTES:
        raise down(provider, f"GET answered {status}, {len(content)} bytes")
    try:
        body = json.loads(content)
    except ValueError as exc:
        raise down(provider, "GET answered what is not JSON") from exc
    if not isinstance(body, dict):
        raise down(provider, "GET answered what is not an object")
    return body


_kept: dict[str, tuple[float, dict]] = {}
_kept_lock = threading.Lock()


def _fetched(provider: Provider, url: str, again: bool = False) -> dict:
    """``url``'s JSON, fetched at most once an hour (or now, ``again``)."""
    with _kept_lock:
        found = _kept.get(url)
    if found and not again and time.monotonic() - found[0] < KEEP_FOR:
        return found[1]
    body = _get_json(provider, url)
    with _kept_lock:
        _kept[url] = (time.monotonic(), body)
    return body


def _metadata(provider: Provider) -> dict:
    metadata = _fetched(provider, provider.metadata_url)
    wanted = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(metadata.get(k), str) for k in wanted):
        raise down(provider, "the discovery document lacks an endpoint")
    return metadata


def _keys(provider: Provider, metadata: dict, again: bool = False) -> KeySet:
    try:
        return KeySet.import_key_set(_fetched(provider, metadata["jwks_uri"], again))
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise down(provider, "the key set is not one") from exc


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
    with _transaction():
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
        with _transaction():
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


def _transaction():
    # SQLite: take the write lock first, so two of these at once wait for each other
    # rather than fail on upgrading a read lock.
    return db.atomic("IMMEDIATE") if is_sqlite() else db.atomic()


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

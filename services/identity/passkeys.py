"""Passkeys (WebAuthn, issue 17): adding one to an account and signing in with one.

Each ceremony has two halves: options for the browser (with a fresh challenge), then
the browser's answer, checked by the ``webauthn`` package. A challenge is kept on the
server as its SHA-256 (models.PasskeyChallenge), bound to what it is for (``register``
to one account, or ``sign_in``), good for CHALLENGE_FOR and used up by the first
answer that names it, right or wrong. The user must be verified (a PIN, a fingerprint)
every time, and a signature counter that goes backwards refuses the sign-in.

The relying party is the host of BASE_URL. An IP address cannot be one: with such a
BASE_URL there are no passkeys (``relying_party`` is None).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from peewee import IntegrityError
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
    WebAuthnException,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from models import Passkey, PasskeyChallenge, User, db
from services.errors import Invalid, InvalidCredentials, NotFound
from services.validation import CONTROL_IN_NAME, has_control_character, one_line

log = logging.getLogger("kairos.passkeys")

CHALLENGE_FOR = timedelta(minutes=5)
ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
NAME_LENGTH = 80  # models.Passkey.name


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host name passkeys are bound to
    name: str  # what the browser's sheet calls the site
    origin: str  # where the ceremonies happen: scheme, host and port of BASE_URL


def relying_party(base_url: str, name: str = "Kairos") -> RelyingParty | None:
    """The relying party BASE_URL makes, or None when it cannot make one: an IP address
    for a host, or plain HTTP anywhere but localhost (browsers refuse both)."""
    parts = urlsplit(base_url)
    host = parts.hostname
    if not host or parts.scheme not in ("http", "https"):
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    if parts.scheme == "http" and host != "localhost" and not host.endswith(".localhost"):
        return None
    port = f":{parts.port}" if parts.port else ""
    return RelyingParty(host, name, f"{parts.scheme}://{host}{port}")


class ChallengeExpired(Invalid):
    def __init__(self) -> None:
        super().__init__({"credential": "That took too long. Please try again."})


class PasskeyRefused(InvalidCredentials):
    def __init__(self) -> None:
        super().__init__("That passkey could not be checked. Try again, or sign in another way.")


class UnknownPasskey(NotFound):
    def __init__(self) -> None:
        super().__init__("This passkey isn't registered here any more — sign in another way.")


class PasskeyTaken(Invalid):
    def __init__(self) -> None:
        super().__init__({"credential": "This passkey is already added."})


def _invalid_answer() -> Invalid:
    return Invalid({"credential": "Send the passkey's answer as the browser gave it."})


# Challenges ---------------------------------------------------------------------------


def _digest(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _issue(purpose: str, user_id: int | None, now: datetime) -> bytes:
    """A new challenge for ``purpose``; expired ones are cleared on the way."""
    challenge = secrets.token_bytes(32)
    with db.atomic():
        PasskeyChallenge.delete().where(PasskeyChallenge.expires_at <= now).execute()
        PasskeyChallenge.create(
            digest=_digest(challenge),
            purpose=purpose,
            user=user_id,
            expires_at=now + CHALLENGE_FOR,
        )
    return challenge


def _use_up(client_data_json: bytes, purpose: str, user_id: int | None, now: datetime) -> bytes:
    """The challenge the browser answered, once: it must have been issued for
    ``purpose`` (and to ``user_id``) and not yet expired or answered. The row goes
    whatever happens next, so a second answer to it is refused."""
    try:
        challenge = parse_client_data_json(client_data_json).challenge
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise _invalid_answer() from None
    query = PasskeyChallenge.delete().where(
        (PasskeyChallenge.digest == _digest(challenge))
        & (PasskeyChallenge.purpose == purpose)
        & (PasskeyChallenge.expires_at > now)
        & (
            PasskeyChallenge.user.is_null()
            if user_id is None
            else (PasskeyChallenge.user == user_id)
        )
    )
    if query.execute() != 1:
        raise ChallengeExpired()
    return challenge


def user_handle(user_id: int, secret: str) -> bytes:
    """The account's WebAuthn user handle: the same for all its passkeys (so one
    authenticator keeps one passkey per account) and saying nothing about the account."""
    return hmac.new(secret.encode(), f"passkey-user:{user_id}".encode(), hashlib.sha256).digest()


# Adding a passkey -----------------------------------------------------------------------


def registration_options(user: User, rp: RelyingParty, secret: str, now: datetime) -> str:
    """The options for navigator.credentials.create(), as JSON: a discoverable
    credential, the user verified, none of the account's passkeys again."""
    existing = [
        PublicKeyCredentialDescriptor(id=bytes(p.credential_id), transports=_transports(p))
        for p in user.passkeys
    ]
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle(user.id, secret),
        user_name=user.email or user.name or f"Account {user.id}",
        user_display_name=user.name or user.email or "",
        challenge=_issue("register", user.id, now),
        timeout=int(CHALLENGE_FOR.total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=existing,
        supported_pub_key_algs=ALGORITHMS,
    )
    return options_to_json(options)


def _transports(passkey: Passkey) -> list[AuthenticatorTransport] | None:
    known = {t.value for t in AuthenticatorTransport}
    kept = [AuthenticatorTransport(t) for t in passkey.transports.split(",") if t in known]
    return kept or None


def clean_passkey_name(name: object, fallback: str) -> str:
    if name is not None and not isinstance(name, str):
        raise Invalid({"name": "Give the passkey a name."})
    name = one_line(name) or one_line(fallback) or "Passkey"
    if has_control_character(name):
        raise Invalid({"name": CONTROL_IN_NAME})
    if len(name) > NAME_LENGTH:
        raise Invalid({"name": f"Use at most {NAME_LENGTH} characters."})
    return name


def register(
    user_id: int, credential: object, name: str, rp: RelyingParty, now: datetime
) -> Passkey:
    """Check the browser's answer to ``registration_options`` and keep the passkey,
    named ``name`` (already cleaned)."""
    if not isinstance(credential, dict):
        raise _invalid_answer()
    try:
        parsed = parse_registration_credential_json(credential)
    except (InvalidJSONStructure, WebAuthnException, ValueError, TypeError):
        raise _invalid_answer() from None
    challenge = _use_up(parsed.response.client_data_json, "register", user_id, now)
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
            supported_pub_key_algs=ALGORITHMS,
        )
    except (InvalidRegistrationResponse, WebAuthnException, ValueError) as exc:
        log.info("passkey.register_refused user=%s reason=%s", user_id, exc)
        raise PasskeyRefused() from None
    transports = ",".join(t.value for t in parsed.response.transports or [])
    try:
        with db.atomic():
            passkey = Passkey.create(
                user=user_id,
                credential_id=verified.credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=transports[:200],
                name=name,
                created_at=now,
            )
    except IntegrityError:
        raise PasskeyTaken() from None
    log.info("passkey.registered user=%s passkey=%s", user_id, passkey.id)
    return passkey


# Signing in -----------------------------------------------------------------------------


def sign_in_options(rp: RelyingParty, now: datetime) -> str:
    """The options for navigator.credentials.get(), as JSON: any passkey of this site
    (empty allowCredentials: the browser offers the ones it has), the user verified."""
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=_issue("sign_in", None, now),
        timeout=int(CHALLENGE_FOR.total_seconds() * 1000),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


def sign_in(credential: object, rp: RelyingParty, secret: str, now: datetime) -> User:
    """The account whose passkey answered ``sign_in_options``; its sign count and
    last use are updated. UnknownPasskey for a passkey not (or no longer) registered,
    PasskeyRefused for an answer that does not check out."""
    if not isinstance(credential, dict):
        raise _invalid_answer()
    try:
        parsed = parse_authentication_credential_json(credential)
        new_count = parse_authenticator_data(parsed.response.authenticator_data).sign_count
    except (InvalidJSONStructure, WebAuthnException, ValueError, TypeError):
        raise _invalid_answer() from None
    challenge = _use_up(parsed.response.client_data_json, "sign_in", None, now)
    passkey = Passkey.get_or_none(Passkey.credential_id == parsed.raw_id)
    if passkey is None:
        log.info("passkey.unknown")
        raise UnknownPasskey()
    handle = parsed.response.user_handle
    if handle and not hmac.compare_digest(handle, user_handle(passkey.user_id, secret)):
        log.warning("passkey.wrong_user_handle passkey=%s", passkey.id)
        raise PasskeyRefused()
    try:
        verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=0,  # the counter is checked below, our way
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, WebAuthnException, ValueError) as exc:
        log.info("passkey.refused user=%s passkey=%s reason=%s", passkey.user_id, passkey.id, exc)
        raise PasskeyRefused() from None
    _count_use(passkey, new_count, now)
    log.info("passkey.signed_in user=%s passkey=%s", passkey.user_id, passkey.id)
    return User.get_by_id(passkey.user_id)


def _count_use(passkey: Passkey, new_count: int, now: datetime) -> None:
    """Keep the signature counter and the time of this use. When the authenticator
    counts (its count and ours both non-zero), a count that did not go up may come from
    a copy of it: refused, and logged. An authenticator that counts nothing sends 0."""
    if passkey.sign_count and new_count and new_count <= passkey.sign_count:
        log.warning(
            "passkey.counter_went_back user=%s passkey=%s stored=%s sent=%s",
            passkey.user_id,
            passkey.id,
            passkey.sign_count,
            new_count,
        )
        raise PasskeyRefused()
    fresh = Passkey.id == passkey.id
    if new_count:  # two sign-ins with one count at once: only the first counts
        fresh &= Passkey.sign_count < new_count
    updated = (
        Passkey.update(sign_count=max(new_count, passkey.sign_count), last_used_at=now)
        .where(fresh)
        .execute()
    )
    if not updated:
        log.warning("passkey.counter_raced passkey=%s", passkey.id)
        raise PasskeyRefused()

"""Sign-ins: each browser signed in to an account, kept on the server.

Signing in starts a sign-in (``start``) with a random key; the browser's session cookie,
and its remember cookie when the person chose "Keep me signed in", carry that key and
nothing else, and only the key's SHA-256 is stored. Every signed-in request finds its
user by the key (``signed_in_user``, one indexed query), so a sign-in that ended or
expired signs nobody in, whichever cookie is replayed.

A sign-in ends when its browser signs out (``end``), when the person signs out another
device or all others (Account → Security: ``end_device``, ``end_others``), and, with
every API token, when the password changes or is reset (``end_everything``; a change
keeps the device that made it signed in, under a new key). Leaving deletes them
(``forget``). One the person did not ask to keep lasts ``IDLE_FOR`` after its last
request, one kept ``REMEMBER_FOR`` after it started. Ended and expired ones are purged
by the hourly clean-up (``purge``).

A sign-in belongs to its user: every function that takes a sign-in's id takes the
user's id too, and touches nothing of anyone else's.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from models import Prepared, SignIn, User
from services.accounts import auth
from services.formats import device_label

log = logging.getLogger("kairos.sessions")

REMEMBER_FOR = timedelta(days=30)  # "Keep me signed in": as long as the remember cookie
IDLE_FOR = timedelta(hours=12)  # otherwise: ends after this long without a request
SEEN_EVERY = timedelta(minutes=5)  # last_seen_at is written at most this often
KEEP_ENDED_FOR = timedelta(days=7)  # then ended and expired sign-ins are purged
_KEY_LENGTH = 43  # secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SignInKey:
    """A sign-in just started: the key for its cookies, and whether to keep it."""

    key: str
    remember: bool


@dataclass(frozen=True)
class Device:
    """A signed-in browser, as Account → Security shows it."""

    id: int
    label: str
    network: str | None
    remember: bool
    signed_in_at: datetime
    last_seen_at: datetime
    this_device: bool
    method: str | None = None  # how it signed in (models.SignIn.method)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def coarse_network(address: str | None) -> str | None:
    """Roughly where a request came from: its IPv4 /24 or IPv6 /48 network, which is
    enough to recognise ("home", "the office") and no more."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _expiry(remember: bool, created_at: datetime, seen_at: datetime) -> datetime:
    if remember:
        return created_at + REMEMBER_FOR
    return min(seen_at + IDLE_FOR, created_at + REMEMBER_FOR)


def start(
    user_id: int,
    *,
    remember: bool,
    user_agent: str,
    address: str | None,
    now: datetime,
    method: str | None = None,
) -> SignInKey:
    """A new sign-in for the browser that sent ``user_agent`` from ``address``, made by
    ``method`` (models.SignIn.method)."""
    key = secrets.token_urlsafe(32)
    row = SignIn.create(
        user=user_id,
        key_hash=_digest(key),
        device=device_label(user_agent or "")[:80],
        network=coarse_network(address),
        remember=remember,
        created_at=now,
        last_seen_at=now,
        expires_at=_expiry(remember, now, now),
        method=method,
    )
    log.info(
        "sign_in.started user_id=%s sign_in_id=%s remember=%s method=%s",
        user_id,
        row.id,
        remember,
        method,
    )
    return SignInKey(key, remember)


# Every signed-in request runs this: prepared once. The user's columns come after the
# sign-in's, and the user is built from them (Prepared builds one model per row).
_USER_FIELDS = User._meta.sorted_fields
_SIGN_IN_FIELDS = (SignIn.id, SignIn.remember, SignIn.created_at, SignIn.last_seen_at)
_signed_in = Prepared(
    lambda digest, now: (
        SignIn.select(*_SIGN_IN_FIELDS, *_USER_FIELDS)
        .join(User)
        .where((SignIn.key_hash == digest) & SignIn.ended_at.is_null() & (SignIn.expires_at > now))
    ),
    rows=True,
    digest="\x00digest",
    now=datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC),
)


def signed_in_user(key: object, now: datetime, address: str | None = None) -> User | None:
    """The user whose sign-in has this key, if it has neither ended nor expired; its
    ``sign_in_key`` is set. Every few minutes, when the sign-in was last seen (and from
    where) is written, which also moves on the end of one that was not kept."""
    if not isinstance(key, str) or len(key) != _KEY_LENGTH:
        return None  # not a key: a user id from before sign-ins were kept, or junk
    rows = _signed_in(digest=_digest(key), now=now)
    if not rows:
        return None
    sign_in_id, remember, created_at, seen_at, *values = rows[0]
    user = User(**{f.name: f.python_value(v) for f, v in zip(_USER_FIELDS, values, strict=True)})
    user.sign_in_key = key
    seen_at = SignIn.last_seen_at.python_value(seen_at)
    if now - seen_at >= SEEN_EVERY:
        remember = SignIn.remember.python_value(remember)
        created_at = SignIn.created_at.python_value(created_at)
        SignIn.update(
            last_seen_at=now,
            network=coarse_network(address),
            expires_at=_expiry(remember, created_at, now),
        ).where((SignIn.id == sign_in_id) & SignIn.ended_at.is_null()).execute()
    return user


def end(user_id: int, key: str, now: datetime) -> bool:
    """This browser (its sign-in has ``key``) signs out: the sign-in ends for good."""
    ended = (
        SignIn.update(ended_at=now)
        .where((SignIn.key_hash == _digest(key)) & (SignIn.user == user_id))
        .where(SignIn.ended_at.is_null())
        .execute()
    )
    if ended:
        log.info("sign_in.ended user_id=%s by=sign_out", user_id)
    return bool(ended)


def end_device(user_id: int, sign_in_id: int, now: datetime) -> bool:
    """The user signs out one of their devices. Another person's sign-in, or one that
    has already ended, is left as it is (False)."""
    ended = (
        SignIn.update(ended_at=now).where((SignIn.id == sign_in_id) & _live(user_id, now)).execute()
    )
    if ended:
        log.info("sign_in.ended user_id=%s sign_in_id=%s by=user", user_id, sign_in_id)
    return bool(ended)


def end_others(user_id: int, key: str, now: datetime) -> int:
    """The user signs out every device but this one (whose key is ``key``)."""
    ended = (
        SignIn.update(ended_at=now)
        .where(_live(user_id, now) & (SignIn.key_hash != _digest(key)))
        .execute()
    )
    log.info("sign_in.ended_others user_id=%s count=%s", user_id, ended)
    return ended


def end_everything(
    user_id: int, now: datetime, reason: str, *, keep: str | None = None
) -> SignInKey | None:
    """End every sign-in of the user and revoke every API token (a new password, a reset).
    With ``keep``, the key of the device that asked, that device goes on signed in under
    a new key, returned: whatever copies of its cookies exist end with the rest."""
    kept = None
    if keep is not None:
        row = SignIn.get_or_none((SignIn.key_hash == _digest(keep)) & _live(user_id, now))
        if row is not None:
            kept = _renew(row, now)
    query = SignIn.update(ended_at=now).where(_live(user_id, now))
    if kept is not None:
        query = query.where(SignIn.key_hash != _digest(kept.key))
    ended = query.execute()
    revoked = auth.revoke_tokens(user_id, now)
    log.info(
        "sign_in.ended_all user_id=%s reason=%s sign_ins=%s api_tokens=%s kept=%s",
        user_id,
        reason,
        ended,
        revoked,
        kept is not None,
    )
    return kept


def _renew(row: SignIn, now: datetime) -> SignInKey:
    key = secrets.token_urlsafe(32)
    SignIn.create(
        user=row.user_id,
        key_hash=_digest(key),
        device=row.device,
        network=row.network,
        remember=row.remember,
        created_at=now,
        last_seen_at=now,
        expires_at=_expiry(row.remember, now, now),
    )
    return SignInKey(key, row.remember)


def forget(user_id: int) -> None:
    """The account is deleted: its sign-ins (and what they say of its devices) go."""
    SignIn.delete().where(SignIn.user == user_id).execute()


def devices(user_id: int, key: str, now: datetime) -> list[Device]:
    """The user's signed-in browsers: this one (with ``key``) first, then the most
    recently active."""
    rows = SignIn.select().where(_live(user_id, now)).order_by(SignIn.last_seen_at.desc())
    this = _digest(key)
    found = [
        Device(
            id=row.id,
            label=row.device,
            network=row.network,
            remember=row.remember,
            signed_in_at=row.created_at,
            last_seen_at=now if row.key_hash == this else row.last_seen_at,
            this_device=row.key_hash == this,
            method=row.method,
        )
        for row in rows
    ]
    return sorted(found, key=lambda device: not device.this_device)  # stable: keeps the rest


def _live(user_id: int, now: datetime):
    return (SignIn.user == user_id) & SignIn.ended_at.is_null() & (SignIn.expires_at > now)


def purge(now: datetime) -> int:
    """Forget sign-ins that ended or expired more than KEEP_ENDED_FOR ago."""
    cutoff = now - KEEP_ENDED_FOR
    return (
        SignIn.delete().where((SignIn.ended_at < cutoff) | (SignIn.expires_at < cutoff)).execute()
    )

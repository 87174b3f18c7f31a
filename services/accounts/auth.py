"""Passwords (argon2id) and API tokens (random, stored hashed, expiring, revocable)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models import ApiToken, Prepared, User
from services.errors import InvalidCredentials

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
_DUMMY_HASH = _hasher.hash("an unguessable placeholder, so unknown emails take as long")

TOKEN_LIFETIME = timedelta(days=30)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(email: str, password: str) -> User:
    """The user with this email and password. The error never says which one was wrong."""
    user = User.by_email(email or "")
    try:
        _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials("Email or password is not right.") from None
    if user is None or not user.password_hash:
        raise InvalidCredentials("Email or password is not right.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        user.save(only=[User.password_hash])
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, now: datetime) -> tuple[str, datetime]:
    """A new bearer token for ``user``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    expires_at = now + TOKEN_LIFETIME
    ApiToken.create(user=user, token_hash=_digest(token), created_at=now, expires_at=expires_at)
    return token, expires_at


_token_user = Prepared(
    lambda digest, now: (
        User.select()
        .join(ApiToken)
        .where(
            (ApiToken.token_hash == digest)
            & (ApiToken.expires_at > now)
            & ApiToken.revoked_at.is_null()
        )
    ),
    digest="\x00digest",
    now=datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC),
)


def user_for_token(token: str, now: datetime) -> User | None:
    found = _token_user(digest=_digest(token), now=now)
    return found[0] if found else None


def revoke_token(token: str, now: datetime) -> bool:
    revoked = (
        ApiToken.update(revoked_at=now)
        .where((ApiToken.token_hash == _digest(token)) & ApiToken.revoked_at.is_null())
        .execute()
    )
    return bool(revoked)


def app_tokens(user_id: int, now: datetime) -> list[ApiToken]:
    """The user's tokens that still work, newest first (Account → Security)."""
    return list(
        ApiToken.select(ApiToken.id, ApiToken.created_at, ApiToken.expires_at)
        .where(_live_tokens(user_id, now))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )


def revoke_tokens(user_id: int, now: datetime, token_id: int | None = None) -> int:
    """Revoke every token of the user that still works, or only ``token_id`` among them
    (a token of someone else's is not among them: nothing happens). How many were."""
    where = _live_tokens(user_id, now)
    if token_id is not None:
        where &= ApiToken.id == token_id
    return ApiToken.update(revoked_at=now).where(where).execute()


def _live_tokens(user_id: int, now: datetime):
    return (ApiToken.user == user_id) & (ApiToken.expires_at > now) & ApiToken.revoked_at.is_null()


def purge_tokens(now: datetime) -> int:
    """Forget tokens that expired or were revoked more than a week ago."""
    cutoff = now - timedelta(days=7)
    return (
        ApiToken.delete()
        .where((ApiToken.expires_at < cutoff) | (ApiToken.revoked_at < cutoff))
        .execute()
    )

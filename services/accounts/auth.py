"""Passwords (argon2id) and API tokens (random, stored hashed, expiring, revocable)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as HashTimeout
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models import ApiToken, Prepared, User
from services.errors import InvalidCredentials
from services.ratelimits import Busy

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
_DUMMY_HASH = _hasher.hash("an unguessable placeholder, so unknown emails take as long")

TOKEN_LIFETIME = timedelta(days=30)

# Hashing a password is slow on purpose (argon2id: 64 MiB, 4 lanes, about 0.1 s of both
# cores here). On requests' own threads, 16 sign-ins at once left nothing for pages. So
# each process hashes on HASH_SLOTS threads of its own (fewer than the cores), whose
# niceness is raised (the lane threads argon2 starts inherit it): pages come first for
# the CPU, and sign-ins use what is left. At most HASH_WAITING more requests per process
# wait for a slot, each at most HASH_WAIT_SECONDS; past that the answer is Busy (503 with
# Retry-After), so waiting sign-ins never hold every thread of a worker.
HASH_SLOTS = max(1, (os.cpu_count() or 2) - 1)
HASH_WAITING = 3
HASH_WAIT_SECONDS = 5.0
HASH_NICENESS = 10
BUSY = "Many people are signing in right now. Try again in a few seconds."

T = TypeVar("T")
_admitted = threading.BoundedSemaphore(HASH_SLOTS + HASH_WAITING)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    # On Linux, for this thread only (and the threads it starts). Where it is not
    # available or not allowed, hashing runs at the usual priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


def _hashing_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                HASH_SLOTS, thread_name_prefix="argon2", initializer=_lower_priority
            )
        return _pool


def _forget_pool() -> None:  # a forked child has none of its parent's threads
    global _pool, _pool_lock, _admitted
    _pool, _pool_lock = None, threading.Lock()
    _admitted = threading.BoundedSemaphore(HASH_SLOTS + HASH_WAITING)


os.register_at_fork(after_in_child=_forget_pool)


def _bounded(work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` on the hashing threads, or Busy if too many are waiting already."""
    if not _admitted.acquire(blocking=False):
        raise Busy(BUSY, retry_after=2)
    try:
        future = _hashing_pool().submit(work, *args)
        try:
            return future.result(timeout=HASH_WAIT_SECONDS)
        except HashTimeout:
            future.cancel()  # if it has not started; a started one finishes unread
            raise Busy(BUSY, retry_after=2) from None
    finally:
        _admitted.release()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    return _bounded(_hasher.hash, password)


def authenticate(email: str, password: str) -> User:
    """The user with this email and password. The error never says which one was wrong.
    An unknown email is checked against a stand-in hash, so it takes as long."""
    user = User.by_email(email or "")
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    if not _bounded(_verify, stored, password):
        raise InvalidCredentials("Email or password is not right.")
    if user is None or not user.password_hash:
        raise InvalidCredentials("Email or password is not right.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        user.save(only=[User.password_hash])
    return user


def token_digest(token: str) -> str:
    """How a token handed to someone is stored: its SHA-256 (API tokens, calendar feeds)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, now: datetime) -> tuple[str, datetime]:
    """A new bearer token for ``user``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    expires_at = now + TOKEN_LIFETIME
    ApiToken.create(
        user=user, token_hash=token_digest(token), created_at=now, expires_at=expires_at
    )
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
    found = _token_user(digest=token_digest(token), now=now)
    return found[0] if found else None


def revoke_token(token: str, now: datetime) -> bool:
    revoked = (
        ApiToken.update(revoked_at=now)
        .where((ApiToken.token_hash == token_digest(token)) & ApiToken.revoked_at.is_null())
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

"""Rate limits: how often one address, account, business or network may do something that
checks a secret or sends mail, counted where every worker and instance sees the count.

Every number is in LIMITS below (the README lists them). A limit is "``count`` per
``period``", kept with the generic cell rate algorithm (GCRA): a burst of ``count`` goes
through, then one more every ``period / count``, so a refusal knows exactly how long to
wait and nobody waits out a whole window for one more try. Counters live in Redis when
REDIS_URL is set, else in the database (``stores``); keys are stored hashed, so neither
holds an email address. ``now`` is a parameter, as everywhere in services/.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.errors import DomainError
from services.ratelimits.stores import DatabaseStore, RedisStore, Store, purge

__all__ = ["LIMITS", "Busy", "Limit", "Limiter", "RateLimited", "TryLater", "limiter_for", "purge"]

log = logging.getLogger("kairos.ratelimits")

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


@dataclass(frozen=True)
class Limit:
    count: int
    period: timedelta
    counts: str  # what one try is, for the README and the logs
    refusal: str  # what the person is told, before "Try again in ..."


TOO_MANY_TRIES = "Too many tries."
TOO_MANY_EMAILS = "Too many emails asked for."

# The one table of limits. Generous enough that a person never meets one; tight enough
# that guessing passwords or sending mail through us stops quickly. The same name in two
# places is the same counter (a web sign-in and an API token request share theirs).
LIMITS: dict[str, Limit] = {
    "sign_in_per_email": Limit(
        10, 15 * MINUTE, "a failed sign-in or token request for one email", TOO_MANY_TRIES
    ),
    "sign_in_per_ip": Limit(
        30, 15 * MINUTE, "a failed sign-in or token request from one address", TOO_MANY_TRIES
    ),
    "mail_per_address": Limit(
        5,
        HOUR,
        "an email asked for to one address: password reset, sign-in link, signing up or a "
        "business signing up with it, an email change to it, a staff invitation to it",
        TOO_MANY_EMAILS,
    ),
    "mail_per_ip": Limit(
        20, HOUR, "a password reset or sign-in link asked for from one address", TOO_MANY_EMAILS
    ),
    "sign_up_per_ip": Limit(
        10,
        HOUR,
        "a new account (a sign-up, or booking as a newcomer) from one address",
        "Too many new accounts from this network.",
    ),
    "email_change_per_account": Limit(
        5, HOUR, "an email change asked for by one account", TOO_MANY_TRIES
    ),
    "invitations_per_business": Limit(
        20, HOUR, "a staff invitation sent or sent again by one business", "Too many invitations."
    ),
    "bookings_per_customer": Limit(
        20, HOUR, "a booking one customer makes, on the web or the API", "Too many bookings."
    ),
    "bookings_per_ip": Limit(
        60, HOUR, "a booking made by a customer from one address", "Too many bookings."
    ),
    "payment_tries_per_customer": Limit(
        20,
        HOUR,
        "a card payment tried or checked by one customer, on the web or the API (card testing)",
        "Too many payment attempts.",
    ),
    "calendar_syncs_per_account": Limit(
        30,
        HOUR,
        "a calendar added or synced now by one provider (each reaches an outside server)",
        "Too many calendar syncs.",
    ),
    "desk_bookings_per_staff": Limit(
        120, HOUR, "a booking one staff member makes for a customer", "Too many bookings."
    ),
    "metrics_token_per_ip": Limit(
        20, 15 * MINUTE, "a /metrics request with a wrong token from one address", TOO_MANY_TRIES
    ),
    # Signing in with a texted code (services/identity/phone.py): each text costs money
    # and lands on someone's phone; each code checked is a guess at a secret.
    "texts_per_number": Limit(
        5, HOUR, "a sign-in code texted to one phone number", "Too many codes asked for."
    ),
    "texts_per_ip": Limit(
        20, HOUR, "a sign-in code texted from one client address", "Too many codes asked for."
    ),
    "phone_codes_per_number": Limit(
        10, 15 * MINUTE, "a wrong texted code given for one phone number", TOO_MANY_TRIES
    ),
    "phone_codes_per_ip": Limit(
        30, 15 * MINUTE, "a wrong texted code given from one client address", TOO_MANY_TRIES
    ),
    "social_sign_in_per_ip": Limit(
        60,
        15 * MINUTE,
        "a start of, or a return from, signing in with Google, Apple or Facebook from one address",
        TOO_MANY_TRIES,
    ),
    "passkeys_per_ip": Limit(
        120,
        15 * MINUTE,
        "a passkey asked for or answered from one address (signing in or adding one)",
        TOO_MANY_TRIES,
    ),
}


class TryLater(DomainError):
    """Not now: ``retry_after`` seconds from now it will go (HTTP Retry-After)."""

    code = "try_later"
    status = 503

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TryLater):
    code = "rate_limited"
    status = 429


class Busy(TryLater):
    """Too much of something costly is going on at once (password hashing)."""

    code = "busy"
    status = 503


def wait_phrase(seconds: int) -> str:
    """23 -> "in 23 seconds", 200 -> "in 4 minutes", 5000 -> "in 2 hours"."""
    if seconds < 60:
        return f"in {seconds} second{'s' if seconds != 1 else ''}"
    if seconds < 90 * 60:
        minutes = math.ceil(seconds / 60)
        return f"in {minutes} minute{'s' if minutes != 1 else ''}"
    return f"in {math.ceil(seconds / 3600)} hours"


@dataclass(frozen=True)
class Taken:
    """One try counted against one limit: what ``give_back`` needs to undo it."""

    bucket: str
    interval: float


def bucket(name: str, key: str) -> str:
    """Where the count of limit ``name`` for ``key`` is kept: the key only as a hash."""
    return f"{name}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


class Limiter:
    """The limits in LIMITS against one store, every count multiplied by ``scale``."""

    def __init__(self, store: Store | None, scale: float = 1.0) -> None:
        self.store = store if scale > 0 else None
        self.scale = scale

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def _rate(self, name: str) -> tuple[float, float]:
        """(seconds between two tries in the long run, the period) for limit ``name``."""
        limit = LIMITS[name]
        count = max(1, round(limit.count * self.scale))
        period = limit.period.total_seconds()
        return period / count, period

    def take(self, wanted: Iterable[tuple[str, str]], now: datetime) -> list[Taken]:
        """Count one try against each (limit name, key), all different: all of them, or,
        if any limit is used up, none (RateLimited, saying when to try again)."""
        if self.store is None:
            return []
        items = []
        for name, key in wanted:
            interval, period = self._rate(name)
            items.append((name, bucket(name, key), interval, period))
        if not items:
            return []
        waits = self.store.take([(b, i, p) for _, b, i, p in items], now.timestamp())
        refused = [
            (wait, name) for (name, *_), wait in zip(items, waits, strict=True) if wait is not None
        ]
        if refused:  # and the store counted none of them
            wait, name = max(refused)
            seconds = max(1, math.ceil(wait))
            log.info("ratelimit.refused limit=%s retry_after=%s", name, seconds)
            message = f"{LIMITS[name].refusal} Try again {wait_phrase(seconds)}."
            raise RateLimited(message, seconds)
        return [Taken(b, i) for _, b, i, _ in items]

    def give_back(self, taken: Iterable[Taken]) -> None:
        """Undo tries that turned out not to count (a right password, a form to correct)."""
        if self.store is None:
            return
        for one in taken:
            self.store.give_back(one.bucket, one.interval)


def limiter_for(redis_url: str, scale: float, prefix: str) -> Limiter:
    """Redis when there is one (every instance shares it), else the database (every
    worker and instance on it shares that)."""
    if scale <= 0:
        return Limiter(None, 0)
    store = RedisStore(redis_url, prefix) if redis_url else DatabaseStore()
    return Limiter(store, scale)

"""The process's connection to Redis, shared by the slot cache and the rate limits, and the
circuit breaker that keeps a Redis outage from slowing every request down.

One connection pool per URL per process, with short timeouts and no retries: whatever
asks Redis has a fallback (compute the slots, let the try through), so waiting is worse
than going without. After a failure the breaker opens: for ``RETRY_AFTER`` seconds every
call takes its fallback at once, without touching the network; then one call tries
Redis again, and its success closes the breaker. An outage is logged once when it starts
and once when it ends, not once per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("kairos.redis")

T = TypeVar("T")

TIMEOUT = 0.5  # seconds, to connect and for each answer
RETRY_AFTER = 5.0  # seconds the breaker stays open after a failure


class SharedRedis:
    """A Redis client behind a circuit breaker. ``run(what, action, fallback)`` is
    ``action()``'s value, or ``fallback`` when Redis failed or failed recently."""

    def __init__(
        self,
        url: str,
        *,
        retry_after: float = RETRY_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        self.retry_after = retry_after
        self.clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None  # None: closed, calls go through

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def run(self, what: str, action: Callable[[], T], fallback: T) -> T:
        if not self._may_try():
            return fallback
        try:
            result = action()
        except redis.RedisError as exc:
            self._failed(what, exc)
            return fallback
        if self._open_until is not None:
            self._recovered()
        return result

    def _may_try(self) -> bool:
        """Closed: yes. Open: no, until the wait is over; then one caller (the one that
        pushes the wait on) tries, while the others keep taking their fallback."""
        if self._open_until is None:
            return True
        with self._lock:
            now = self.clock()
            if self._open_until is None:
                return True
            if now < self._open_until:
                return False
            self._open_until = now + self.retry_after
            return True

    def _failed(self, what: str, exc: Exception) -> None:
        with self._lock:
            was_closed = self._open_until is None
            self._open_until = self.clock() + self.retry_after
        if was_closed:
            log.error(
                "redis.unavailable url=%s during=%s error=%s; going without it, trying "
                "again every %g s",
                _safe(self.url),
                what,
                exc,
                self.retry_after,
            )

    def _recovered(self) -> None:
        with self._lock:
            was_open, self._open_until = self._open_until is not None, None
        if was_open:
            log.warning("redis.available url=%s", _safe(self.url))


def _safe(url: str) -> str:
    """The URL without a password, for the logs."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}"


@cache
def shared(url: str) -> SharedRedis:
    """The process's one client (and breaker) for ``url``."""
    return SharedRedis(url)

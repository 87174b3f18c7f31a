"""Where rate-limit counters live: Redis, or the app's database. Both keep, per bucket, the
GCRA's "theoretical arrival time" (tat): a try at ``now`` moves it to
``max(tat, now) + interval`` and is allowed if that is at most ``period`` ahead of
``now``. Each take is one atomic step (a Lua script; one conditional upsert), so workers
and instances racing on one bucket never let more through than the limit.

Times are seconds since the epoch from the caller's ``now``, never the store's clock.
"""

from __future__ import annotations

import logging
from typing import Protocol

from peewee import Case

from models import RateLimit

log = logging.getLogger("kairos.ratelimits")


class Store(Protocol):
    def take(self, bucket: str, now: float, interval: float, period: float) -> float | None:
        """Count one try: None if allowed, else the seconds until one would be."""

    def give_back(self, bucket: str, interval: float) -> None:
        """Undo one try counted by ``take``."""


class DatabaseStore:
    """The rate_limit table: every worker and instance on the database shares it."""

    def take(self, bucket: str, now: float, interval: float, period: float) -> float | None:
        start = Case(None, [(RateLimit.tat > now, RateLimit.tat)], now)
        allowed = (
            RateLimit.insert(bucket=bucket, tat=now + interval)
            .on_conflict(
                conflict_target=[RateLimit.bucket],
                update={RateLimit.tat: start + interval},
                where=(start + interval - now <= period),
            )
            .returning(RateLimit.tat)
            .execute()
        )
        if list(allowed):
            return None
        row = RateLimit.get_or_none(RateLimit.bucket == bucket)
        return max(0.0, row.tat + interval - period - now) if row else 0.0

    def give_back(self, bucket: str, interval: float) -> None:
        RateLimit.update(tat=RateLimit.tat - interval).where(RateLimit.bucket == bucket).execute()

    def clear(self) -> None:
        RateLimit.delete().execute()


# KEYS[1] the bucket; ARGV now, interval, period. Returns nil when allowed, else the wait.
_TAKE = """
local now, interval, period = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local later = tat + interval
if later - now > period then return tostring(later - period - now) end
redis.call('SET', KEYS[1], string.format('%.6f', later), 'PX', math.ceil((later - now) * 1000))
return false
"""
_GIVE_BACK = """
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat then
  redis.call('SET', KEYS[1], string.format('%.6f', tat - tonumber(ARGV[1])), 'KEEPTTL')
end
return 1
"""


class RedisStore:
    """Redis, under ``prefix``: every instance that uses the same Redis shares it. Each
    key expires when its count has run down. If Redis cannot be reached, tries are let
    through (and logged): limits must not take sign-in down with them."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.prefix = prefix
        self._errors = (redis.RedisError,)
        self._take = self.redis.register_script(_TAKE)
        self._give_back = self.redis.register_script(_GIVE_BACK)

    def take(self, bucket: str, now: float, interval: float, period: float) -> float | None:
        try:
            wait = self._take(keys=[self.prefix + bucket], args=[now, interval, period])
        except self._errors as exc:
            log.error("ratelimit.store_unavailable store=redis error=%s", exc)
            return None
        return None if wait is None else float(wait)

    def give_back(self, bucket: str, interval: float) -> None:
        try:
            self._give_back(keys=[self.prefix + bucket], args=[interval])
        except self._errors as exc:
            log.error("ratelimit.store_unavailable store=redis error=%s", exc)

    def clear(self) -> None:
        """Forget every counter under this store's prefix (tests)."""
        keys = list(self.redis.scan_iter(match=self.prefix + "*", count=500))
        if keys:
            self.redis.delete(*keys)


def purge(now: float) -> int:
    """Forget database counters that have run down (Redis expires its own)."""
    return RateLimit.delete().where(RateLimit.tat < now).execute()

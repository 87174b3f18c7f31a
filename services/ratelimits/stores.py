"""Where rate-limit counters live: Redis, or the app's database. Both keep, per bucket, the
GCRA's "theoretical arrival time" (tat): a try at ``now`` moves it to
``max(tat, now) + interval`` and is allowed if that is at most ``period`` ahead of
``now``. A request's takes are one step (a Lua script; one conditional upsert), so
workers and instances racing on one bucket never let more through than the limit.

Times are seconds since the epoch from the caller's ``now``, never the store's clock.
"""

from __future__ import annotations

from typing import Protocol

from peewee import EXCLUDED, Case

from models import RateLimit
from services.redis_client import shared

Take = tuple[str, float, float]  # a bucket, the interval between tries, the period


class Store(Protocol):
    def take(self, wanted: list[Take], now: float) -> list[float | None]:
        """Count one try against each bucket, all or none: for each, None if allowed,
        else the seconds until a try would be (and then none was counted)."""

    def give_back(self, bucket: str, interval: float) -> None:
        """Undo one try counted by ``take``."""


class DatabaseStore:
    """The rate_limit table: every worker and instance on the database shares it. One
    statement takes every bucket of a request (a multi-row conditional upsert); in the
    rare case that some were allowed and others not, those are given back."""

    def take(self, wanted: list[Take], now: float) -> list[float | None]:
        start = Case(None, [(RateLimit.tat > now, RateLimit.tat)], now)
        interval = EXCLUDED.tat - now  # each row's own, from what it would insert
        allowed = {
            row.bucket
            for row in RateLimit.insert_many(
                [{"bucket": b, "tat": now + step, "period": period} for b, step, period in wanted]
            )
            .on_conflict(
                conflict_target=[RateLimit.bucket],
                update={RateLimit.tat: start + interval, RateLimit.period: EXCLUDED.period},
                where=(start + interval - now <= EXCLUDED.period),
            )
            .returning(RateLimit.bucket)
            .execute()
        }
        if len(allowed) == len(wanted):
            return [None] * len(wanted)
        for bucket, step, _ in wanted:
            if bucket in allowed:
                self.give_back(bucket, step)
        refused = {b for b, _, _ in wanted} - allowed
        tats = dict(
            RateLimit.select(RateLimit.bucket, RateLimit.tat)
            .where(RateLimit.bucket.in_(refused))
            .tuples()
        )
        return [
            max(0.0, tats.get(b, now) + step - period - now) if b in refused else None
            for b, step, period in wanted
        ]

    def give_back(self, bucket: str, interval: float) -> None:
        RateLimit.update(tat=RateLimit.tat - interval).where(RateLimit.bucket == bucket).execute()

    def clear(self) -> None:
        RateLimit.delete().execute()


# KEYS: the buckets; ARGV: now, then an interval and a period per bucket. All or none:
# returns false when every bucket took its try, else each bucket's wait ("" if none).
_TAKE = """
local now = tonumber(ARGV[1])
local later, waits, refused = {}, {}, false
for i, key in ipairs(KEYS) do
  local interval, period = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  later[i] = tat + interval
  if later[i] - now > period then
    waits[i] = tostring(later[i] - period - now)
    refused = true
  else
    waits[i] = ''
  end
end
if refused then return waits end
for i, key in ipairs(KEYS) do
  local ttl = math.ceil((later[i] - now) * 1000)
  redis.call('SET', key, string.format('%.6f', later[i]), 'PX', ttl)
end
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
    """Redis, under ``prefix``: every instance that uses the same Redis shares it. One
    script takes every bucket of a request, all or none. Each key expires when its count
    has run down. If Redis cannot be reached, tries are let through: limits must not take
    sign-in down with them. The process's shared client is used (services/redis_client.py):
    short timeouts, and while its breaker is open after a failure, no wait at all."""

    def __init__(self, url: str, prefix: str) -> None:
        self.shared = shared(url)
        self.redis = self.shared.client
        self.prefix = prefix
        self._take = self.redis.register_script(_TAKE)
        self._give_back = self.redis.register_script(_GIVE_BACK)

    def take(self, wanted: list[Take], now: float) -> list[float | None]:
        keys = [self.prefix + bucket for bucket, _, _ in wanted]
        args = [now, *(x for _, step, period in wanted for x in (step, period))]
        waits = self.shared.run("ratelimit.take", lambda: self._take(keys=keys, args=args), None)
        if waits is None:  # all taken, or Redis is away
            return [None] * len(wanted)
        return [float(w) if w else None for w in waits]

    def give_back(self, bucket: str, interval: float) -> None:
        keys = [self.prefix + bucket]
        self.shared.run(
            "ratelimit.give_back", lambda: self._give_back(keys=keys, args=[interval]), None
        )

    def clear(self) -> None:
        """Forget every counter under this store's prefix (tests)."""
        keys = list(self.redis.scan_iter(match=self.prefix + "*", count=500))
        if keys:
            self.redis.delete(*keys)


def purge(now: float) -> int:
    """Forget database counters that have run down (Redis expires its own)."""
    return RateLimit.delete().where(RateLimit.tat < now).execute()

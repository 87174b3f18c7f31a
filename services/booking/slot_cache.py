"""Computed free slots, kept in the process and, when REDIS_URL is set, in Redis for every
instance to share.

A cached answer is never stale: its key holds each provider's calendar_version, which
the database changes (by trigger, in the same transaction) with every booking, time
off, hours change, date override and imported busy block; and everything else the
answer depends on (the service's rules, the zone, the days, today). A changed calendar
is a new key; old keys are simply never asked for again and expire.

Looking up: the process's LRU, then Redis (one GET), then the computation, whose answer
goes to both (one SET with a TTL). The LRU is bounded by the slots it holds, not by its
entries: an entry is a week of a busy business (hundreds of slots, ~200 bytes each) or an
empty day, and every booking makes new keys. Bounded by entries (2048), a 30-minute soak
saw each web process grow ~2 MiB a minute without levelling; bounded at 100,000 slots,
each grew ~18 MB over 25 minutes and levelled. LOCAL_SLOTS keeps it near 5 MB: Redis
answers the rest. No lock: two instances computing the same key at
once write the same answer. When Redis is down (services/redis_client.py's breaker),
slots are computed as without it.

Redis keys, under ``SLOT_CACHE_PREFIX`` (default ``kairos:slots:``):
- ``<prefix>v1:<hash of the key>``: the slots, packed (``_pack``), for SLOT_CACHE_SECONDS.
- ``<prefix>stats``: a hash of counts from every instance: ``local_hits``,
  ``redis_hits``, ``misses`` (computed). Each process adds its counts every few seconds
  (``flush_stats``), so a load test reads the cluster's hit ratio there at the end.
"""

from __future__ import annotations

import hashlib
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import TypeVar

from scheduling import Slot
from services.redis_client import SharedRedis, shared

K = TypeVar("K")

SCHEMA = "v1"  # change it when the key or the packed form changes: old entries are ignored
STATS_EVERY = 5.0  # seconds between a process's additions to the stats hash
_SLOT = struct.Struct("<qii")  # start (s since the epoch), length (s), provider id
LOCAL_SLOTS = 25_000  # slots kept by a process's LRU, all entries together (~5 MB)


class _Local:
    """A process's LRU of computed answers, holding at most ``budget`` slots in all (an
    empty answer counts as one). Thread-safe: gthread workers share it."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.entries: OrderedDict[object, tuple[Slot, ...]] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.lock = threading.Lock()

    def get(self, key: object) -> tuple[Slot, ...] | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
                self.hits += 1
            return found

    def put(self, key: object, slots: tuple[Slot, ...]) -> None:
        cost = max(1, len(slots))
        if cost > self.budget:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= max(1, len(old))
            self.entries[key] = slots
            self.size += cost
            while self.size > self.budget:
                _, gone = self.entries.popitem(last=False)
                self.size -= max(1, len(gone))

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0
            self.hits = 0


class _Shared:
    """The Redis side, once configured."""

    def __init__(self, redis: SharedRedis, prefix: str, seconds: int) -> None:
        self.redis, self.prefix, self.seconds = redis, prefix, seconds

    def key(self, key: object) -> str:
        digest = hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()
        return f"{self.prefix}{SCHEMA}:{digest}"


_shared: _Shared | None = None
_lock = threading.Lock()
_counts = {"redis_hits": 0, "misses": 0}
_flushed = {"local_hits": 0, "redis_hits": 0, "misses": 0}
_last_flush = 0.0


def configure(redis_url: str, prefix: str = "kairos:slots:", seconds: int = 3600) -> None:
    """Share slots through Redis at ``redis_url``; an empty URL: this process only."""
    global _shared
    _shared = _Shared(shared(redis_url), prefix, seconds) if redis_url else None
    current = stats()  # what was counted before goes to no Redis
    _flushed.update({name: current[name] for name in _flushed})


def cached(compute: Callable[[K], tuple[Slot, ...]]) -> Callable[[K], tuple[Slot, ...]]:
    """``compute`` behind the process's LRU and, when configured, Redis. Its argument must
    be hashable and its repr must name everything the answer depends on. The function
    returned has ``cache_clear()``, which empties this process's LRU."""

    @wraps(compute)
    def lookup(key: K) -> tuple[Slot, ...]:
        found = _local.get(key)
        if found is not None:
            return found
        where = _shared
        found = None if where is None else _get(where, key)
        if found is not None:
            _count("redis_hits")
        else:
            _count("misses")
            found = compute(key)
            if where is not None:
                _set(where, key, found)
        _local.put(key, found)
        return found

    lookup.cache_clear = _local.clear
    return lookup


_local = _Local(LOCAL_SLOTS)  # the one cached function's (services/booking/slots.py's)


def _get(where: _Shared, key: object) -> tuple[Slot, ...] | None:
    packed = where.redis.run("slots.get", lambda: where.redis.client.get(where.key(key)), None)
    return None if packed is None else _unpack(packed)


def _set(where: _Shared, key: object, slots: tuple[Slot, ...]) -> None:
    packed = _pack(slots)
    if packed is not None:
        name = where.key(key)
        where.redis.run(
            "slots.set", lambda: where.redis.client.set(name, packed, ex=where.seconds), None
        )


def _pack(slots: tuple[Slot, ...]) -> bytes | None:
    """16 bytes a slot; None if one has a fraction of a second (never, on a step grid)."""
    out = bytearray()
    for slot in slots:
        start = slot.start.timestamp()
        length = (slot.end - slot.start).total_seconds()
        if start != int(start) or length != int(length):
            return None
        out += _SLOT.pack(int(start), int(length), slot.provider_id)
    return bytes(out)


def _unpack(packed: bytes) -> tuple[Slot, ...]:
    found = []
    for start, length, provider_id in _SLOT.iter_unpack(packed):
        at = datetime.fromtimestamp(start, UTC)
        found.append(Slot(at, datetime.fromtimestamp(start + length, UTC), provider_id))
    return tuple(found)


def _count(name: str) -> None:
    with _lock:
        _counts[name] += 1


def stats() -> dict[str, int | float]:
    """This process's lookups since it started: answered by its own LRU, by Redis, or
    computed (misses); and the share that was not computed."""
    local = _local.hits
    with _lock:
        counts = {"local_hits": local, **_counts}
    lookups = sum(counts.values())
    return counts | {
        "lookups": lookups,
        "hit_ratio": 1 - counts["misses"] / lookups if lookups else 0.0,
    }


def flush_stats(force: bool = False) -> None:
    """Add this process's counts since the last flush to Redis's stats hash, at most once
    every STATS_EVERY seconds unless ``force``."""
    global _last_flush
    where = _shared
    if where is None:
        return
    with _lock:
        now = time.monotonic()
        if not force and now - _last_flush < STATS_EVERY:
            return
        _last_flush = now
    current = stats()
    # An LRU emptied (cache_clear) counts its hits from 0 again.
    base = {name: v if v <= current[name] else 0 for name, v in _flushed.items()}
    deltas = {name: current[name] - base[name] for name in base}
    if not any(deltas.values()):
        return

    def add() -> None:
        pipe = where.redis.client.pipeline(transaction=False)
        for name, delta in deltas.items():
            pipe.hincrby(f"{where.prefix}stats", name, delta)
        pipe.execute()
        _flushed.update({name: current[name] for name in deltas})

    where.redis.run("slots.stats", add, None)


def shared_stats() -> dict[str, int | float]:
    """The counts every process added to Redis (empty without Redis or when it is down)."""
    where = _shared
    if where is None:
        return {}
    raw = where.redis.run(
        "slots.stats", lambda: where.redis.client.hgetall(f"{where.prefix}stats"), {}
    )
    counts = {k.decode(): int(v) for k, v in raw.items()}
    lookups = sum(counts.values())
    if lookups:
        counts |= {"lookups": lookups, "hit_ratio": 1 - counts.get("misses", 0) / lookups}
    return counts

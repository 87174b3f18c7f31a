"""Free slots shared through a real Redis (127.0.0.1:6379, db 14, keys under a prefix of
the test's own), and the breaker that lets the app go on without it.

A cached answer is never stale: its key holds the providers' calendar versions, which the
database changes with every booking. And were a stale answer ever served, booking the
time it offers is still refused by the booking's own check and the database: 409
slot_taken, with other times offered.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
import redis
import requests

from models import Provider
from services.accounts.auth import issue_token
from services.booking import slot_cache
from services.booking.slots import _slots_for
from services.redis_client import SharedRedis
from tests.integration.test_api_catalogue import slots, starts
from tests.integration.test_worker import LONDON
from tests.server import gunicorn

REDIS_URL = "redis://127.0.0.1:6379/14"
MON_10 = "2026-11-30T10:00:00+00:00"


@pytest.fixture
def shared(app):
    """The app's slots shared in Redis, under a prefix of the test's own."""
    prefix = f"kairos-test:{secrets.token_hex(6)}:slots:"
    slot_cache.configure(REDIS_URL, prefix, 60)
    _slots_for.cache_clear()
    client = redis.Redis.from_url(REDIS_URL)
    yield client, prefix
    slot_cache.configure("")
    _slots_for.cache_clear()
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)


def entries(client, prefix) -> list[bytes]:
    return sorted(client.scan_iter(match=f"{prefix}v1:*"))


def book(api, clinic, start: str):
    body = {"service": clinic["follow_up"].id, "start": start, "provider": clinic["ana"].id}
    return api.post("/api/v1/bookings", json=body)


def test_slots_are_kept_in_redis_and_read_back_by_another_process(anonymous_api, clinic, shared):
    client, prefix = shared
    first = slots(anonymous_api, clinic["follow_up"], "2026-11-30", provider=clinic["ana"].id)
    (key,) = entries(client, prefix)
    assert 0 < client.ttl(key) <= 60
    before = slot_cache.stats()

    _slots_for.cache_clear()  # as a process of its own would start: nothing local
    again = slots(anonymous_api, clinic["follow_up"], "2026-11-30", provider=clinic["ana"].id)
    assert again.json == first.json  # the same slots, from Redis, to the UTC offset
    after = slot_cache.stats()
    assert after["redis_hits"] == before["redis_hits"] + 1
    assert after["misses"] == before["misses"]

    slots(anonymous_api, clinic["follow_up"], "2026-11-30", provider=clinic["ana"].id)
    assert slot_cache.stats()["local_hits"] == 1


def test_the_hit_counts_are_added_up_in_redis(anonymous_api, clinic, shared):
    client, prefix = shared
    for _ in range(3):
        slots(anonymous_api, clinic["follow_up"], "2026-11-30", provider=clinic["ana"].id)
    slot_cache.flush_stats(force=True)
    counts = slot_cache.shared_stats()
    assert counts["misses"] == 1
    assert counts["local_hits"] == 2
    assert counts["hit_ratio"] == pytest.approx(2 / 3)
    assert int(client.hget(f"{prefix}stats", "misses")) == 1


def test_after_a_booking_no_instance_offers_the_taken_time(
    anonymous_api, customer_api, clinic, shared
):
    client, prefix = shared
    ask = lambda: slots(anonymous_api, clinic["follow_up"], "2026-11-30")  # noqa: E731
    assert MON_10 in starts(ask())
    ana_before = Provider.get_by_id(clinic["ana"].id).calendar_version

    assert book(customer_api, clinic, MON_10).status_code == 201
    assert Provider.get_by_id(clinic["ana"].id).calendar_version != ana_before

    # This process still holds the old answer in its LRU, Redis holds it too: neither
    # is asked for again, the key has the new version. Another process, from Redis:
    _slots_for.cache_clear()
    offered = [s for s in ask().json["slots"] if s["provider"] == clinic["ana"].id]
    assert MON_10 not in [s["start"] for s in offered]
    assert len(entries(client, prefix)) == 2  # the old answer and the new one


def test_a_stale_answer_served_still_cannot_book_the_taken_time(
    anonymous_api, customer_api, other_api, clinic, shared
):
    ask = lambda: slots(  # noqa: E731
        anonymous_api, clinic["follow_up"], "2026-11-30", provider=clinic["ana"].id
    )
    assert MON_10 in starts(ask())
    ana = Provider.get_by_id(clinic["ana"].id)
    assert book(other_api, clinic, MON_10).status_code == 201
    # What can never happen, made to: the version put back, so the cache is stale.
    Provider.update(calendar_version=ana.calendar_version).where(Provider.id == ana.id).execute()
    _slots_for.cache_clear()  # from Redis, as another instance would read it
    assert MON_10 in starts(ask())

    refused = book(customer_api, clinic, MON_10)

    assert refused.status_code == 409
    assert refused.json["error"] == "slot_taken"
    offered = [s["start"] for s in refused.json["alternatives"]]
    assert offered
    assert MON_10 not in offered


def test_without_redis_slots_are_computed_and_the_breaker_skips_it(
    anonymous_api, clinic, app, caplog
):
    # Nothing listens on port 1; a client name of its own: a breaker of its own.
    nowhere = f"redis://127.0.0.1:1/0?client_name=t{secrets.token_hex(4)}"
    slot_cache.configure(nowhere, "kairos-test:", 60)
    _slots_for.cache_clear()
    try:
        for day in ("2026-11-30", "2026-12-01", "2026-12-02"):
            response = slots(anonymous_api, clinic["follow_up"], day)
            assert response.status_code == 200
            assert response.json["slots"]
    finally:
        slot_cache.configure("")
        _slots_for.cache_clear()
    assert caplog.text.count("redis.unavailable") == 1  # once, not per request


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_on_a_failure_and_closes_when_redis_answers_again(caplog):
    clock = Clock()
    breaker = SharedRedis("redis://127.0.0.1:1/0", retry_after=5, clock=clock)
    calls = []

    def ping():
        calls.append(clock.now)
        return breaker.client.ping()

    assert breaker.run("test", ping, "fallback") == "fallback"
    assert breaker.is_open
    assert len(calls) == 1
    clock.now += 4.9
    assert breaker.run("test", ping, "fallback") == "fallback"
    assert len(calls) == 1  # open: Redis not even asked
    clock.now += 0.2
    assert breaker.run("test", ping, "fallback") == "fallback"
    assert len(calls) == 2  # one try after the wait, failed: open again
    assert caplog.text.count("redis.unavailable") == 1

    breaker.client = redis.Redis.from_url(REDIS_URL)  # Redis is back
    clock.now += 5.1
    assert breaker.run("test", ping, "fallback") is True
    assert not breaker.is_open
    assert "redis.available" in caplog.text


def test_a_redis_server_is_there():
    assert redis.Redis.from_url(REDIS_URL).ping()


def test_slots_pack_to_sixteen_bytes_each_and_back():
    from scheduling import Slot

    found = (
        Slot(datetime(2026, 11, 30, 9, tzinfo=UTC), datetime(2026, 11, 30, 9, 30, tzinfo=UTC), 7),
        Slot(datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 3, 29, 2, tzinfo=UTC), 2**31 - 1),
    )
    packed = slot_cache._pack(found)
    assert len(packed) == 32
    assert slot_cache._unpack(packed) == found


@pytest.mark.live
def test_two_server_processes_share_answers_and_neither_offers_a_booked_time(
    production_database, clinic
):
    """Two instances under gunicorn, one process each, on one database and one Redis: the
    second reads the first's answer from Redis; after a booking through the second, the
    first (its own LRU holding the old answer) no longer offers the time."""
    prefix = f"kairos-test:{secrets.token_hex(6)}:slots:"
    env = {"REDIS_URL": REDIS_URL, "SLOT_CACHE_PREFIX": prefix, "RATE_LIMIT_SCALE": "0"}
    token, _ = issue_token(clinic["customer"], datetime.now(UTC))
    service, ana = clinic["follow_up"], clinic["ana"]
    day = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=3)
    path = f"/api/v1/orgs/clinic/slots?service={service.id}&provider={ana.id}&date={day}&days=7"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        with (
            gunicorn(production_database, workers=1, env=env) as one,
            gunicorn(production_database, workers=1, env=env) as two,
        ):
            offered = requests.get(one + path, timeout=10).json()["slots"]
            assert requests.get(two + path, timeout=10).json()["slots"] == offered
            counts = {k.decode(): int(v) for k, v in client.hgetall(f"{prefix}stats").items()}
            assert counts == {"misses": 1, "redis_hits": 1, "local_hits": 0}

            taken = offered[0]["start"]
            made = requests.post(
                f"{two}/api/v1/bookings",
                json={"service": service.id, "start": taken, "provider": ana.id},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert made.status_code == 201, made.text
            again = requests.get(one + path, timeout=10).json()["slots"]
            assert taken not in [s["start"] for s in again]
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)

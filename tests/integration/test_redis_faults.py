"""Redis killed mid-load, with real processes: a private redis-server on a free port is
the app's REDIS_URL and HUEY_URL, the app runs under gunicorn, and requests (pages,
slots, bookings) go on while Redis is killed (SIGKILL) and started again.

While it is away: no 500s, bookings go on (the slot cache computes, the rate limits let
tries through, the notifications cannot be queued and stay in the outbox). When it is
back: the breaker closes, the cache fills Redis again, and a Huey consumer with the
outbox sweep sends every booking's confirmation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import requests

from config import ROOT
from models import Organisation
from services.accounts.auth import issue_token
from tests.integration.test_worker import (
    LONDON,
    Consumer,
    all_done,
    wait_for_clock,
    wait_until,
)
from tests.server import TEST_ENCRYPTION_KEY, free_port, gunicorn
from tests.standins.smtp import SmtpStandIn

pytestmark = [pytest.mark.live, pytest.mark.xdist_group("huey-worker")]


class RedisServer:
    """redis-server on ``port``, nothing saved to disk."""

    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no"]  # fmt: skip
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_until(lambda: _pings(client), timeout=10, what="redis-server answering")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None


def _pings(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()


def test_redis_killed_mid_load_bookings_go_on_and_the_queue_catches_up(
    production_database, app, clinic, private_redis, tmp_path
):
    url = f"redis://127.0.0.1:{private_redis.port}/0"
    smtp = SmtpStandIn()
    env = os.environ | {
        "DATABASE_URL": production_database,
        "SECRET_KEY": "live-test",
        "KAIROS_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
        "KAIROS_ENV": "testing",
        "REDIS_URL": url,
        "HUEY_URL": url,
        "OUTBOX_STALE_SECONDS": "1",
        "OUTBOX_RETRY_SECONDS": "1",
        **smtp.env(),
    }
    token, _ = issue_token(clinic["customer"], datetime.now(UTC))
    Organisation.update(max_future_bookings=100, max_bookings_per_day=100).where(
        Organisation.id == clinic["org"].id
    ).execute()
    service, ana = clinic["follow_up"], clinic["ana"]
    auth = {"Authorization": f"Bearer {token}"}

    with smtp, gunicorn(production_database, workers=2, threads=4, env=env) as base:
        first = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=3)
        slots_url = (
            f"{base}/api/v1/orgs/clinic/slots?service={service.id}&provider={ana.id}"
            f"&date={first.isoformat()}&days=7"
        )
        statuses: list[int] = []
        booked: list[int] = []

        def load(rounds: int) -> None:
            for _ in range(rounds):
                for path in ("/clinic", f"/clinic/book/{service.id}/when?provider={ana.id}"):
                    statuses.append(requests.get(base + path, timeout=10).status_code)
                found = requests.get(slots_url, timeout=10)
                statuses.append(found.status_code)
                start = found.json()["slots"][0]["start"]
                body = {"service": service.id, "start": start, "provider": ana.id}
                made = requests.post(f"{base}/api/v1/bookings", json=body, headers=auth, timeout=10)
                statuses.append(made.status_code)
                assert made.status_code in (201, 409), made.text
                if made.status_code == 201:
                    booked.append(made.json()["id"])

        load(3)
        cache = redis.Redis.from_url(url)
        assert list(cache.scan_iter(match="kairos:slots:v1:*")), "nothing cached in Redis"
        up_before = len(booked)

        private_redis.kill()
        load(4)
        assert len(booked) - up_before >= 3, "bookings stopped with Redis away"
        assert 500 not in statuses, statuses

        private_redis.start()  # the same port, empty
        # The breakers (5 s) close: the cache fills the new Redis again. (A day not asked
        # for yet each time: what was asked for before is in the processes' own LRUs.)
        days = iter(range(10, 400))

        def cached_again() -> bool:
            day = (first + timedelta(days=next(days))).isoformat()
            assert requests.get(slots_url.replace(first.isoformat(), day), timeout=10).ok
            return bool(list(cache.scan_iter(match="kairos:slots:v1:*")))

        wait_until(cached_again, timeout=20, what="the slot cache back in Redis")
        load(2)
        assert 500 not in statuses, statuses

        consumer = Consumer(env, tmp_path / "consumer.log")
        consumer.start()
        try:
            wait_for_clock(datetime.now(UTC) + timedelta(seconds=1.2))
            code = "import tasks; tasks.open_db(); tasks.sweep.call_local()"
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=30)
            done = wait_until(all_done, timeout=30, what="every notification finished")
        finally:
            consumer.kill()

    assert {n.status for n in done} == {"sent"}
    confirmed = {n.booking_id for n in done if n.kind == "confirmed"}
    assert confirmed == set(booked)
    assert len(smtp.received()) == len(done)

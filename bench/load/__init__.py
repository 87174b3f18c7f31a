"""What the load and soak benches share: the seeded production stack and a Locust run.

The stack is deploy/stack.py's (HAProxy in front of two gunicorn instances, a Huey
consumer on Redis) on a scratch PostgreSQL database and a private redis-server.
Rate limits stay on but are scaled 1000× (every simulated user comes from 127.0.0.1).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import _free_port, connected, scratch_database
from commands.demo import DEMO_PASSWORD, seed_demo
from config import ROOT
from deploy.stack import Stack
from models import Organisation, Service, ServiceProvider, User
from services.accounts.auth import hash_password, issue_token
from tests import factories

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
RATE_LIMIT_SCALE = "1000"
SLOT_CACHE_PREFIX = "kairos:slots:"  # the stack's default SLOT_CACHE_PREFIX
DAYS_AHEAD = 60  # customers look for times up to this many days ahead
EXTRA_PROVIDERS = 3


@dataclass
class Setup:
    """What the Locust users need, written to a JSON file for them."""

    slug: str
    services: list[int]
    tokens: list[str]
    staff: list[dict]
    days_ahead: int = DAYS_AHEAD


def seed(customers: int) -> Setup:
    """The demo business, three more providers offering every service (with logins), its
    customer limits lifted (each simulated customer books every few seconds), and
    ``customers`` customer accounts with API tokens."""
    now = datetime.now(UTC)
    seed_demo(now)
    org = Organisation.get(slug="demo")
    org.max_future_bookings, org.max_bookings_per_day = 1_000_000, 1_000
    org.save()
    services = list(Service.select().where(Service.organisation == org))
    password = hash_password(DEMO_PASSWORD)
    staff = [{"email": "provider@example.com", "password": DEMO_PASSWORD}]
    for n in range(EXTRA_PROVIDERS):
        email = f"load-provider{n}@example.com"
        user = User.create(email=email, name=f"Load Provider {n}", password_hash=password)
        provider = factories.make_provider(org, f"Load Provider {n}", user=user)
        for service in services:
            ServiceProvider.create(service=service, provider=provider)
        staff.append({"email": email, "password": DEMO_PASSWORD})
    tokens = []
    for n in range(customers):
        person = User.create(
            email=f"load-customer{n}@example.com", name=f"Customer {n}", password_hash=password
        )
        tokens.append(issue_token(person, now)[0])
    return Setup("demo", [s.id for s in services], tokens, staff)


# --- Redis and the stack -------------------------------------------------------------------


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of our own on a free loopback port, nothing saved; yields its URL."""
    port = _free_port()
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    proc = subprocess.Popen([*cmd, "--appendonly", "no"], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for(lambda: _redis_answers(port), "redis-server")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _redis_answers(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=port).ping())
    except redis.RedisError:
        return False


def _wait_for(check, what: str, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start within {limit:.0f} s")


@contextmanager
def production_stack(customers: int) -> Iterator[tuple[Stack, str, str, Setup]]:
    """A scratch database, seeded; a private Redis; the stack on them.
    Yields (stack, database URL, Redis URL, setup)."""
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with scratch_database(server) as url, private_redis() as redis_url:
        with connected(url):
            setup = seed(customers)
        env = {"RATE_LIMIT_SCALE": RATE_LIMIT_SCALE}
        with Stack(_free_port(), url, redis_url, secrets.token_urlsafe(32), env=env) as stack:
            yield stack, url, redis_url, setup


# --- Locust --------------------------------------------------------------------------------


def warm_up(base_url: str, setup: Setup, rounds: int = 8) -> None:
    """Each page the users open, a few times per gunicorn worker before measuring: a
    worker's first render of a template compiles it (a few hundred ms on a busy machine)."""
    for service in setup.services:
        picker = f"{base_url}/{setup.slug}/book/{service}/when?provider=any"
        for path in [f"{base_url}/{setup.slug}", f"{base_url}/{setup.slug}/book/{service}", picker]:
            for _ in range(rounds):
                urllib.request.urlopen(path, timeout=30).read()


def run_locust(base_url: str, setup: Setup, *, users: int, minutes: float, folder: Path) -> dict:
    """Locust headless against ``base_url`` (``users`` simulated users, plus the /health
    probe); returns the locustfile's summary."""
    setup_file, report = folder / "setup.json", folder / "report.json"
    setup_file.write_text(json.dumps(setup.__dict__))
    env = os.environ | {"KAIROS_LOAD_SETUP": str(setup_file), "KAIROS_LOAD_REPORT": str(report)}
    cmd = [str(Path(sys.executable).parent / "locust"), "-f", str(LOCUSTFILE), "--headless"]
    cmd += ["-u", str(users + 1), "-r", "10", "-t", f"{max(1, round(minutes * 60))}s"]
    cmd += ["--host", base_url, "--csv", str(folder / "locust"), "--only-summary"]
    cmd += ["--stop-timeout", "10", "--loglevel", "WARNING"]
    with open(folder / "locust.log", "w") as log:
        subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if not report.exists():
        raise SystemExit(f"Locust wrote no report; see {folder / 'locust.log'}")
    return json.loads(report.read_text())


def forget_slot_cache_counts(redis_url: str) -> None:
    """Start the hit ratio's counts afresh (after the warm-up, for instance)."""
    import redis

    redis.Redis.from_url(redis_url).delete(f"{SLOT_CACHE_PREFIX}stats")


def slot_cache_ratio(redis_url: str) -> str:
    """The cluster's slot cache hit ratio: the counts every process adds to the Redis hash
    ``kairos:slots:stats`` (services/booking/slot_cache.py; a process's last few seconds
    may be missing)."""
    import redis

    raw = redis.Redis.from_url(redis_url).hgetall(f"{SLOT_CACHE_PREFIX}stats")
    counts = {name.decode(): int(value) for name, value in raw.items()}
    lookups = sum(counts.values())
    if not lookups:
        return "n/a (no counts in Redis)"
    hits = lookups - counts.get("misses", 0)
    parts = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
    return f"{hits / lookups:.1%} of {lookups} lookups ({parts})"


# --- processes -----------------------------------------------------------------------------


def rss_by_process(stack: Stack) -> dict[tuple[str, int], int]:
    """RSS in KiB of every live process of the stack, keyed by (group, pid): the groups
    are "web" (both gunicorn instances, masters and workers), "worker" and "haproxy"."""
    found = {}
    for role, pids in stack.pids().items():
        for pid in pids:
            if (rss := rss_kib(pid)) is not None:
                found[(role.rstrip("0123456789"), pid)] = rss
    return found


def rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) if found else None

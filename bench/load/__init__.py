"""What the load and soak benches share: the seeded production stack and a Locust run.

The stack is deploy/stack.py's (HAProxy in front of two gunicorn instances, a Huey
consumer on Redis) on a scratch PostgreSQL database and a private redis-server; where
that module is not there yet, one gunicorn and a Huey consumer stand in for it.
Rate limits stay on but are scaled 1000× (every simulated user comes from 127.0.0.1).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
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
from models import Organisation, Service, ServiceProvider, User
from services.accounts.auth import hash_password, issue_token
from tests import factories

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
RATE_LIMIT_SCALE = "1000"
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


def stack_env(redis_url: str) -> dict[str, str]:
    return {
        "RATE_LIMIT_SCALE": RATE_LIMIT_SCALE,
        "KAIROS_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "HUEY_URL": redis_url,
    }


@contextmanager
def production_stack(customers: int) -> Iterator[tuple[object, str, Setup]]:
    """A scratch database, seeded; a private Redis; the stack on them.
    Yields (stack, database URL, setup)."""
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with scratch_database(server) as url, private_redis() as redis_url:
        with connected(url):
            setup = seed(customers)
        stack = _start_stack(url, redis_url)
        try:
            yield stack, url, setup
        finally:
            stack.stop()


def _start_stack(database_url: str, redis_url: str):
    secret = secrets.token_urlsafe(32)
    try:
        from deploy.stack import Stack
    except ImportError:
        print("deploy/stack.py is not there: one gunicorn + a Huey consumer stand in for it")
        return StandIn(database_url, redis_url, secret, stack_env(redis_url))
    return Stack(_free_port(), database_url, redis_url, secret, env=stack_env(redis_url))


class StandIn:
    """One gunicorn (2 workers × 8 threads) and a Huey consumer: the Stack's interface."""

    def __init__(self, database_url: str, redis_url: str, secret: str, env: dict) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_dir = Path(tempfile.mkdtemp(prefix="kairos-load-"))
        env = (
            os.environ
            | env
            | {
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": secret,
                "KAIROS_ENV": "production",
                "BASE_URL": self.url,
            }
        )
        bin_dir = Path(sys.executable).parent
        web = [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        web += ["--threads", "8", "--no-control-socket", "app:create_app()"]
        worker = [str(bin_dir / "huey_consumer"), "tasks.huey", "--workers", "2"]
        worker += ["--worker-type", "thread"]
        self.procs = [
            subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            for cmd, log in [
                (web, open(self.log_dir / "web.log", "w")),  # noqa: SIM115
                (worker, open(self.log_dir / "worker.log", "w")),  # noqa: SIM115
            ]
        ]
        _wait_for(lambda: _answers(f"{self.url}/health"), "gunicorn")

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=20)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


# --- Locust --------------------------------------------------------------------------------


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


def slot_cache_ratio(base_url: str) -> str:
    """The slot cache's hit ratio from /metrics, if the app counts hits and misses there."""
    try:
        with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return "n/a (no /metrics)"
    counts = {"hit": 0.0, "miss": 0.0}
    for name, value in re.findall(r"^(\w*slot\w*cache\w*)(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.M):
        for kind in counts:
            if kind in name and not name.endswith("_created"):
                counts[kind] += float(value)
    total = counts["hit"] + counts["miss"]
    if not total:
        return "n/a (no slot cache counters in /metrics)"
    return f"{counts['hit'] / total:.1%} ({counts['hit']:.0f} hits, {counts['miss']:.0f} misses)"


# --- processes -----------------------------------------------------------------------------


def process_tree(pids: list[int]) -> dict[int, str]:
    """Every process under ``pids`` (gunicorn's workers, not only its master), by kind:
    "web" (gunicorn), "worker" (huey) or "other" (the load balancer...)."""
    found, todo = {}, list(pids)
    while todo:
        pid = todo.pop()
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            children = [
                int(child)
                for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()
            ]
        except OSError:
            continue  # gone
        found[pid] = "web" if "gunicorn" in cmdline else "worker" if "huey" in cmdline else "other"
        todo += children
    return found


def rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) if found else None

"""The production shape (deploy/stack.py, `make prod`) with real processes: gunicorn
instances behind HAProxy, a Huey consumer, a private redis-server, PostgreSQL; sessions
on any instance, an instance killed mid-booking, PostgreSQL restarted under the app."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import redis
import requests

from commands.demo import DEMO_PASSWORD
from config import ROOT
from deploy.stack import Stack, free_port

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="make haproxy")

SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def wait_until(condition: Callable[[], object], timeout: float = 30, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException, psycopg.Error, redis.RedisError):
            result = condition()
            if result:
                return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def database(server: str, name: str) -> Iterator[str]:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{server}/{name}"
    finally:
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(f"{server}/postgres", autocommit=True) as conn,
        ):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"redis://127.0.0.1:{port}/0"
        wait_until(lambda: redis.Redis.from_url(url).ping(), what="redis-server")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(request, redis_url) -> Iterator[Stack]:
    failed = request.session.testsfailed
    with (
        database(SERVER, "kairos_h_prod_shape") as url,
        Stack(free_port(), url, redis_url, "shape-test-secret", env={"RATE_LIMIT_SCALE": "off"},
              seed_demo=True, workers_per_instance=1, threads=4) as running,
    ):  # fmt: skip
        yield running
    if request.session.testsfailed == failed:  # kept when a test failed, for its logs
        shutil.rmtree(running.log_dir)


def access_lines(stack: Stack, i: int, path: str) -> int:
    log = stack.access_log(i)
    return log.read_text().count(f" {path} ") if log.exists() else 0


def sign_in(base: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/account/sign-in", timeout=10)
    token = CSRF.search(page.text).group(1)
    form = {"email": "customer@example.com", "password": DEMO_PASSWORD, "csrf_token": token}
    response = browser.post(f"{base}/account/sign-in", data=form, timeout=10)
    assert response.status_code == 200
    assert "/account/sign-in" not in response.url, response.url
    return browser


def api_token(base: str) -> str:
    body = {"email": "customer@example.com", "password": DEMO_PASSWORD}
    response = requests.post(f"{base}/api/v1/tokens", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["token"]


def free_starts(base: str, count: int) -> tuple[int, list[str]]:
    """A service of the demo and ``count`` start times for it, one a day (a customer may
    hold only so many bookings a day), from three days ahead."""
    (service, *_) = requests.get(f"{base}/api/v1/orgs/demo/services", timeout=10).json()
    first = (datetime.now(UTC) + timedelta(days=3)).date()
    slots = requests.get(
        f"{base}/api/v1/orgs/demo/slots",
        params={"service": service["id"], "date": first.isoformat(), "days": 28},
        timeout=10,
    ).json()["slots"]
    by_day = {}
    for slot in slots:
        by_day.setdefault(slot["start"][:10], slot["start"])
    starts = list(by_day.values())[:count]
    assert len(starts) == count, starts
    return service["id"], starts


def book(base: str, token: str, service: int, start: str) -> tuple[requests.Response, int]:
    """One booking and how many tries it took, retried with the same Idempotency-Key (so
    never made twice) when the answer is lost or the balancer has nowhere to send it."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    for tries in range(1, 21):
        try:
            response = requests.post(
                f"{base}/api/v1/bookings",
                json={"service": service, "start": start},
                headers=headers,
                timeout=10,
            )
        except requests.ConnectionError:
            continue
        if response.status_code not in (502, 503, 504):
            return response, tries
        time.sleep(0.2)
    raise AssertionError(f"booking at {start} never answered")


def bookings_in_database(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM booking").fetchone()[0]


# --- make prod refuses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "make prod: DATABASE_URL is not set (a postgresql://... address)"),
        ({"DATABASE_URL": "sqlite:///x.db"}, "make prod: DATABASE_URL must be a PostgreSQL"),
        ({"DATABASE_URL": f"{SERVER}/x"}, "make prod: REDIS_URL is not set"),
        (
            {"DATABASE_URL": f"{SERVER}/x", "REDIS_URL": "redis://127.0.0.1:1"},
            "make prod: SECRET_KEY",
        ),
    ],
)
def test_make_prod_refuses_without_its_requirements_in_one_line(env, message):
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
    }
    done = subprocess.run(
        [sys.executable, "scripts/check_production.py"],
        cwd=ROOT, env=clean | env, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(message), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


# --- through HAProxy ------------------------------------------------------------------------


def test_health_and_ready_through_the_balancer(stack):
    assert requests.get(f"{stack.url}/health", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{stack.url}/ready", timeout=5)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    assert set(stack.pids()) == {"web0", "web1", "worker", "haproxy"}


def test_a_session_works_on_every_instance(stack):
    browser = sign_in(stack.url)
    before = [access_lines(stack, i, "/account/profile") for i in range(2)]

    for _ in range(6):
        response = browser.get(f"{stack.url}/account/profile", timeout=10, allow_redirects=False)
        assert response.status_code == 200  # signed in, not sent to the sign-in page

    # Round robin: both instances served the signed-in page.
    after = [access_lines(stack, i, "/account/profile") for i in range(2)]
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)


def test_an_instance_killed_mid_booking_loses_and_doubles_nothing(stack):
    token = api_token(stack.url)
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:  # room for a series
        conn.execute("UPDATE organisation SET max_future_bookings = 100 WHERE slug = 'demo'")
    service, starts = free_starts(stack.url, 8)
    before, answers = bookings_in_database(stack.env["DATABASE_URL"]), {}
    for n, start in enumerate(starts):
        if n == 3:
            stack.kill_web(0)
        response, tries = book(stack.url, token, service, start)
        answers[start] = (response.status_code, response.json().get("error"), tries)

    assert {answer[0] for answer in answers.values()} == {201}, answers
    # HAProxy sent them to a live instance: at most the one request right after the kill
    # met the dying instance (a 502; HAProxy's retry on an empty response catches some of
    # these, not all), and the client's retry with the same Idempotency-Key made it once.
    assert sum(answer[2] - 1 for answer in answers.values()) <= 1, answers
    # Each answered 201 exactly once: none lost, none doubled by a retry.
    assert bookings_in_database(stack.env["DATABASE_URL"]) - before == len(starts)


# --- PostgreSQL restarted -------------------------------------------------------------------


@contextlib.contextmanager
def private_postgres() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A PostgreSQL of our own (initdb in a temp dir) and its stop and start."""
    home = Path(tempfile.mkdtemp(prefix="kairos-pg-"))
    shutil.chown(home, "postgres")
    data, port = home / "data", free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_postgres, PG_BIN / "initdb", "-D", data, "-A", "trust", "-U", "postgres"],
        check=True, capture_output=True,
    )  # fmt: skip
    ctl = [*as_postgres, PG_BIN / "pg_ctl", "-D", data, "-l", home / "log", "-w"]
    options = f"-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"

    def start() -> None:
        subprocess.run([*ctl, "-o", options, "start"], check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*ctl, "-m", "fast", "stop"], check=True, capture_output=True)

    start()
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}", stop, start
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run([*ctl, "-m", "immediate", "stop"], check=True, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_postgresql_restarted_gives_clean_503s_then_recovers(redis_url):
    with (
        private_postgres() as (server, stop, start),
        database(server, "kairos_h_prod_restart") as url,
        Stack(free_port(), url, redis_url, "restart-test-secret", web_instances=1,
              seed_demo=True, workers_per_instance=1, threads=4) as stack,
    ):  # fmt: skip
        api, page = f"{stack.url}/api/v1/orgs/demo", f"{stack.url}/demo"
        assert requests.get(api, timeout=10).status_code == 200

        stop()
        down_json = requests.get(api, timeout=10)
        down_page = requests.get(page, headers={"Accept": "text/html"}, timeout=10)
        ready = requests.get(f"{stack.url}/ready", timeout=10)

        assert down_json.status_code == 503
        assert down_json.json()["error"] == "service_unavailable"
        assert down_page.status_code == 503
        assert down_page.headers["Content-Type"].startswith("text/html")
        assert ready.status_code == 503
        assert ready.headers["Content-Type"] == "application/json"

        start()
        # Without restarting the app: pooled connections that died are replaced.
        wait_until(lambda: all(requests.get(api, timeout=10).status_code == 200 for _ in range(8)),
                   what="the app to recover")  # fmt: skip
        assert requests.get(f"{stack.url}/ready", timeout=10).status_code == 200
    shutil.rmtree(stack.log_dir)  # only when it passed: its logs tell why it did not

"""What the HTTP benchmarks share: a scratch database, the app under gunicorn, load.

The server runs as the Procfile runs it in production (gunicorn, 2 workers × 8 threads,
access log on) on a database made for the run and dropped after it. Load comes from
``wrk`` when it is installed, or from Python threads keeping one HTTP/1.1 connection each.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from config import ROOT
from migrations import upgrade
from models import db, open_database

WORKERS, THREADS = 2, 8  # production settings: 2 processes × 8 threads
WRK_MISSING = (
    "wrk is not installed, so load comes from Python threads, which share the CPU with the\n"
    "server and cap out sooner. For the reference figures install it: apt-get install -y wrk"
)


# --- databases -----------------------------------------------------------------------------


@contextmanager
def scratch_database(server_url: str | None) -> Iterator[str]:
    """A fresh, migrated database for one run: SQLite in a temporary folder, or a new
    PostgreSQL database next to ``server_url`` (dropped afterwards). Yields its URL."""
    if not server_url:
        with tempfile.TemporaryDirectory(prefix="kairos-bench-") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            upgrade(open_database(url))
            yield url
        return
    name = f"kairos_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
            upgrade(open_database(url))
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def connected(url: str) -> Iterator[None]:
    """Bind the models to ``url`` in this process, for seeding and checking."""
    db.initialize(open_database(url))
    with db.connection_context():
        yield


# --- the server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The app under gunicorn with production settings (and ``env``); yields its base URL."""
    port = _free_port()
    queue = Path(tempfile.mkdtemp(prefix="kairos-bench-queue-")) / "huey.db"
    env = (
        os.environ
        | {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "KAIROS_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "KAIROS_ENV": "production",
            # Its own queue: the notifications it enqueues must not reach a development worker.
            "HUEY_URL": os.environ.get("BENCH_HUEY_URL", f"sqlite:///{queue}"),
            # A few clients make thousands of bookings and sign-ins from one address: the
            # limits stay on (their cost is measured) but scaled far out of the way.
            "RATE_LIMIT_SCALE": os.environ.get("BENCH_RATE_LIMIT_SCALE", "1000"),
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", ""),
        }
        | (env or {})
    )
    # As in the Procfile, access log included (it goes to the log file below).
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--no-control-socket",
        "--access-logfile",
        "-",
        "app:create_app()",
    ]
    with tempfile.NamedTemporaryFile("w+", prefix="kairos-bench-", suffix=".log") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, proc, log.name)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            errors = [
                line
                for line in Path(log.name).read_text().splitlines()
                if " ERROR " in line or "Traceback" in line
            ]
            if errors:
                print(
                    f"server logged {len(errors)} error lines, first: {errors[0]}", file=sys.stderr
                )


def _wait_until_up(base: str, proc: subprocess.Popen, log_path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{Path(log_path).read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1) as response:
                if response.status == 200:
                    # Warm both workers: their first requests import and connect.
                    for _ in range(4 * WORKERS):
                        urllib.request.urlopen(f"{base}/api/v1", timeout=5).read()
                    return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"gunicorn did not start:\n{Path(log_path).read_text()}")


# --- load ----------------------------------------------------------------------------------


@dataclass
class Load:
    """What a load run measured. Latencies in milliseconds."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def describe(self) -> str:
        odd = {code: n for code, n in self.statuses.items() if not 200 <= code < 300}
        extra = f", non-2xx {odd}" if odd else ""
        extra += f", socket errors {self.errors}" if self.errors else ""
        return (
            f"{self.rps:8.1f} req/s  p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms"
            f"  ({self.requests} requests in {self.seconds:.1f} s{extra})"
        )


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


# wrk calls done() once at the end; print what we need as one JSON line.
_WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"non2xx": %d, "errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def wrk(url: str, *, connections: int, seconds: int, threads: int = 1) -> Load:
    """Closed-loop load: ``connections`` clients, each sending as soon as answered."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_WRK_REPORT)
        script.flush()
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    found = re.search(r"^BENCH (\{.*\})$", out, re.MULTILINE)
    if not found:
        raise RuntimeError(f"could not read wrk's report:\n{out}")
    r = json.loads(found.group(1))
    statuses = Counter({200: r["requests"] - r["non2xx"]})
    if r["non2xx"]:
        statuses[0] = r["non2xx"]  # wrk counts them, without saying which codes
    return Load(
        r["requests"],
        r["duration_us"] / 1e6,
        r["p50_us"] / 1e3,
        r["p99_us"] / 1e3,
        statuses,
        r["errors"],
    )


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict = field(default_factory=dict)


def python_load(
    base: str,
    requests: Sequence[Request] | None = None,
    *,
    connections: int,
    seconds: float = 0,
    repeat: Request | None = None,
) -> Load:
    """Closed-loop load from threads, one keep-alive connection each: either every
    request in ``requests`` once (shared out as the threads become free), or
    ``repeat`` over and over for ``seconds``."""
    host = urlsplit(base)
    queue = iter(requests or ())
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors = 0
    start_gate = threading.Barrier(connections + 1)
    stop_at = [0.0]

    def next_request() -> Request | None:
        if repeat is not None:
            return repeat if time.perf_counter() < stop_at[0] else None
        with lock:
            return next(queue, None)

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        mine, codes = [], Counter()
        start_gate.wait()
        while (req := next_request()) is not None:
            began = time.perf_counter()
            try:
                conn.request(req.method, req.path, body=req.body, headers=req.headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
                with lock:
                    errors += 1
                continue
            mine.append(time.perf_counter() - began)
            codes[response.status] += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start_gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return Load(
        len(latencies),
        elapsed,
        _percentile(latencies, 50) * 1e3,
        _percentile(latencies, 99) * 1e3,
        statuses,
        errors,
    )


def _percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


# --- in-process ----------------------------------------------------------------------------


def median_ms(call: Callable[[], object], calls: int) -> float:
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1e3


def get(client, path: str, expect: int = 200) -> Callable[[], None]:
    """A GET of ``path`` with a Flask test client, which must answer ``expect``."""

    def call():
        response = client.get(path)
        assert response.status_code == expect, (path, response.status_code)

    return call


def best_medians(steps: dict[str, Callable[[], object]], calls: int) -> dict[str, float]:
    """Each step's median time in ms over ``calls`` calls, best of two turns (taken in
    the same order), after a warm-up (imports, templates, prepared queries, connections)."""
    for _ in range(20):
        for step in steps.values():
            step()
    results: dict[str, list[float]] = {}
    for _turn in range(2):
        for name, step in steps.items():
            results.setdefault(name, []).append(median_ms(step, calls))
    return {name: min(values) for name, values in results.items()}

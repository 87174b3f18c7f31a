"""Starting the real app under gunicorn for tests that talk HTTP to it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from config import ROOT

# The key live servers and workers in tests encrypt secrets at rest with (not a secret).
TEST_ENCRYPTION_KEY = "a2Fpcm9zLWxpdmUtdGVzdHMtbm90LWEtc2VjcmV0ISE="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(
    database_url: str,
    *,
    workers: int = 2,
    threads: int = 8,
    env: dict[str, str] | None = None,
    host: str = "127.0.0.1",
) -> Iterator[str]:
    """The app served as in production on a free port; yields its base URL, which
    names ``host`` (passkeys need a host name, "localhost": it is still served on
    127.0.0.1).

    Its task queue is a file of its own unless ``env`` names one (HUEY_URL), so what
    it enqueues never reaches a development worker; its rate-limit counters are in the
    database unless ``env`` names a REDIS_URL."""
    port = free_port()
    queue = Path(tempfile.mkdtemp(prefix="kairos-queue-")) / "huey.db"
    env = (
        os.environ
        | {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "live-test",
            "KAIROS_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
            "KAIROS_ENV": "testing",
            "BASE_URL": f"http://{host}:{port}",
            "HUEY_URL": f"sqlite:///{queue}",
            # Rate-limit counters in the test's database, emptied before every test.
            "REDIS_URL": "",
        }
        | (env or {})
    )
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--no-control-socket",
        "app:create_app()",
    ]
    # A process group of its own, so that stopping it stops its workers too (a worker
    # left behind by a master that had to be killed was found running after CI).
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://{host}:{port}"
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}", proc)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # quick shutdown: tests leave no work in flight
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # any worker still there


def _wait_until_healthy(base: str, proc: subprocess.Popen, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            if requests.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("the live server did not become healthy in time")

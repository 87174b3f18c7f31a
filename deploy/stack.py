"""The production shape on one machine: N gunicorn instances behind HAProxy, one Huey
consumer on Redis, all on one PostgreSQL. `make prod` runs it in the foreground
(``python -m deploy.stack``); tests and benches use ``Stack`` as a context manager.

Every process gets the same environment: KAIROS_ENV=production, the secret key, the
encryption keys, the VAPID key, REDIS_URL (rate limits) and HUEY_URL (the queue), so a
request may land on any instance. Logs go to files under ``Stack.log_dir``."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from config import ROOT

BIN = Path(sys.executable).parent

HAPROXY_CONFIG = """\
global
    maxconn 2048
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout queue 10s
    timeout http-request 10s
    # A request whose instance refuses the connection (killed, restarting) goes to
    # another one; so does one sent on a kept-alive connection to an instance that died
    # meanwhile, which closes with no answer at all (empty-response). That one may, in a
    # crash mid-request, be a request the instance began: only requests that are safe to
    # send again are (reads, and changes that carry an Idempotency-Key).
    retries 3
    option redispatch
    retry-on conn-failure empty-response
    # The client's address for the app's per-address limits (TRUSTED_PROXIES=1).
    option forwardfor

frontend web
    bind 127.0.0.1:{port}
    http-request disable-l7-retry if !METH_GET !METH_HEAD !{{ req.hdr(Idempotency-Key) -m found }}
    default_backend app

backend app
    balance roundrobin
    # /health answers while the process does, without the database: a shared database
    # that is down must not take every instance out (the app answers 503 itself).
    option httpchk GET /health
    http-check expect status 200
    default-server inter 1s fastinter 500ms fall 2 rise 1
{servers}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requirement_problem(environ: dict[str, str]) -> str | None:
    """One line saying what the production shape misses in ``environ``, or None."""
    database_url = environ.get("DATABASE_URL", "")
    if not database_url:
        return "DATABASE_URL is not set (a postgresql://... address)"
    if not database_url.startswith(("postgresql://", "postgres://")):
        return "DATABASE_URL must be a PostgreSQL address (postgresql://...)"
    if not environ.get("REDIS_URL"):
        return "REDIS_URL is not set (a redis://... address)"
    if not environ.get("SECRET_KEY"):
        return "SECRET_KEY is not set"
    if shutil.which("haproxy") is None:
        return "haproxy is not installed (apt-get install haproxy)"
    return None


def _derived(secret_key: str, purpose: str) -> bytes:
    return hashlib.sha256(f"kairos:{purpose}:{secret_key}".encode()).digest()


def loopback_keys(secret_key: str) -> dict[str, str]:
    """The encryption and VAPID keys derived from SECRET_KEY, for a stack served on
    loopback only (`make prod` here) when the environment does not give them; a real
    deployment sets KAIROS_ENCRYPTION_KEYS and VAPID_PRIVATE_KEY itself."""
    vapid = base64.urlsafe_b64encode(_derived(secret_key, "vapid")).rstrip(b"=").decode()
    return {
        "KAIROS_ENCRYPTION_KEYS": base64.urlsafe_b64encode(_derived(secret_key, "fernet")).decode(),
        "VAPID_PRIVATE_KEY": vapid,
    }


class Stack:
    """The processes of the production shape; ``with Stack(...) as stack: stack.url``."""

    def __init__(
        self,
        port: int,
        database_url: str,
        redis_url: str,
        secret_key: str,
        web_instances: int = 2,
        env: dict[str, str] | None = None,
        seed_demo: bool = False,
        workers_per_instance: int = 2,
        threads: int = 8,
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.web_instances = web_instances
        self.seed_demo = seed_demo
        self.workers_per_instance = workers_per_instance
        self.threads = threads
        self.log_dir = Path(tempfile.mkdtemp(prefix="kairos-stack-"))
        self.metrics_dir = self.log_dir / "metrics"
        self.web_ports = [free_port() for _ in range(web_instances)]
        self.web: list[subprocess.Popen] = []
        self.worker: subprocess.Popen | None = None
        self.haproxy: subprocess.Popen | None = None
        given = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": secret_key}
        self.env = (
            dict(os.environ)
            | {"BASE_URL": self.url}
            | loopback_keys(secret_key)
            | {
                k: v
                for k, v in os.environ.items()
                if k in ("KAIROS_ENCRYPTION_KEYS", "VAPID_PRIVATE_KEY")
            }
            | (env or {})
            | given
            | {
                "KAIROS_ENV": "production",
                "HUEY_URL": redis_url,
                "TRUSTED_PROXIES": "1",
                "ALLOW_LOOPBACK_HTTP": "1",  # HAProxy listens on 127.0.0.1 only
                "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            }
        )

    # --- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        problem = requirement_problem(self.env)
        if problem:
            raise RuntimeError(problem)
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        self.metrics_dir.mkdir(parents=True)
        try:
            self._flask("db-upgrade")
            if self.seed_demo:
                self._flask("seed-demo")
            for i in range(self.web_instances):
                self.web.append(self._start_web(i))
            for i, proc in enumerate(self.web):
                _wait_healthy(f"http://127.0.0.1:{self.web_ports[i]}", proc)
            self.haproxy = self._start_haproxy()
            _wait_healthy(self.url, self.haproxy)
            consumer = [str(BIN / "huey_consumer"), "tasks.huey", "--workers", "2"]
            self.worker = self._spawn("worker", [*consumer, "--worker-type", "thread"])
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Terminate every process (its whole group), wait, and leave none behind."""
        procs = [p for p in (self.haproxy, self.worker, *self.web) if p is not None]
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(proc, signal.SIGKILL)  # the group's stragglers too
            proc.wait()
        self.web, self.worker, self.haproxy = [], None, None

    # --- what tests and benches look at -------------------------------------------------

    @property
    def web_pids(self) -> list[int]:
        return [p.pid for p in self.web]

    @property
    def worker_pid(self) -> int | None:
        return self.worker.pid if self.worker else None

    def kill_web(self, i: int) -> None:
        """SIGKILL instance ``i``: its gunicorn master and workers, with no goodbye."""
        _signal_group(self.web[i], signal.SIGKILL)
        self.web[i].wait()
        # Its workers die a moment after the master; until then they hold the socket.
        deadline = time.monotonic() + 10
        while _group_pids(self.web[i].pid) and time.monotonic() < deadline:
            time.sleep(0.01)

    def pids(self) -> dict[str, list[int]]:
        """Every live process of the stack by role (gunicorn workers included), for RSS."""
        roles = {f"web{i}": p for i, p in enumerate(self.web)}
        roles |= {"worker": self.worker, "haproxy": self.haproxy}
        return {
            role: _group_pids(proc.pid)
            for role, proc in roles.items()
            if proc is not None and proc.poll() is None
        }

    def access_log(self, i: int) -> Path:
        return self.log_dir / f"web{i}.access.log"

    # --- the processes -----------------------------------------------------------------

    def _flask(self, command: str) -> None:
        log = self.log_dir / f"{command}.log"
        with log.open("ab") as out:
            done = subprocess.run(
                [str(BIN / "flask"), "--app", "app", command],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, check=False,
            )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"flask {command} failed: see {log}")

    def _start_web(self, i: int) -> subprocess.Popen:
        cmd = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.web_ports[i]}"]
        cmd += ["--workers", str(self.workers_per_instance), "--threads", str(self.threads)]
        cmd += ["--no-control-socket", "--access-logfile", str(self.access_log(i))]
        cmd += ["--graceful-timeout", "5", "app:create_app()"]
        return self._spawn(f"web{i}", cmd)

    def _start_haproxy(self) -> subprocess.Popen:
        servers = "\n".join(
            f"    server web{i} 127.0.0.1:{port} check" for i, port in enumerate(self.web_ports)
        )
        config = self.log_dir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, servers=servers))
        return self._spawn("haproxy", ["haproxy", "-db", "-f", str(config)])

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        # A process group of its own: stopping or killing it reaches its children too.
        with (self.log_dir / f"{name}.log").open("ab") as out:
            return subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _group_pids(pgid: int) -> list[int]:
    """The live processes of group ``pgid`` (zombies, which hold nothing, left out)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after it.
            state, _ppid, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
            if int(group) == pgid and state != "Z":
                pids.append(int(stat.parent.name))
    return sorted(pids)


def _wait_healthy(base: str, proc: subprocess.Popen, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base}/health", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{base} did not become healthy in {limit:.0f} s")


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    problem = requirement_problem(dict(os.environ))
    if problem:
        print(f"make prod: {problem}", file=sys.stderr)
        return 2
    stack = Stack(
        port=int(os.environ.get("PORT", "5000")),
        database_url=os.environ["DATABASE_URL"],
        redis_url=os.environ["REDIS_URL"],
        secret_key=os.environ["SECRET_KEY"],
        web_instances=int(os.environ.get("WEB_INSTANCES", "2")),
        seed_demo=os.environ.get("SEED_DEMO", "") in ("1", "true", "yes"),
    )
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops the stack as Ctrl-C does
    with stack:
        print(f"\n  Kairos (production shape) on {stack.url}  (Ctrl-C stops it)")
        print(f"  processes: {stack.pids()}\n  logs: {stack.log_dir}\n", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while all(p.poll() is None for p in (*stack.web, stack.worker, stack.haproxy)):
                time.sleep(1)
            print("a process of the stack exited; stopping", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

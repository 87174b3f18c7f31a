"""Pages while passwords are being checked: GET /demo idle, and while 16 clients sign in.

    .venv/bin/python -m bench.hashing_bench [--database-url postgresql://...] [--rounds 3]

Every ``POST /api/v1/tokens`` checks a password with argon2id (64 MiB, several lanes), on
purpose slow. The probe asks for the demo organisation's page (``GET /demo``) one request
at a time, 20 ms apart, first with nothing else going on (the floor), then while 16
clients, in a process of their own, post the demo customer's right email and password
as fast as they are answered. Turns alternate; the figures are the medians of the rounds.
Issue 12 (finding 3): 16 parallel token requests took the page from 10 ms to 300 ms; the
page's p50 and p95 under that load should stay within a small multiple of the floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bench.harness import THREADS, WORKERS, connected, gunicorn, scratch_database
from commands.demo import DEMO_PASSWORD, seed_demo

HAMMER_CLIENTS = 16
PROBE_GAP = 0.02  # seconds between two probes: the probe samples, it does not load


def _percentile(ordered: list[float], pct: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else 0.0


def probe(base: str, seconds: float) -> tuple[float, float, int]:
    """GET /demo, one at a time for ``seconds``: p50 and p95 in ms, and how many."""
    host = urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    took: list[float] = []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        began = time.perf_counter()
        conn.request("GET", "/demo")
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        took.append(time.perf_counter() - began)
        time.sleep(PROBE_GAP)
    conn.close()
    took.sort()
    return _percentile(took, 50) * 1e3, _percentile(took, 95) * 1e3, len(took)


def hammer(base: str, polite: bool, stop, results) -> None:
    """In a process of its own: HAMMER_CLIENTS threads posting the demo customer's
    credentials to /api/v1/tokens until ``stop`` is set; puts the status counts. An
    impolite client (the default: the worst case) asks again at once after a 429 or 503;
    a polite one waits as long as Retry-After says."""
    host = urlsplit(base)
    body = json.dumps({"email": "customer@example.com", "password": DEMO_PASSWORD})
    headers = {"Content-Type": "application/json"}
    counts: Counter = Counter()
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
        mine: Counter = Counter()
        while not stop.is_set():
            try:
                conn.request("POST", "/api/v1/tokens", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                mine[response.status] += 1
                if polite and response.status in (429, 503):
                    # A wait as long as gunicorn's keep-alive: start afresh after it.
                    conn.close()
                    time.sleep(float(response.headers.get("Retry-After", "1")))
                    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
                mine["socket error"] += 1
        conn.close()
        with lock:
            counts.update(mine)

    threads = [threading.Thread(target=client) for _ in range(HAMMER_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(dict(counts))


def under_load(base: str, seconds: float, polite: bool) -> tuple[tuple[float, float, int], dict]:
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    process = context.Process(target=hammer, args=(base, polite, stop, results))
    process.start()
    time.sleep(1.0)  # let every client have a request in flight
    measured = probe(base, seconds)
    stop.set()
    counts = results.get(timeout=120)
    process.join(timeout=120)
    return measured, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default SQLite)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument(
        "--polite", action="store_true", help="hammer clients wait for Retry-After on 429/503"
    )
    args = parser.parse_args()

    with scratch_database(args.database_url) as url:
        with connected(url):
            seed_demo(datetime.now(UTC))
        with gunicorn(url) as base:
            print(
                f"database: {url.split(':')[0]} (scratch)   server: gunicorn -w {WORKERS} "
                f"--threads {THREADS}   hammer: {HAMMER_CLIENTS} clients on POST /api/v1/tokens"
            )
            probe(base, 1.0)  # warm up
            idle, busy, hammered = [], [], Counter()
            for n in range(args.rounds):
                for kind in ("idle", "busy") if n % 2 == 0 else ("busy", "idle"):
                    if kind == "idle":
                        idle.append(probe(base, args.seconds))
                        p50, p95, count = idle[-1]
                        print(
                            f"  idle     GET /demo  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({count})"
                        )
                    else:
                        measured, counts = under_load(base, args.seconds, args.polite)
                        busy.append(measured)
                        hammered.update(counts)
                        p50, p95, count = measured
                        rate = sum(v for k, v in counts.items() if k == 201) / args.seconds
                        print(
                            f"  hammered GET /demo  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
                            f"  ({count}); tokens {counts} ≈ {rate:.1f} signed in/s"
                        )

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    floor50, floor95 = median([r[0] for r in idle]), median([r[1] for r in idle])
    busy50, busy95 = median([r[0] for r in busy]), median([r[1] for r in busy])
    print()
    print(
        f"GET /demo while {HAMMER_CLIENTS} clients sign in: p50 {busy50:.1f} ms = "
        f"{busy50 / floor50:.1f}× the idle floor ({floor50:.1f} ms); p95 {busy95:.1f} ms = "
        f"{busy95 / floor95:.1f}× ({floor95:.1f} ms)"
    )
    print(f"token answers over all rounds: {dict(sorted(hammered.items(), key=str))}")


if __name__ == "__main__":
    main()

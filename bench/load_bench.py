"""Load through the load balancer on PostgreSQL: Locust customers booking, providers polling.

    .venv/bin/python -m bench.load_bench [--users 50] [--minutes 5]

The production stack (bench/load/__init__.py) on a scratch PostgreSQL database and a
private redis-server, the demo business seeded with three more providers and one API
token per simulated customer; Locust headless (bench/load/locustfile.py) with ~4
customers to 1 provider, think times 1–5 s, and one probe asking GET /health every
second: its p50 under the same load is the floor. Afterwards a SQL self-join counts
overlapping live bookings of one provider.
Targets (issue 16): p95 < 300 ms, no error but 409 slot_taken, no double bookings.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.booking_bench import DOUBLE_BOOKINGS
from bench.harness import connected
from bench.load import (
    forget_slot_cache_counts,
    production_stack,
    run_locust,
    slot_cache_ratio,
    warm_up,
)
from models import Booking, db

P95_TARGET_MS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated users (default 50)")
    parser.add_argument("--minutes", type=float, default=5, help="how long (default 5)")
    args = parser.parse_args()
    if args.users < 1 or args.minutes <= 0:
        raise SystemExit("--users and --minutes must be positive")

    folder = Path(tempfile.mkdtemp(prefix="kairos-load-bench-"))
    with production_stack(customers=args.users) as (stack, url, redis_url, setup):
        print(
            f"stack at {stack.url}, database {url.rsplit('/', 1)[-1]}; {args.users} users "
            f"(+1 /health probe) for {args.minutes:g} min; Locust files in {folder}"
        )
        warm_up(stack.url, setup)
        forget_slot_cache_counts(redis_url)  # what the warm-up did is not the users'
        report = run_locust(stack.url, setup, users=args.users, minutes=args.minutes, folder=folder)
        cache = slot_cache_ratio(redis_url)
        with connected(url):
            live = Booking.select().where(Booking.status != "cancelled").count()
            doubles = db.execute_sql(DOUBLE_BOOKINGS).fetchone()[0]
    failed = print_report(report, cache, live, doubles)
    if failed:
        raise SystemExit("FAILED: " + "; ".join(failed))


def print_report(report: dict, cache: str, live: int, doubles: int) -> list[str]:
    """Print the figures; return the targets missed."""
    overall, floor = report["overall"], report["floor"] or {"p50": float("nan")}
    print(f"\n{'endpoint (ms)':34} {'requests':>8} {'fail':>5} {'req/s':>7}", end="")
    print(f" {'p50':>6} {'p95':>6} {'p99':>6}")
    for name, row in [*report["endpoints"].items(), ("all but the floor", overall)]:
        print(
            f"{name:34} {row['requests']:8} {row['failures']:5} {row['rps']:7.1f} "
            f"{row['p50']:6.0f} {row['p95']:6.0f} {row['p99']:6.0f}"
        )
    ratio = overall["p95"] / floor["p50"] if floor["p50"] else float("nan")
    print(
        f"\nrequests/s = {overall['rps']:.1f}; p50 {overall['p50']:.0f} ms, p95 "
        f"{overall['p95']:.0f} ms, p99 {overall['p99']:.0f} ms (target p95 < {P95_TARGET_MS} ms)"
    )
    print(
        f"floor: GET /health p50 {floor['p50']:.0f} ms under the same load; "
        f"p95 = {ratio:.1f}× floor"
    )
    print(f"outcomes: {report['outcomes']}")
    errors = report["errors"]
    print(f"errors: {errors or 'none'}" if not errors else "errors by kind:")
    for error in errors:
        print(f"  {error['count']:6} {error['method']} {error['name']}: {error['error']}")
    print(f"slot cache hit ratio (Redis): {cache}")
    print(f"live bookings: {live}; double bookings (overlapping, same provider): {doubles}")
    failed = []
    if not overall["p95"] < P95_TARGET_MS:
        failed.append(f"p95 {overall['p95']:.0f} ms >= {P95_TARGET_MS} ms")
    if errors:
        failed.append(f"{sum(e['count'] for e in errors)} errors other than 409 slot_taken")
    if doubles:
        failed.append(f"{doubles} double bookings")
    return failed


if __name__ == "__main__":
    main()

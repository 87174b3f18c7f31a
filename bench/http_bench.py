"""Slots endpoint versus a trivial JSON route of the same app, under the same server.

    .venv/bin/python -m bench.http_bench [--database-url postgresql://...] [--rounds 5]

The floor is GET /api/v1 (a constant JSON object). The slots request asks for one day of
"Follow-up" (30 minutes, any of four providers) on a weekday that has 50 bookings. Both are
measured in turns, at full load (as many connections as server threads) and light load
(2 connections); the figures are the medians of the rounds.
Targets: slots at least 70% of the floor's requests per second (issue 16), p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bench.harness import (
    THREADS,
    WORKERS,
    WRK_MISSING,
    Load,
    Request,
    connected,
    gunicorn,
    have_wrk,
    python_load,
    scratch_database,
    wrk,
)
from commands.demo import seed_demo
from models import Booking, Organisation, Service, ServiceProvider
from services.booking import appointments as bookings
from services.errors import Invalid, SlotTaken
from services.notifications.outbox import Dispatch
from tests import factories

BUSY_BOOKINGS = 50


def seed(now: datetime) -> tuple[int, date]:
    """Demo data, two more providers for Follow-up, and a weekday with 50 bookings.
    Returns the Follow-up service id and that day."""
    seed_demo(now)
    org = Organisation.get(slug="demo")
    # One bench customer books the whole day: lift the per-customer limits for it.
    Organisation.update(max_future_bookings=1000, max_bookings_per_day=100).where(
        Organisation.id == org.id
    ).execute()
    follow_up = Service.get(organisation=org, name="Follow-up")
    for name in ("Mia Chen", "Sam Okafor"):
        provider = factories.make_provider(org, name)
        ServiceProvider.create(service=follow_up, provider=provider)
    tz = ZoneInfo(org.timezone)
    day = now.astimezone(tz).date() + timedelta(days=14)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    customer = factories.make_user("bench-customer@example.com", "Bench Customer")
    providers = [p.id for p in org.providers]
    made = 0
    for hour in range(9, 17):
        for minute in (0, 30):
            for provider_id in providers:
                if made == BUSY_BOOKINGS:
                    return follow_up.id, day
                try:
                    bookings.book(
                        customer_id=customer.id,
                        service_id=follow_up.id,
                        start=datetime.combine(day, time(hour, minute), tz),
                        provider_id=provider_id,
                        now=now,
                        dispatch=Dispatch(),  # the bench's bookings tell nobody
                    )
                    made += 1
                except (SlotTaken, Invalid):
                    pass  # lunch, or a demo booking already there
    raise RuntimeError(f"only {made} bookings fitted on {day}")


def measure(base: str, path: str, connections: int, seconds: int, use_wrk: bool) -> Load:
    if use_wrk:
        return wrk(base + path, connections=connections, seconds=seconds)
    return python_load(base, connections=connections, seconds=seconds, repeat=Request("GET", path))


def interleaved(base, paths: dict, connections, seconds, rounds, use_wrk) -> dict[str, list[Load]]:
    """Each path ``rounds`` times, taking turns (in alternating order), so that whatever
    else the machine is doing weighs on the floor and the slots alike."""
    runs: dict[str, list[Load]] = {name: [] for name in paths}
    for n in range(rounds):
        for name in paths if n % 2 == 0 else reversed(paths):
            load = measure(base, paths[name], connections, seconds, use_wrk)
            runs[name].append(load)
            print(f"  {name:<6} {load.describe()}")
    return runs


def median_load(loads: list[Load]) -> Load:
    """The round with the median rate."""
    return sorted(loads, key=lambda load: load.rps)[len(loads) // 2]


def seed_and_count(url: str) -> tuple[int, date, int]:
    with connected(url):
        service_id, day = seed(datetime.now(UTC))
        tz = ZoneInfo(Organisation.get(slug="demo").timezone)
        on_day = (
            Booking.select()
            .where(
                (Booking.status != "cancelled")
                & (Booking.start_at >= datetime.combine(day, time(), tz))
                & (Booking.start_at < datetime.combine(day + timedelta(days=1), time(), tz))
            )
            .count()
        )
    return service_id, day, on_day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server URL to make a scratch database on "
        "(default: SQLite in a temporary folder)",
    )
    parser.add_argument("--seconds", type=int, default=4, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=5, help="measurements of each route")
    parser.add_argument(
        "--connections",
        type=int,
        default=WORKERS * THREADS,
        help="concurrent clients at full load (default: the server's threads)",
    )
    parser.add_argument("--light", type=int, default=2, help="concurrent clients at light load")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()

    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and have_wrk())
    if args.loadgen == "wrk" and not have_wrk():
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    if not use_wrk and args.loadgen == "auto":
        print(WRK_MISSING)

    with scratch_database(args.database_url) as url:
        service_id, day, on_day = seed_and_count(url)
        paths = {
            "floor": "/api/v1",
            "slots": f"/api/v1/orgs/demo/slots?service={service_id}&date={day.isoformat()}",
        }
        with gunicorn(url) as base:
            with urllib.request.urlopen(base + paths["slots"]) as response:
                free = len(json.load(response)["slots"])
            print(
                f"database: {url.split(':')[0]} (scratch)   server: gunicorn -w {WORKERS} "
                f"--threads {THREADS}   load: {'wrk' if use_wrk else 'python threads'}, "
                f"{args.rounds} × {args.seconds} s per route and load"
            )
            print(f"slots day {day}: {on_day} bookings in the database, {free} free slots listed")
            print(f"slots request: GET {paths['slots']}")
            for path in paths.values():  # warm up: imports, caches, pooled connections
                measure(base, path, args.connections, 2, use_wrk)
            results = {}
            for label, conns in (("full", args.connections), ("light", args.light)):
                print(f"\n{label} load, {conns} connections:")
                results[label] = interleaved(base, paths, conns, args.seconds, args.rounds, use_wrk)

    full = {name: median_load(loads) for name, loads in results["full"].items()}
    light = {name: median_load(loads) for name, loads in results["light"].items()}
    ratios = sorted(
        s.rps / f.rps
        for f, s in zip(results["full"]["floor"], results["full"]["slots"], strict=True)
    )
    print("\nmedians of the rounds:")
    for name in paths:
        print(f"  {name:<6} full  {full[name].describe()}")
        print(f"  {name:<6} light {light[name].describe()}")
    print(
        f"slots rps = {100 * full['slots'].rps / full['floor'].rps:.0f}% of floor "
        f"({full['slots'].rps:.0f} vs {full['floor'].rps:.0f} req/s; rounds "
        f"{100 * ratios[0]:.0f}–{100 * ratios[-1]:.0f}%; target >= 70%)"
    )
    print(
        f"slots p99 = {full['slots'].p99_ms:.1f} ms at {args.connections} connections, "
        f"{light['slots'].p99_ms:.1f} ms at {args.light} (target < 50 ms)"
    )
    print(
        f"floor p99 = {full['floor'].p99_ms:.1f} ms at {args.connections} connections, "
        f"{light['floor'].p99_ms:.1f} ms at {args.light}"
    )


if __name__ == "__main__":
    main()

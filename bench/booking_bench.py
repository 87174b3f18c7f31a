"""Booking creation through the HTTP API, against a floor route of the same server.

    .venv/bin/python -m bench.booking_bench [--database-url postgresql://...] [--sqlite]

N clients (threads, one keep-alive connection each) post bookings for distinct free slots
(several providers × many weekdays, shuffled) until every slot was asked for once (or
``--contention`` times, by different customers at once). The floor is GET /api/v1 sent
by the same clients; floor and bookings take turns over several rounds and the figures
are medians. At the end a SQL self-join looks for two live bookings of one provider
whose blocked ranges overlap: there must be none.
Target (issue 16): at least 300 bookings/s on PostgreSQL on a 2-core machine, the outbox
written (issue 3 asked for 200/s).
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bench.harness import (
    THREADS,
    WORKERS,
    Request,
    bearer,
    connected,
    gunicorn,
    python_load,
    scratch_database,
)
from models import Booking, db
from services.accounts.auth import issue_token
from tests import factories

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TZ = ZoneInfo("Europe/London")

# Two live bookings of one provider that keep it busy at the same moment.
DOUBLE_BOOKINGS = """
SELECT count(*) FROM booking a JOIN booking b
  ON a.provider_id = b.provider_id AND a.id < b.id
 AND a.block_start < b.block_end AND b.block_start < a.block_end
WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'
"""


def seed(providers: int, customers: int, slots: int, now: datetime) -> tuple[int, list, list]:
    """An organisation whose hour-long service ``providers`` people offer Mon–Fri 09–17,
    customers with API tokens, and the first ``slots`` free (provider, start) pairs."""
    org = factories.make_org("bench")
    # Each client books many slots here: lift the per-customer limits (issue 12).
    org.max_future_bookings, org.max_bookings_per_day = 1_000_000, 1_000
    org.save()
    staff = [factories.make_provider(org, f"Provider {n}") for n in range(providers)]
    service = factories.make_service(org, staff, "Session", 60, max_days_ahead=3660)
    people = [
        factories.make_user(f"client{n}@example.com", f"Client {n}") for n in range(customers)
    ]
    tokens = [issue_token(person, now)[0] for person in people]
    free, day = [], now.astimezone(TZ).date() + timedelta(days=2)
    while len(free) < slots:
        if day.weekday() < 5:
            free += [
                (p.id, datetime.combine(day, time(hour), TZ))
                for hour in range(9, 17)
                for p in staff
            ]
        day += timedelta(days=1)
    return service.id, tokens, free[:slots]


def booking_requests(service_id, tokens, slots, contention: int) -> list[Request]:
    """Every slot ``contention`` times in a row, by different customers; slots shuffled so
    that clients working at once mostly touch different provider-days."""
    slots = list(slots)
    random.Random(3).shuffle(slots)
    requests = []
    for n, (provider_id, start) in enumerate(slots):
        body = json.dumps(
            {"service": service_id, "start": start.isoformat(), "provider": provider_id}
        ).encode()
        for k in range(contention):
            token = tokens[(n * contention + k) % len(tokens)]
            requests.append(Request("POST", "/api/v1/bookings", body, bearer(token)))
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_SERVER,
        help=f"PostgreSQL server to make a scratch database on (default {DEFAULT_SERVER})",
    )
    parser.add_argument("--sqlite", action="store_true", help="use SQLite instead")
    parser.add_argument("--bookings", type=int, default=3000, help="distinct slots to book")
    parser.add_argument("--providers", type=int, default=6)
    parser.add_argument(
        "--clients",
        type=int,
        default=WORKERS * THREADS,
        help="concurrent clients (default: the server's threads)",
    )
    parser.add_argument(
        "--contention",
        type=int,
        default=1,
        help="how many customers ask for each slot at once (default 1)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="floor/bookings turns")
    args = parser.parse_args()

    with scratch_database(None if args.sqlite else args.database_url) as url:
        with connected(url):
            service_id, tokens, slots = seed(
                args.providers, max(args.clients, 20), args.bookings, datetime.now(UTC)
            )
        posts = booking_requests(service_id, tokens, slots, args.contention)
        floor_gets = [Request("GET", "/api/v1")] * max(len(posts), 1000)
        with gunicorn(url) as base:
            print(
                f"database: {url.split(':')[0]} (scratch)   server: gunicorn -w {WORKERS} "
                f"--threads {THREADS}   load: {args.clients} client threads"
            )
            print(
                f"{len(slots)} free slots ({args.providers} providers, {slots[0][1].date()}"
                f" to {slots[-1][1].date()}), each asked for {args.contention}×"
            )
            python_load(base, floor_gets[:500], connections=args.clients)  # warm up
            floors, rounds = [], []
            size = -(-len(slots) // args.rounds) * args.contention  # whole contention groups
            for n in range(args.rounds):
                chunk = posts[n * size : (n + 1) * size]
                # Take turns, in alternating order, so that whatever else the machine is
                # doing weighs on the floor and the bookings alike.
                for kind in ("floor", "book") if n % 2 == 0 else ("book", "floor"):
                    if kind == "floor":
                        floors.append(
                            python_load(
                                base, floor_gets[: max(len(chunk), 1000)], connections=args.clients
                            )
                        )
                        print(f"  floor    GET /api/v1           {floors[-1].describe()}")
                    else:
                        rounds.append(python_load(base, chunk, connections=args.clients))
                        print(f"  bookings POST /api/v1/bookings  {rounds[-1].describe()}")
        with connected(url):
            rows = Booking.select().where(Booking.status != "cancelled").count()
            doubles = db.execute_sql(DOUBLE_BOOKINGS).fetchone()[0]

    statuses = sum((r.statuses for r in rounds), Counter())
    errors = sum(r.errors for r in rounds)
    created = statuses[201]
    rates = sorted(r.statuses[201] / r.seconds for r in rounds)
    ratios = sorted(
        r.statuses[201] / r.seconds / f.rps for r, f in zip(rounds, floors, strict=True)
    )
    floor_rps = sorted(f.rps for f in floors)[len(floors) // 2]
    rate, overall = rates[len(rates) // 2], created / sum(r.seconds for r in rounds)
    print()
    print(
        f"bookings/s = {rate:.0f} (median of {len(rounds)} rounds; {overall:.0f} overall) = "
        f"{100 * rate / floor_rps:.0f}% of floor ({floor_rps:.0f} req/s; rounds "
        f"{100 * ratios[0]:.0f}–{100 * ratios[-1]:.0f}%); target >= 300/s on PostgreSQL"
    )
    print(f"responses: {dict(sorted(statuses.items()))}, socket errors: {errors}")
    print(f"live bookings in the database: {rows} (201 responses: {created})")
    print(f"double bookings (overlapping blocks, same provider): {doubles}")
    unexpected = {code for code in statuses if code not in (201, 409)}
    if doubles or rows != created or unexpected or errors:
        raise SystemExit("FAILED: double bookings, lost bookings or errors (see above)")


if __name__ == "__main__":
    main()

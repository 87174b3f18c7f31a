"""The workspace schedule's live updates: what one poll costs the server.

Every open schedule asks again every 5 seconds. Measured in-process (Flask test client,
SQLite, demo data: two providers and a fortnight of bookings), signed in as the owner:
(a) a poll when nothing changed — the ETag matches, the answer is 304 with no body;
(b) a poll after a change — the whole day's schedule fragment is rendered;
(c) the full day page. The floor is GET /health in the same process and run.
Medians of --calls requests, best of two turns.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

from app import create_app
from bench.harness import connected, scratch_database
from commands.demo import seed_demo
from config import Settings
from models import User
from tests.factories import make_sign_in

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}


def median_ms(client, path: str, calls: int, headers=None, expect: int = 200) -> float:
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append(time.perf_counter() - began)
        assert response.status_code == expect, (path, response.status_code)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="requests per median")
    args = parser.parse_args()
    with scratch_database(None) as url:
        with connected(url):
            seed_demo(datetime.now(UTC))
            owner = User.get(User.email == "owner@example.com")
            key = make_sign_in(owner, datetime.now(UTC))
        app = create_app(Settings(database_url=url, secret_key="bench", env="production"))
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = key, True
        path = "/w/demo"
        tag = client.get(path, headers=PARTIAL).headers["ETag"]
        unchanged = PARTIAL | {"If-None-Match": tag}
        changed = PARTIAL | {"If-None-Match": '"stale"'}
        for _ in range(20):  # warm up: imports, templates, prepared queries
            client.get("/health")
            client.get(path, headers=unchanged)
        results: dict[str, list[float]] = {}
        for _turn in range(2):
            results.setdefault("floor", []).append(median_ms(client, "/health", args.calls))
            results.setdefault("304", []).append(
                median_ms(client, path, args.calls, unchanged, expect=304)
            )
            results.setdefault("fragment", []).append(median_ms(client, path, args.calls, changed))
            results.setdefault("page", []).append(median_ms(client, path, args.calls))
        best = {name: min(values) for name, values in results.items()}
        floor = best["floor"]
        print(f"schedule polls, GET {path} as the owner (2 providers), {args.calls} calls a median")
        print(f"  floor GET /health = {floor:.2f} ms")
        for name, label in [
            ("304", "poll, nothing changed (304, no body)"),
            ("fragment", "poll after a change (the day's fragment)"),
            ("page", "the whole page"),
        ]:
            print(f"  {label} = {best[name]:.2f} ms  ({best[name] / floor:.1f}× the floor)")
        print(f"  a 304 costs {best['304'] / best['fragment']:.0%} of a fragment render")


if __name__ == "__main__":
    main()

"""What a request costs the app beyond what Flask itself costs: the per-request overhead.

    .venv/bin/python -m bench.request_bench [--database-url postgresql://...] [--calls 1000]

Measured in-process (Flask test client, one per route, so no cookies), on demo data. The floor is a
bare Flask app's trivial JSON route, in the same process and run. Then, in the app:
(a) GET /health; (b) GET /bench/select-1, a route the benchmark adds to the app that runs
one ``SELECT 1`` (a request that takes a connection, runs the cheapest query and gives the
connection back, whatever /health does); (c) GET /bench/constant, a route added the same
way that asks the database nothing (the app's own hooks: session, security headers, rate
limits' bookkeeping); (d) GET /demo, the demo business's page, which reads the database.
Medians of --calls requests, best of two turns.
Target (issue 16): /health within 2× the floor.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from flask import Flask, jsonify

from app import create_app
from bench.harness import best_medians, connected, get, scratch_database
from commands.demo import seed_demo
from config import Settings
from models import db

STEPS = {
    "health": ("/health", "(a) GET /health"),
    "select": ("/bench/select-1", "(b) one SELECT 1 (a route added here)"),
    "nothing": ("/bench/constant", "(c) no query (a route added here)"),
    "demo": ("/demo", "(d) GET /demo, the business page"),
}


def bare_flask() -> Flask:
    """The floor: what Flask costs with nothing of ours in the way."""
    app = Flask(__name__)

    @app.get("/")
    def constant():
        return jsonify({"status": "ok"})

    return app


def kairos(url: str) -> Flask:
    app = create_app(Settings(database_url=url, secret_key="bench", env="production"))

    @app.get("/bench/select-1")
    def select_1():
        db.execute_sql("SELECT 1").fetchone()
        return jsonify({"status": "ok"})

    @app.get("/bench/constant")
    def constant():
        return jsonify({"status": "ok"})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="a PostgreSQL server URL")
    parser.add_argument("--calls", type=int, default=1000, help="requests per median")
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        with connected(url):
            seed_demo(datetime.now(UTC))
        app = kairos(url)
        # A client each, so that no step carries the cookies another was given (the
        # business page sets some): a health check or first visit comes with none.
        steps = {"floor": get(bare_flask().test_client(), "/")}
        steps |= {name: get(app.test_client(), path) for name, (path, _label) in STEPS.items()}
        best = best_medians(steps, args.calls)
        floor = best["floor"]
        print(f"per-request cost, {url.split(':')[0]}, in-process, {args.calls} calls a median")
        print(f"  floor: a bare Flask route = {floor:.3f} ms")
        for name, (_path, label) in STEPS.items():
            print(f"  {label} = {best[name]:.3f} ms  ({best[name] / floor:.2f}× the floor)")
        verdict = "met" if best["health"] <= 2 * floor else "NOT met"
        print(f"/health = {best['health'] / floor:.2f}× the floor; target <= 2× ({verdict})")


if __name__ == "__main__":
    main()

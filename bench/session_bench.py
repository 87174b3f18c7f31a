"""What being signed in costs a request: the user loader, and a signed-in page.

    .venv/bin/python -m bench.session_bench [--database-url postgresql://...] [--calls 300]

Measured in-process (Flask test client), on demo data, signed in through the sign-in form
as a customer: (a) the user loader alone, for the value the session cookie carries, on an open
connection;
(b) GET /appointments, the customer's own list; (c) GET /account/profile. The floor is
GET /health in the same process and run. Medians of --calls requests, best of two turns.
The sign-in goes through the front door, so the same script measures any version of the
sign-in (a user id in the cookie, or a sign-in's key).
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime

from app import create_app
from bench.harness import best_medians, connected, get, scratch_database
from commands.demo import seed_demo
from config import Settings
from tests import factories
from views import web

CUSTOMER = "bench-customer@example.com"


def sign_in(client) -> str:
    """Sign in with the form; the value flask-login keeps in the session."""
    page = client.get("/account/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "email": CUSTOMER, "password": factories.PASSWORD}
    assert client.post("/account/sign-in", data=form).status_code == 303
    with client.session_transaction() as session:
        return session["_user_id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="a PostgreSQL server URL")
    parser.add_argument("--calls", type=int, default=300, help="requests per median")
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        with connected(url):
            seed_demo(datetime.now(UTC))
            factories.make_user(CUSTOMER, "Bench Customer")
        settings = Settings(database_url=url, secret_key="bench", env="production")
        app = create_app(settings)
        client = app.test_client()
        carried = sign_in(client)

        context = app.test_request_context("/")
        context.push()  # one request context and connection for the loader's calls
        app.preprocess_request()

        def load_user() -> None:
            assert web.load_user(carried) is not None

        steps = {
            "floor": get(client, "/health"),
            "loader": load_user,
            "list": get(client, "/appointments"),
            "profile": get(client, "/account/profile"),
        }
        best = best_medians(steps, args.calls)
        floor = best["floor"]
        print(f"signed in as a customer, {url.split(':')[0]}, {args.calls} calls a median")
        print(f"  the session carries {len(carried)} characters")
        print(f"  floor GET /health = {floor:.3f} ms")
        for name, label in [
            ("loader", "user loader alone (connection open)"),
            ("list", "GET /appointments"),
            ("profile", "GET /account/profile"),
        ]:
            print(f"  {label} = {best[name]:.3f} ms  ({best[name] / floor:.2f}× the floor)")
        app.do_teardown_request()
        context.pop()


if __name__ == "__main__":
    main()

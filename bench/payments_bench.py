"""What paying online adds to booking, and what the webhook costs, against localstripe.

    .venv/bin/python -m bench.payments_bench [--database-url postgresql://...] [--calls 60]

In-process (Flask test client) on a scratch database, with localstripe started on a free
port as the app's Stripe. Each figure is the median of --calls requests, as a ratio to
the floor, measured in the same run: (floor) booking a pay-at-venue service through the
API; (a) booking a service with a deposit (the hold plus the PaymentIntent's creation);
(b) paying it with a card token (Stripe's confirm, then the booking confirmed and the
notifications written); (c) a signed payment_intent.succeeded webhook seen before (a
replay: verified, then ignored); (d) a signed webhook for an intent that is not ours
(verified, recorded, nothing to do). localstripe answers in a few milliseconds on
loopback; Stripe itself is 100–300 ms away, which (a) and (b) would add on top.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from app import create_app
from bench.harness import connected, scratch_database
from config import Settings
from services.accounts.auth import issue_token
from tests import factories
from tests import localstripe as ls


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1e3


def signed(event: dict) -> tuple[bytes, dict]:
    body = json.dumps(event).encode()
    at = int(time.time())
    mac = hmac.new(ls.WEBHOOK_SECRET.encode(), f"{at}.".encode() + body, hashlib.sha256)
    return body, {"Stripe-Signature": f"t={at},v1={mac.hexdigest()}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="a PostgreSQL server URL")
    parser.add_argument("--calls", type=int, default=60, help="requests per median")
    args = parser.parse_args()
    with ls.localstripe() as stripe_local, scratch_database(args.database_url) as url:
        with connected(url):
            org = factories.make_org("bench")
            org.max_future_bookings, org.max_bookings_per_day = 100_000, 10_000
            org.save()
            allday = [(clock_time(0), clock_time(23, 59))]
            provider = factories.make_provider(
                org, "Round The Clock", hours=allday, weekdays=range(7)
            )
            venue = factories.make_service(org, [provider], "At the venue", 15, max_days_ahead=365)
            deposit = factories.make_service(
                org,
                [provider],
                "With a deposit",
                15,
                max_days_ahead=365,
                payment_mode="deposit",
                deposit_cents=2000,
            )
            customer = factories.make_user("bench@example.com", "Bench Customer")
            token, _ = issue_token(customer, datetime.now(UTC))
        settings = Settings(
            database_url=url,
            secret_key="bench",
            env="production",
            encryption_keys=(factories_key(),),
            rate_limit_scale=0,
            stripe_secret_key=ls.SECRET_KEY,
            stripe_publishable_key=ls.PUBLISHABLE_KEY,
            stripe_webhook_secret=ls.WEBHOOK_SECRET,
            stripe_api_base=stripe_local.base_url,
        )
        app = create_app(settings)
        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
        every = (first + timedelta(minutes=15 * i) for i in range(1_000_000))
        # The day's hours end at 23:59: the last quarter's slot would end after them.
        starts = (s.isoformat() for s in every if (s.hour, s.minute) != (23, 45))

        def book(service) -> tuple[float, dict]:
            body = {"service": service.id, "start": next(starts)}
            began = time.perf_counter()
            response = client.post("/api/v1/bookings", json=body, headers=auth)
            spent = time.perf_counter() - began
            assert response.status_code == 201, response.json
            return spent, response.json

        floor = [book(venue)[0] for _ in range(args.calls)]
        held = [book(deposit) for _ in range(args.calls)]
        paying = []
        for _, made in held:
            card = stripe_local.card_token()
            began = time.perf_counter()
            response = client.post(
                f"/api/v1/bookings/{made['id']}/payment", json={"token": card}, headers=auth
            )
            paying.append(time.perf_counter() - began)
            assert response.json["status"] == "confirmed", response.json
        intent = held[0][1]["payment"]["client_secret"].split("_secret_")[0]
        seen = {
            "id": "evt_bench_seen",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": intent, "object": "payment_intent"}},
        }
        client.post("/stripe/webhook", data=signed(seen)[0], headers=signed(seen)[1])

        def webhook(event: dict) -> float:
            body, headers = signed(event)
            began = time.perf_counter()
            response = client.post("/stripe/webhook", data=body, headers=headers)
            spent = time.perf_counter() - began
            assert response.status_code == 200, response.get_data(as_text=True)
            return spent

        replays = [webhook(seen) for _ in range(args.calls)]
        strangers = [
            webhook(
                {
                    "id": f"evt_bench_{i}",
                    "type": "payment_intent.succeeded",
                    "data": {"object": {"id": f"pi_not_ours_{i}", "object": "payment_intent"}},
                }
            )
            for i in range(args.calls)
        ]
    base = median_ms(floor)
    print(
        f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; "
        f"{args.calls} requests per figure, medians"
    )
    print(f"floor  booking, paid at the venue       {base:7.2f} ms   1.00x")
    for label, times in (
        ("(a)    booking with a deposit (hold)  ", [t for t, _ in held]),
        ("(b)    paying it with a card token    ", paying),
        ("(c)    webhook, a replayed event      ", replays),
        ("(d)    webhook, an intent not ours    ", strangers),
    ):
        ms = median_ms(times)
        print(f"{label} {ms:7.2f} ms  {ms / base:5.2f}x")


def factories_key() -> str:
    from tests.server import TEST_ENCRYPTION_KEY

    return TEST_ENCRYPTION_KEY


if __name__ == "__main__":
    main()

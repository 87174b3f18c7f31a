"""Locust users for the load and soak benches: customers booking, providers watching.

Run by bench/load_bench.py and bench/soak_bench.py, which seed the database and pass
what the users need (service ids, API tokens, staff logins) in the JSON file named by
KAIROS_LOAD_SETUP. When Locust quits, a summary (percentiles per endpoint without the
floor probe, errors by kind, outcomes such as 409 slot_taken) goes to KAIROS_LOAD_REPORT.

- Customer (weight 4): the business page, a service's provider choice, the day-and-time
  picker (the full page, then the htmx partial for another day or two), then books one of
  the times it was shown through the JSON API with its bearer token. 409 slot_taken
  (someone was quicker) is an expected outcome, counted apart; any other non-2xx fails.
- Provider (weight 1): signs in through the form, then polls the day's schedule every 5 s
  as the workspace does (htmx partial with If-None-Match: 304 until something changes),
  and now and then opens one of the bookings on it.
- Probe (one user): GET /health once a second, the floor the others are compared with.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from locust import FastHttpUser, between, constant, events, task

SETUP = json.loads(Path(os.environ["KAIROS_LOAD_SETUP"]).read_text())
SLUG = SETUP["slug"]
PICKER_PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial", "HX-Target": "div#picker"}
SCHEDULE_PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
FLOOR = "GET /health (floor)"
OUTCOMES: Counter = Counter()
_tokens = itertools.cycle(SETUP["tokens"])
_staff = itertools.cycle(SETUP["staff"])


def _starts(html: str) -> list[str]:
    return re.findall(r'class="slot" data-start="([^"]+)"', html)


class Customer(FastHttpUser):
    weight = 4
    wait_time = between(1, 5)

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {next(_tokens)}"}

    @task
    def browse_and_book(self) -> None:
        service = random.choice(SETUP["services"])
        picker = f"/{SLUG}/book/{service}/when?provider=any"
        self.client.get(f"/{SLUG}", name="GET /<org>")
        self.wait()
        self.client.get(f"/{SLUG}/book/{service}", name="GET /<org>/book/<service>")
        self.wait()
        starts = _starts(self.client.get(picker, name="GET picker (page)").text or "")
        for _ in range(random.randint(1, 2)):
            self.wait()
            day = datetime.now(UTC).date() + timedelta(days=random.randint(3, SETUP["days_ahead"]))
            with self.client.get(
                f"{picker}&day={day.isoformat()}",
                headers=PICKER_PARTIAL,
                name="GET picker (htmx day)",
                catch_response=True,
            ) as response:
                shown = _starts(response.text or "")
                starts = shown or starts
        if not starts:
            OUTCOMES["no time shown"] += 1
            return
        self.wait()
        self.book(service, random.choice(starts))

    def book(self, service: int, start: str) -> None:
        with self.client.post(
            "/api/v1/bookings",
            json={"service": service, "start": start},
            headers=self.auth,
            name="POST /api/v1/bookings",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                OUTCOMES["booked (201)"] += 1
            elif response.status_code == 409 and _error_code(response) == "slot_taken":
                OUTCOMES["slot taken (409)"] += 1
                response.success()
            else:
                response.failure(f"{response.status_code} {_error_code(response)}")


def _error_code(response) -> str:
    try:
        return str(response.json().get("error"))
    except (ValueError, AttributeError):
        return "(not JSON)"


class Provider(FastHttpUser):
    weight = 1
    wait_time = constant(5)  # the workspace's hx-trigger="every 5s"

    def on_start(self) -> None:
        login = next(_staff)
        form = self.client.get("/account/sign-in", name="GET /account/sign-in").text or ""
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        token = found.group(1) if found else ""
        with self.client.post(
            "/account/sign-in",
            data={"email": login["email"], "password": login["password"], "csrf_token": token},
            headers={"X-CSRFToken": token},
            name="POST /account/sign-in",
            catch_response=True,
        ) as response:
            if response.status_code >= 400 or 'type="password"' in (response.text or ""):
                response.failure(f"sign-in as {login['email']} failed ({response.status_code})")
        page = self.client.get(f"/w/{SLUG}", name="GET /w/<org> (page)")
        self.bookings, self.etag = self._bookings(page.text), ""

    @staticmethod
    def _bookings(html: str | None) -> list[str]:
        return re.findall(rf"/w/{SLUG}/bookings/(\d+)", html or "")

    @task(6)
    def poll_schedule(self) -> None:
        headers = SCHEDULE_PARTIAL | ({"If-None-Match": self.etag} if self.etag else {})
        with self.client.get(
            f"/w/{SLUG}", headers=headers, name="GET /w/<org> (poll)", catch_response=True
        ) as response:
            tag = response.headers.get("ETag")
            if response.status_code == 304 or (response.status_code == 200 and tag):
                OUTCOMES[f"schedule poll {response.status_code}"] += 1
                if response.status_code == 200:  # changed: a new tag, maybe new bookings
                    self.etag, self.bookings = tag, self._bookings(response.text) or self.bookings
                response.success()
            else:  # a sign-in page instead of the fragment, or an error
                response.failure(f"schedule poll {response.status_code} without an ETag")

    @task(1)
    def open_booking(self) -> None:
        if self.bookings:
            booking = random.choice(self.bookings)
            self.client.get(f"/w/{SLUG}/bookings/{booking}", name="GET /w/<org>/bookings/<id>")


class Probe(FastHttpUser):
    fixed_count = 1
    wait_time = constant(1)

    @task
    def health(self) -> None:
        self.client.get("/health", name=FLOOR)


@events.quitting.add_listener
def write_report(environment, **_kwargs) -> None:
    path = os.environ.get("KAIROS_LOAD_REPORT")
    if path:
        Path(path).write_text(json.dumps(summary(environment.stats), indent=1))


def summary(stats) -> dict:
    """Figures per endpoint and for all but the floor together, in milliseconds."""
    from locust.stats import StatsEntry

    overall = StatsEntry(stats, "all but the floor", "")
    seconds = max(stats.total.last_request_timestamp - stats.total.start_time, 1.0)
    rows = {}
    for (name, _method), entry in sorted(stats.entries.items()):
        rows[name] = _figures(entry, seconds)
        if name != FLOOR:
            overall.extend(entry)
    return {
        "seconds": seconds,
        "overall": _figures(overall, seconds),
        "endpoints": rows,
        "floor": rows.get(FLOOR),
        "errors": [
            {"name": e.name, "method": e.method, "error": str(e.error), "count": e.occurrences}
            for e in stats.errors.values()
        ],
        "outcomes": dict(OUTCOMES),
    }


def _figures(entry, seconds: float) -> dict:
    pct = entry.get_response_time_percentile
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": entry.num_requests / seconds,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
    }

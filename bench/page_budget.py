"""The booking page's budgets (issue 4): bytes on the first load, and the picker partial's
server-side render time on a busy day.

    .venv/bin/python -m bench.page_budget [--calls 200]

(a) Starts the app under gunicorn (production settings) on a scratch SQLite database with
the demo data, opens the "pick a day and time" page in Chromium at iPhone 13 size with a
fresh cache, and adds up the bytes transferred (compressed bodies plus headers) of every
response the page received until the network went idle. Budget: 50 KB.

(b) In this process, with the Flask test client, renders the picker partial (the request
htmx sends when a day is tapped) for a weekday with 50 bookings, ``--calls`` times, and
compares the median with GET /health measured in the same run. Budget: 50 ms. The slot
lists are cached under the providers' calendar versions, so the figure is printed twice:
as served (cache warm), and with that cache cleared before every call (the first render
after any booking changes that day).

Nothing here asserts; it prints figures.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from datetime import UTC, date, datetime

from playwright.sync_api import sync_playwright

from app import create_app
from bench.harness import gunicorn, scratch_database
from bench.http_bench import seed_and_count
from config import Settings
from services.booking import slots as availability

BUDGET_KB, BUDGET_MS = 50, 50
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial", "HX-Target": "div#picker"}


def first_load(base: str, path: str) -> tuple[list, list]:
    """(url, body bytes, header bytes) of every response to a first visit of ``path``:
    the page's own, and then those of its service worker (installing in the background,
    after the page has loaded: not part of the first load, but shown)."""
    page_seen, all_seen = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(**pw.devices["iPhone 13"])
        context.on("response", lambda response: all_seen.append(response))
        page = context.new_page()
        page.on("response", lambda response: page_seen.append(response))
        page.goto(base + path, wait_until="networkidle")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_load_state("networkidle")

        def sizes(responses):
            found = []
            for response in responses:
                size = response.request.sizes()
                found.append((response.url, size["responseBodySize"], size["responseHeadersSize"]))
            return found

        own = sizes(page_seen)
        worker = sizes([r for r in all_seen if r not in page_seen])
        browser.close()
    return own, worker


def median_ms(client, path: str, calls: int, headers=None, before=None) -> float:
    times = []
    for _ in range(calls):
        if before:
            before()
        began = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times) * 1e3


def picker_render(url: str, service_id: int, day: date, calls: int) -> dict[str, float]:
    app = create_app(Settings(database_url=url, secret_key="bench", env="production"))
    client = app.test_client()
    path = f"/demo/book/{service_id}/when?provider=any&month={day:%Y-%m}&day={day.isoformat()}"
    body = client.get(path, headers=PARTIAL).get_data(as_text=True)
    if "<html" in body or 'class="slot"' not in body:
        raise SystemExit(f"expected the picker fragment with free times, got:\n{body[:500]}")
    for _ in range(20):  # warm up: imports, templates, prepared queries
        client.get("/health")
        client.get(path, headers=PARTIAL)
    results = {}
    for _turn in range(2):  # two turns, floor and picker alternating, to share the noise
        results.setdefault("floor", []).append(median_ms(client, "/health", calls))
        results.setdefault("warm", []).append(median_ms(client, path, calls, PARTIAL))
        results.setdefault("cold", []).append(
            median_ms(client, path, calls, PARTIAL, availability._slots_for.cache_clear)
        )
    return {name: min(values) for name, values in results.items()} | {"path": path}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="renders per median")
    args = parser.parse_args()

    with scratch_database(None) as url:
        service_id, day, on_day = seed_and_count(url)
        path = f"/demo/book/{service_id}/when?provider=any"
        with gunicorn(url) as base:
            responses, worker = first_load(base, path)
        body = sum(b for _, b, _ in responses)
        headers = sum(h for _, _, h in responses)
        print(f"first load of {path} at iPhone 13 size, fresh cache:")
        for address, b, h in responses:
            print(f"  {b / 1024:6.1f} KB body + {h / 1024:4.1f} KB headers  {address[len(base) :]}")
        print(
            f"first load = {(body + headers) / 1024:.1f} KB transferred (budget {BUDGET_KB} KB)"
            f"  [{len(responses)} responses: {body / 1024:.1f} KB bodies,"
            f" {headers / 1024:.1f} KB headers]"
        )
        later = sum(b + h for _, b, h in worker)
        print(
            f"  then the service worker fetched {len(worker)} responses, {later / 1024:.1f} KB,"
            " in the background (not counted)"
        )
        for address, b, h in worker:
            print(f"  {b / 1024:6.1f} KB body + {h / 1024:4.1f} KB headers  {address[len(base) :]}")

        started = datetime.now(UTC)
        figures = picker_render(url, service_id, day, args.calls)
        print(f"\npicker partial: GET {figures['path']} with {' '.join(PARTIAL)} headers")
        print(f"  {day}: {on_day} bookings that day; {args.calls} calls a median, best of 2 turns")
        floor = figures["floor"]
        print(f"  floor GET /health = {floor:.2f} ms median")
        print(
            f"picker partial = {figures['warm']:.1f} ms median "
            f"({figures['warm'] / floor:.0f}× the floor; budget {BUDGET_MS} ms)"
        )
        print(
            f"picker partial, slot cache cleared each call = {figures['cold']:.1f} ms median "
            f"({figures['cold'] / floor:.0f}× the floor; budget {BUDGET_MS} ms)"
        )
        print(f"  (measured in {(datetime.now(UTC) - started).total_seconds():.0f} s)")


if __name__ == "__main__":
    main()

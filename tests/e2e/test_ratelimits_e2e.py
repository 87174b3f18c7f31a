"""Rate limits in a real browser, on a 390 px phone and a 1180 px tablet: the sign-in form
refused (what was typed stays, the page says when to try again), and a booking refused
(the "try again later" page). Each limit is used up beforehand by writing its counter
in the database, as a run of tries would leave it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from models import RateLimit
from services.ratelimits import LIMITS, bucket
from tests import factories
from tests.e2e.conftest import sign_in

SIZES = {
    "phone-390": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "tablet-1180": {"viewport": {"width": 1180, "height": 820}, "has_touch": True},
}


@pytest.fixture(params=list(SIZES))
def screen(request, browser):
    context = browser.new_context(**SIZES[request.param], device_scale_factor=2)
    page = context.new_page()
    page.size_name = request.param
    yield page
    context.close()


def used_up(name: str, key: str) -> None:
    """Limit ``name`` for ``key`` used up, as ``count`` tries just now leave it."""
    limit = LIMITS[name]
    ahead = limit.period.total_seconds()
    RateLimit.insert(bucket=bucket(name, key), tat=time.time() + ahead, period=ahead).execute()


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_sign_in_refused_keeps_the_email_and_says_when(screen, e2e_server, clinic):
    used_up("sign_in_per_email", "casey@example.com")
    screen.goto(f"{e2e_server}/account/sign-in")
    screen.get_by_label("Email").fill("casey@example.com")
    screen.get_by_label("Password").fill(factories.PASSWORD)
    screen.get_by_role("button", name="Sign in").click()

    expect(screen.get_by_text("Too many tries. Try again in 2 minutes.")).to_be_visible()
    expect(screen.get_by_label("Email")).to_have_value("casey@example.com")
    expect(screen.get_by_label("Password")).to_have_value("")
    fits(screen)
    screen.screenshot(path=f"test-results/screenshots/ratelimit-sign-in-{screen.size_name}.png")


def test_a_booking_refused_says_when_to_try_again(screen, e2e_server, clinic):
    customer = clinic["customer"]
    used_up("bookings_per_customer", str(customer.id))
    sign_in(screen, e2e_server, customer.email)
    start = datetime(2026, 11, 30, 10, tzinfo=UTC)
    while start < datetime.now(UTC) + timedelta(days=2):  # a weekday ahead of the real clock
        start += timedelta(days=7)
    service = clinic["follow_up"]
    query = urlencode({"start": start.isoformat(), "provider": clinic["ana"].id})
    screen.goto(f"{e2e_server}/clinic/book/{service.id}/review?{query}")
    screen.get_by_role("button", name="Confirm booking").click()

    expect(screen.get_by_role("heading", name="Try again later")).to_be_visible()
    expect(screen.get_by_text("Too many bookings. Try again in 3 minutes.")).to_be_visible()
    fits(screen)
    screen.screenshot(path=f"test-results/screenshots/ratelimit-booking-{screen.size_name}.png")

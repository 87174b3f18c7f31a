"""The workspace on iPad landscape and portrait: a provider's schedule updating by itself
when a customer books through the API, and a walk-in booked, seen and completed.

The server runs on the real clock. The walk-in's business is put in a time zone where it
is now daytime, with hours all day, so that "now" always has free time to book.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from models import Booking, Membership
from services.accounts.auth import issue_token
from tests import factories
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page

TABLETS = ["iPad (gen 7) landscape", "iPad (gen 7)"]
pytestmark = pytest.mark.parametrize("device", TABLETS, indirect=True)
LONDON = ZoneInfo("Europe/London")
# Zones 3–5 hours apart: in one of them it is always between 08:00 and 18:00.
DAYTIME_ZONES = [
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Pacific/Honolulu",
]


def next_weekday(days_ahead: int = 2):
    day = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_an_api_booking_appears_on_the_open_schedule_within_10_seconds(screen, e2e_server, clinic):
    day = next_weekday()
    sign_in(screen, e2e_server, "ana@clinic.test", f"/w/clinic?date={day.isoformat()}")
    expect(screen.locator(".ws-column")).to_have_count(1)
    expect(screen.locator(".ws-booking")).to_have_count(0)
    screen.evaluate("window.stillTheSamePage = true")

    token, _ = issue_token(clinic["customer"], datetime.now(UTC))
    start = datetime.combine(day, time(11), LONDON)
    made = requests.post(
        f"{e2e_server}/api/v1/bookings",
        json={"service": clinic["assessment"].id, "start": start.isoformat()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert made.status_code == 201, made.text

    block = screen.locator(".ws-booking", has_text="11:00 Casey Morgan")
    expect(block).to_be_visible(timeout=10_000)
    assert screen.evaluate("window.stillTheSamePage") is True  # updated in place, no reload
    screenshot(screen, "workspace-live-update")

    # A cancellation through the API goes the same way.
    booking_id = made.json()["id"]
    gone = requests.post(
        f"{e2e_server}/api/v1/bookings/{booking_id}/cancel",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert gone.status_code in (200, 204), gone.text
    expect(block).to_have_count(0, timeout=10_000)
    expect(screen.locator(".ws-cancelled summary")).to_have_text("1 cancelled")


@pytest.fixture
def daytime_business(app):
    """A business where it is daytime now, whose provider works every hour of every day."""
    now = datetime.now(UTC)
    zone = next(z for z in DAYTIME_ZONES if 8 <= now.astimezone(ZoneInfo(z)).hour < 18)
    org = factories.make_org("desk", timezone=zone)
    user = factories.make_user("pat@desk.test", "Pat Desk")
    provider = factories.make_provider(
        org, "Pat Desk", user=user, hours=[(time(0), time(23, 45))], weekdays=range(7)
    )
    factories.make_service(org, [provider], "Quick check", 15, price_cents=2000)
    assert Membership.select().where(Membership.user == user).count() == 1
    return org


def test_a_walk_in_is_booked_seen_and_completed(screen, e2e_server, daytime_business):
    sign_in(screen, e2e_server, "pat@desk.test", "/w/desk")
    screenshot(screen, "workspace-day")
    screen.locator(".ws-free").first.click()
    panel = screen.locator("#panel")
    expect(panel.get_by_role("heading", name="New booking with Pat Desk")).to_be_visible()
    expect(panel.get_by_role("heading", name="New booking with Pat Desk")).to_be_focused()

    panel.get_by_role("button", name="Book").click()  # nobody chosen yet
    expect(panel.get_by_text("Choose a customer, or add a new one.")).to_be_visible()
    screenshot(screen, "workspace-walk-in-error")
    panel.get_by_text("New customer").click()
    panel.get_by_label("Name").fill("Wally Walker")
    panel.get_by_label("Walk-in").check()
    screenshot(screen, "workspace-walk-in-form")
    panel.get_by_role("button", name="Book").click()

    expect(panel.get_by_text(re.compile(r"Booked Wally Walker for \d\d:\d\d\."))).to_be_visible()
    block = screen.locator(".ws-booking", has_text="Wally Walker")
    expect(block).to_be_visible()  # the schedule refreshed itself
    expect(block).to_contain_text("walk-in")

    panel.get_by_role("button", name="Completed").click()
    expect(panel.get_by_text("Marked completed.")).to_be_visible()
    expect(screen.locator(".ws-booking.status-completed", has_text="Wally Walker")).to_be_visible()
    screenshot(screen, "workspace-completed")
    made = Booking.get(Booking.source == "walk_in")
    assert made.status == "completed"
    assert made.customer.email is None


def test_workspace_pages_have_no_serious_accessibility_problems(screen, e2e_server, clinic):
    day = next_weekday()
    sign_in(screen, e2e_server, "owner@clinic.test", f"/w/clinic?date={day.isoformat()}")
    check_page(screen)

    screen.locator(".ws-free").first.click()
    expect(screen.locator("#panel-title")).to_be_focused()
    check_page(screen)  # the new-booking form in the panel
    screen.locator("#panel").get_by_role("button", name="Book").click()
    expect(screen.get_by_text("Choose a customer, or add a new one.")).to_be_visible()
    check_page(screen)  # the same, with a problem shown on its field

    screen.goto(f"{e2e_server}/w/clinic/week?date={day.isoformat()}")
    check_page(screen)
    for tab in ("dashboard", "customers", "availability", "services", "staff", "settings"):
        screen.goto(f"{e2e_server}/w/clinic/{tab}")
        check_page(screen)

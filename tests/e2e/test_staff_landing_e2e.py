"""Staff sign in and land in their workspace, on a 1180 × 820 tablet and the same held
upright: the workspace header leads around the business; the dashboard after hours
shows the next day's first appointments, and a new business its booking link, its QR
code and what to do next."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import screenshot
from tests.e2e.test_booking_e2e import check_page
from tests.e2e.test_workspace_e2e import LONDON
from tests.integration.test_ws_customers import add_booking

TABLETS = {  # an iPad Air's screen, held both ways: (the device it behaves as, width, height)
    "tablet 1180x820": ("iPad (gen 7) landscape", 1180, 820),
    "tablet 820x1180": ("iPad (gen 7)", 820, 1180),
}


@pytest.fixture(params=list(TABLETS))
def device(request, playwright):
    """Replaces tests/e2e/conftest.py's: the tablet sizes above."""
    name, width, height = TABLETS[request.param]
    viewport = {"width": width, "height": height}
    return request.param, playwright.devices[name] | {"viewport": viewport, "screen": viewport}


def sign_in_without_next(page, base: str, email: str, lands_on: str) -> None:
    """Sign in through the form, asking for no page, and land on ``lands_on``."""
    page.goto(f"{base}/account/sign-in")
    page.locator("#sign-in-email").fill(email)
    page.locator("#sign-in-password").fill(factories.PASSWORD)
    page.locator("#sign-in-password").press("Enter")
    # Checking the password takes a while on purpose (argon2), longer on a busy machine.
    expect(page).to_have_url(base + lands_on, timeout=20_000)


def test_the_owner_lands_on_todays_schedule_with_the_workspace_header(screen, e2e_server, clinic):
    sign_in_without_next(screen, e2e_server, "owner@clinic.test", "/w/clinic")
    header = screen.get_by_role("navigation", name="Clinic", exact=True)
    expect(header.get_by_role("link")).to_have_text(["Schedule", "Booking page", "Account"])
    expect(screen.get_by_role("link", name="My appointments")).to_have_count(0)
    check_page(screen)
    screenshot(screen, "staff-landing-schedule")

    header.get_by_role("link", name="Account").click()
    expect(screen.get_by_role("heading", name="Your account")).to_be_visible()
    screen.get_by_role("link", name="My appointments").last.click()
    expect(screen).to_have_url(f"{e2e_server}/appointments")


def test_after_hours_the_dashboard_shows_tomorrow(screen, e2e_server, clinic):
    tomorrow = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=1)
    casey, ana, tom = clinic["customer"], clinic["ana"], clinic["tom"]
    for provider, service, hour in (
        (ana, clinic["assessment"], 9),
        (tom, clinic["massage"], 10),
        (ana, clinic["follow_up"], 11),
    ):
        start = datetime.combine(tomorrow, time(hour), LONDON).astimezone(UTC)
        add_booking(clinic, provider, service, casey, start)

    sign_in_without_next(screen, e2e_server, "owner@clinic.test", "/w/clinic")
    screen.get_by_role("navigation", name="Clinic workspace").get_by_role(
        "link", name="Today"
    ).click()
    ahead = screen.locator("section.db-ahead")
    expect(ahead.get_by_role("heading", level=2)).to_have_text(re.compile(r"^Tomorrow "))
    expect(ahead.locator("li")).to_have_count(3)
    expect(ahead.locator("li").first).to_contain_text("09:00 Casey Morgan")
    check_page(screen)
    screenshot(screen, "staff-dashboard-tomorrow")


def test_a_new_business_sees_its_booking_link_and_next_steps(screen, e2e_server, app):
    org = factories.make_org("fresh")
    factories.make_owner(org, "founder@fresh.test")
    screen.context.grant_permissions(["clipboard-read", "clipboard-write"])

    sign_in_without_next(screen, e2e_server, "founder@fresh.test", "/w/fresh")
    screen.goto(f"{e2e_server}/w/fresh/dashboard")
    start = screen.locator("section.db-start")
    expect(start.get_by_label("Booking link")).to_have_value(re.compile(r"/fresh$"))
    expect(start.get_by_role("img", name="QR code of the address")).to_be_visible()
    expect(start.locator(".db-steps strong")).to_have_text(
        ["Add who sees customers", "Set working hours", "Add a service"]
    )
    expect(screen.get_by_text("Enjoy the quiet")).to_have_count(0)
    check_page(screen)
    screenshot(screen, "staff-dashboard-new-business")

    start.get_by_role("button", name="Copy").click()
    expect(start.get_by_role("status")).to_have_text("Copied.")
    link = start.get_by_label("Booking link").input_value()
    assert screen.evaluate("navigator.clipboard.readText()") == link

    start.get_by_role("link", name="Add who sees customers").click()
    expect(screen).to_have_url(f"{e2e_server}/w/fresh/staff")

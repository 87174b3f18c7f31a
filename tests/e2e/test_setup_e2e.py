"""A new business from nothing, in a real browser on a 390 × 844 phone and a 1180 × 820
tablet: from the public "Create your business" link, through signing up (the booking
page's address suggested from the name) and every set-up step (a mistake explained
first), to the booking link to share with its QR code; then the front page lists it."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import enter_emailed_code, screenshot
from tests.e2e.test_booking_e2e import check_page
from tests.e2e.test_contact_e2e import device  # noqa: F401  (the sizes, by name)

SIZES = ["phone 390x844", "tablet 1180x820"]


@pytest.mark.parametrize("device", SIZES, indirect=True)
def test_from_create_your_business_to_the_link_to_share(screen, e2e_server, app):
    address = f"robin-{secrets.token_hex(4)}@example.com"
    screen.goto(f"{e2e_server}/")
    expect(
        screen.locator("footer").get_by_role("link", name="Create your business")
    ).to_be_visible()
    check_page(screen)
    screenshot(screen, "setup-0-home")
    screen.locator("section.home-business").get_by_role("link", name="Create your business").click()

    # Signing up: the address is suggested from the name as it is typed.
    expect(screen.get_by_role("heading", name="Sign up your business")).to_be_visible()
    screen.get_by_label("Business name").press_sequentially("Harbour Physio")
    expect(screen.get_by_label("Booking page address")).to_have_value("harbour-physio")
    screen.get_by_label("Your name").fill("Robin Hale")
    screen.get_by_label("Your email").fill(address)
    screen.get_by_label("Choose a password").fill("a long enough passphrase")
    check_page(screen)
    screenshot(screen, "setup-1-sign-up")
    screen.get_by_role("button", name="Create my business").click()
    enter_emailed_code(screen, address)

    # 1. Name, address and phone: a wrong phone number first.
    expect(screen.get_by_role("heading", name="Your business")).to_be_visible()
    expect(screen.get_by_text("Step 1 of 5")).to_be_visible()
    expect(screen.get_by_text("Welcome to Kairos, Harbour Physio.")).to_be_visible()
    screen.get_by_label("Address (optional)").fill("12 Harbour Street\nBristol BS1 4RN")
    screen.get_by_label("Phone (optional)").fill("12")
    screen.get_by_role("button", name="Save and continue").click()
    expect(screen.get_by_text("Enter a valid phone number", exact=False)).to_be_visible()
    expect(screen.get_by_label("Address (optional)")).to_have_value(
        "12 Harbour Street\nBristol BS1 4RN"
    )
    check_page(screen)
    screenshot(screen, "setup-2-contact-error")
    screen.get_by_label("Phone (optional)").fill("0117 496 0000")
    screen.get_by_role("button", name="Save and continue").click()

    # 2. The owner sees customers: yes by default, one tap.
    expect(screen.get_by_role("heading", name="Who sees customers")).to_be_visible()
    expect(screen.get_by_label("I see customers myself")).to_be_checked()
    check_page(screen)
    screenshot(screen, "setup-3-provider")
    screen.get_by_role("button", name="Continue").click()
    expect(screen.get_by_role("heading", name="Your first service")).to_be_visible()

    # Left half way: the booking page says it takes no bookings yet, and the dashboard
    # carries on where the set-up was left.
    screen.goto(f"{e2e_server}/harbour-physio")
    expect(screen.get_by_text("is not taking bookings online yet", exact=False)).to_be_visible()
    check_page(screen)
    screenshot(screen, "setup-3-not-yet")
    screen.goto(f"{e2e_server}/w/harbour-physio/dashboard")
    check_page(screen)
    screenshot(screen, "setup-3-dashboard")
    screen.get_by_role("link", name="Continue setting up").click()

    # 3. A first service, from the physiotherapy templates.
    expect(screen.get_by_role("heading", name="Your first service")).to_be_visible()
    screen.get_by_role("link", name="Physiotherapy").click()
    expect(screen.get_by_label("Name")).to_have_value("Initial assessment")
    expect(screen.get_by_label("Duration (minutes)")).to_have_value("45")
    expect(screen.get_by_label("Price (GBP)")).to_have_value("55")
    check_page(screen)
    screenshot(screen, "setup-4-service")
    screen.get_by_role("button", name="Add this service").click()

    # 4. Hours: Monday to Friday, 09:00–17:00, to start from.
    expect(screen.get_by_role("heading", name="Your hours")).to_be_visible()
    expect(screen.locator("#mon-open")).to_be_checked()
    expect(screen.locator("#sat-open")).not_to_be_checked()
    expect(screen.locator("#fri-0-start")).to_have_value("09:00")
    check_page(screen)
    screenshot(screen, "setup-5-hours")
    screen.get_by_role("button", name="Save hours and continue").click()

    # 5. The link to share, with a copy button and a QR code.
    expect(screen.get_by_role("heading", name="Your booking link")).to_be_visible()
    expect(screen.get_by_text("You are ready to take bookings.", exact=False)).to_be_visible()
    expect(screen.get_by_role("textbox", name="Booking link")).to_have_value(
        f"{e2e_server}/harbour-physio"
    )
    expect(screen.get_by_role("button", name="Copy")).to_be_visible()
    expect(screen.get_by_role("img", name="QR code of the address")).to_be_visible()
    check_page(screen)
    screenshot(screen, "setup-6-share")
    screen.get_by_role("button", name="Done: go to my workspace").click()
    expect(screen.get_by_text("Your business is set up.", exact=False)).to_be_visible()
    expect(screen.locator("section.db-resume")).to_have_count(0)

    # The front page lists it now (the only one: straight to its booking page).
    screen.goto(f"{e2e_server}/")
    expect(screen.get_by_role("heading", name="Harbour Physio")).to_be_visible()
    expect(screen.get_by_text("Initial assessment")).to_be_visible()
    screenshot(screen, "setup-7-booking-page")

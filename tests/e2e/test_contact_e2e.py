"""How customers reach a business, in a real browser: the booking page and an
appointment's confirmation on a 390 × 844 and a 320 px wide phone, and the owner's
"Contact and address" settings on a 1180 × 820 tablet (a mistake explained, then saved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from models import Organisation
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page

SIZES = {
    "phone 390x844": ("iPhone 13", {"width": 390, "height": 844}),
    "phone 320x568": ("iPhone SE", {"width": 320, "height": 568}),
    "tablet 1180x820": ("iPad (gen 7) landscape", {"width": 1180, "height": 820}),
}
PHONES = ["phone 390x844", "phone 320x568"]
CONTACT = {
    "address": "12 Harbour Street\nBristol BS1 4RN",
    "phone": "+441174960000",
    "email": "hello@harborphysio.example.com",
    "website": "https://www.harborphysio.example.com",
    "directions": "Blue door next to the harbour café; we're on the first floor, with a lift.",
}
MAP = "https://www.openstreetmap.org/search?query=12+Harbour+Street%2C+Bristol+BS1+4RN"


@pytest.fixture
def device(request, playwright):
    """The sizes this part was designed at (overrides conftest's devices)."""
    model, viewport = SIZES[request.param]
    settings = dict(playwright.devices[model], viewport=viewport, screen=viewport)
    return request.param, settings


def give_contact() -> None:
    Organisation.update(CONTACT).where(Organisation.slug == "clinic").execute()


def check_card(page) -> None:
    card = page.locator("section.contact-card")
    card.scroll_into_view_if_needed()
    expect(card.get_by_role("link", name="Call +44 117 496 0000")).to_have_attribute(
        "href", "tel:+441174960000"
    )
    expect(card.get_by_role("link", name="Email hello@harborphysio.example.com")).to_be_visible()
    expect(card.get_by_role("link", name="Website www.harborphysio.example.com")).to_be_visible()
    expect(card.get_by_role("link", name="Map", exact=False)).to_have_attribute("href", MAP)
    for link in card.get_by_role("link").all():
        box = link.bounding_box()
        assert box["height"] >= 44, link.inner_text()
        assert box["x"] + box["width"] <= page.viewport_size["width"], link.inner_text()


@pytest.mark.parametrize("device", PHONES, indirect=True)
def test_the_booking_page_says_where_and_how_to_reach_them(screen, e2e_server, clinic):
    give_contact()
    screen.goto(f"{e2e_server}/clinic")
    check_card(screen)
    check_page(screen)
    screenshot(screen, "contact-business-page")


def next_weekday_10(days_ahead: int = 3) -> datetime:
    day = datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.parametrize("device", PHONES, indirect=True)
def test_the_confirmation_says_where_and_how_to_reach_them(screen, e2e_server, clinic):
    give_contact()
    made = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["assessment"].id,
        provider_id=clinic["ana"].id,
        start=next_weekday_10().astimezone(UTC),
        now=datetime.now(UTC),
        dispatch=Dispatch(),
    )
    path = f"/appointments/{made.id}/confirmed"
    sign_in(screen, e2e_server, clinic["customer"].email, then=path)
    expect(screen.get_by_role("heading", name="You're booked")).to_be_visible()
    expect(screen.get_by_role("heading", name="Getting there")).to_be_visible()
    check_card(screen)
    check_page(screen)
    screen.evaluate("window.scrollTo(0, 0)")
    screenshot(screen, "contact-confirmation")


@pytest.mark.parametrize("device", ["tablet 1180x820"], indirect=True)
def test_the_owner_fills_in_contact_and_address(screen, e2e_server, clinic):
    sign_in(screen, e2e_server, clinic["owner"].email, then="/w/clinic/settings")
    expect(screen.get_by_role("group", name="Contact and address")).to_be_visible()
    screen.get_by_label("Address (optional)").fill("12 Harbour Street\nBristol BS1 4RN")
    screen.get_by_label("Phone (optional)").fill("0117 496 0000")
    screen.get_by_label("Email (optional)").fill("hello@harborphysio.example.com")
    screen.get_by_label("Website (optional)").fill("ftp://harborphysio.example.com")
    screen.get_by_label("How to find you (optional)").fill("Blue door, first floor.")
    screen.get_by_role("button", name="Save settings").click()
    expect(screen.locator("#website-error")).to_contain_text("like https://www.example.com")
    expect(screen.get_by_label("Phone (optional)")).to_have_value("0117 496 0000")
    screen.locator("#contact").scroll_into_view_if_needed()
    check_page(screen)
    screenshot(screen, "contact-settings-error")

    screen.get_by_label("Website (optional)").fill("www.harborphysio.example.com")
    screen.get_by_role("button", name="Save settings").click()
    expect(screen.get_by_text("Settings saved.")).to_be_visible()
    expect(screen.get_by_label("Phone (optional)")).to_have_value("+44 117 496 0000")
    expect(screen.get_by_label("Website (optional)")).to_have_value(
        "https://www.harborphysio.example.com"
    )
    screen.locator("#contact").scroll_into_view_if_needed()
    screenshot(screen, "contact-settings")

"""The calendar feed page on a phone and a tablet: reached from the workspace tabs, with
the webcal link, the address to copy and its QR code; showing customer names, and a
new address after the confirmation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page

pytestmark = pytest.mark.parametrize(
    "device", ["iPhone 13", "iPad (gen 7) landscape"], indirect=True
)


def test_adding_the_feed_to_a_calendar(screen, e2e_server, clinic):
    sign_in(screen, e2e_server, "ana@clinic.test", "/w/clinic")
    tabs = screen.get_by_role("navigation", name=re.compile("workspace$"))
    tabs.get_by_role("link", name="Calendar feed").click()

    expect(screen.get_by_role("heading", level=1, name="Add to your calendar")).to_be_visible()
    add = screen.get_by_role("link", name="Add to your calendar")
    expect(add).to_have_attribute("href", re.compile(r"^webcal://.+/cal/[\w-]{43}\.ics$"))
    address = screen.locator("#cal-provider-url")
    https = address.input_value()
    assert https.startswith("http")
    assert add.get_attribute("href") == "webcal://" + https.split("://", 1)[1]
    expect(screen.get_by_role("img", name="QR code of the address")).to_be_visible()
    check_page(screen)
    screenshot(screen, "calendar-feed")

    screen.get_by_role("button", name="Show customer names").click()
    expect(screen.get_by_role("button", name="Hide customer names")).to_be_visible()

    screen.get_by_text("Make a new address", exact=True).click()
    screen.get_by_role("button", name="Yes, make a new address").click()
    expect(screen.locator("#cal-provider-url")).not_to_have_value(https)
    assert screen.request.get(https).status == 404
    check_page(screen)

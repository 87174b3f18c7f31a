"""Signing in with a texted code, in Chromium at a 390 px phone and a 1180 px tablet
(issue 17): the sign-in page's "Text me a code", the number, the code read from the
Twilio stand-in, a new number's name, signed in; a wrong code; and adding a number from
Account → Sign-in methods. Each step is screenshotted and checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page
from tests.server import gunicorn
from tests.standins.twilio import TwilioStandIn

NUMBER = "+447911123456"
SIZES = {  # the device each behaves as, and its viewport
    "phone 390x844": ("iPhone 13", 390, 844),
    "tablet 1180x820": ("iPad (gen 7) landscape", 1180, 820),
}


@pytest.fixture(params=list(SIZES))
def device(request, playwright):
    """Replaces tests/e2e/conftest.py's: the two sizes above."""
    name, width, height = SIZES[request.param]
    viewport = {"width": width, "height": height}
    return request.param, playwright.devices[name] | {"viewport": viewport, "screen": viewport}


@pytest.fixture(scope="module")
def twilio():
    with TwilioStandIn() as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def phone_server(database_url, twilio):
    """The app under gunicorn with Twilio (the stand-in) configured."""
    with gunicorn(database_url, env=twilio.env()) as base:
        yield base


def send_and_read_code(page, twilio, button: str = "Text me a code") -> str:
    """Press ``button`` and return the code the stand-in received for NUMBER."""
    before = len(twilio.messages)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("heading", name="Check your texts")).to_be_visible()
    texts = twilio.wait_for(before + 1)
    assert texts[-1].to == NUMBER
    return re.match(r"\d{6}", texts[-1].body)[0]


def test_a_new_number_signs_up_and_in_with_a_texted_code(screen, phone_server, twilio, app):
    screen.goto(f"{phone_server}/account/sign-in?next=/appointments")
    button = screen.get_by_role("link", name="Text me a code")
    assert button.bounding_box()["height"] >= 44
    check_page(screen)
    screenshot(screen, "phone-1-sign-in")
    button.click()

    expect(screen.get_by_role("heading", name="Sign in with your phone")).to_be_visible()
    number = screen.get_by_label("Mobile number")
    expect(number).to_have_attribute("autocomplete", "tel")
    number.fill("07911 123456")
    check_page(screen)
    screenshot(screen, "phone-2-number")
    code = send_and_read_code(screen, twilio)

    expect(screen.get_by_text("We texted a code to +44 7911 123456")).to_be_visible()
    box = screen.get_by_label("Code")
    expect(box).to_have_attribute("autocomplete", "one-time-code")
    expect(box).to_have_attribute("inputmode", "numeric")
    box.fill(f"{(int(code) + 1) % 10**6:06d}")
    screen.get_by_role("button", name="Continue").click()
    expect(screen.get_by_text("That code isn't right. 4 tries left.")).to_be_visible()
    check_page(screen)
    screenshot(screen, "phone-3-wrong-code")
    screen.get_by_label("Code").fill(code)
    screenshot(screen, "phone-4-code")
    screen.get_by_role("button", name="Continue").click()

    expect(screen.get_by_role("heading", name="What's your name?")).to_be_visible()
    screen.get_by_label("Your name").fill("Robin Vale")
    check_page(screen)
    screenshot(screen, "phone-5-name")
    screen.get_by_role("button", name="Create my account").click()

    expect(screen).to_have_url(f"{phone_server}/appointments")
    expect(screen.get_by_text("Welcome, Robin Vale.")).to_be_visible()
    check_page(screen)
    screenshot(screen, "phone-6-signed-in")

    screen.goto(f"{phone_server}/account/profile")
    expect(screen.get_by_text("Signed in as +44 7911 123456")).to_be_visible()
    check_page(screen)
    screenshot(screen, "phone-7-profile-without-email")


def test_a_customer_adds_a_number_and_then_signs_in_with_it(screen, phone_server, twilio, clinic):
    sign_in(screen, phone_server, "casey@example.com", "/account/sign-in-methods")
    screen.get_by_role("link", name="Add a phone number").click()
    expect(screen.get_by_role("heading", name="Add a phone number")).to_be_visible()
    screen.get_by_label("Mobile number").fill("+44 7911 123456")
    check_page(screen)
    screenshot(screen, "phone-add-1-number")
    code = send_and_read_code(screen, twilio)
    expect(screen.get_by_text("add the number to your account")).to_be_visible()
    screen.get_by_label("Code").fill(code)
    screen.get_by_role("button", name="Continue").click()

    expect(screen).to_have_url(f"{phone_server}/account/sign-in-methods")
    expect(screen.get_by_text("+44 7911 123456 now signs you in.")).to_be_visible()
    listed = screen.locator('li.sign-in-method[data-kind="phone"]')
    expect(listed).to_contain_text("+44 7911 123456")
    check_page(screen)
    screenshot(screen, "phone-add-2-methods")

    screen.context.clear_cookies()  # another visit, signed out
    screen.goto(f"{phone_server}/sign-in/phone?next=/account/sign-in-methods")
    screen.get_by_label("Mobile number").fill("07911 123456")
    code = send_and_read_code(screen, twilio)
    screen.get_by_label("Code").fill(code)
    screen.get_by_role("button", name="Continue").click()
    expect(screen).to_have_url(f"{phone_server}/account/sign-in-methods")
    expect(listed).to_contain_text("Last used")

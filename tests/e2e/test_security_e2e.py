"""Account → Security in a real browser at phone and tablet sizes: the devices signed in
(this one marked), an app, and signing another device out, which that device notices at
its next page."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from playwright.sync_api import expect

from services.accounts.auth import issue_token
from tests import factories
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_accounts_e2e import check_page

WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"


def test_signing_out_another_device_from_the_security_page(screen, e2e_server, app, browser):
    address = f"robin-{secrets.token_hex(4)}@example.com"
    robin = factories.make_user(address, "Robin Hale")
    issue_token(robin, datetime.now(UTC))  # an app, signed in through the API
    laptop = browser.new_context(user_agent=WINDOWS_FIREFOX)
    try:
        laptop_page = laptop.new_page()
        sign_in(laptop_page, e2e_server, address)
        sign_in(screen, e2e_server, address)

        screen.goto(f"{e2e_server}/account/profile")
        screen.get_by_role("link", name="Signed-in devices and apps").click()
        expect(screen.get_by_role("heading", name="Security", level=1)).to_be_visible()
        devices = screen.locator(".sign-ins > li")
        expect(devices).to_have_count(2)
        expect(devices.first).to_contain_text("This device")
        expect(devices.nth(1)).to_contain_text("Firefox on Windows")
        expect(screen.locator(".app-tokens > li")).to_have_count(1)
        check_page(screen)
        screenshot(screen, "account-security")

        screen.get_by_role("button", name="Sign out Firefox on Windows").click()
        expect(screen.get_by_text("That device is signed out.")).to_be_visible()
        expect(devices).to_have_count(1)
        expect(screen.get_by_text("You are signed in on this device only.")).to_be_visible()
        check_page(screen)

        laptop_page.goto(f"{e2e_server}/account/profile")
        expect(laptop_page).to_have_url(f"{e2e_server}/account/sign-in?next=%2Faccount%2Fprofile")
    finally:
        laptop.close()

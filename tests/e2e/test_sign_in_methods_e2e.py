"""Account → Sign-in methods in a real browser at phone and tablet sizes: every way in
listed with its dates, one removed, and the last one kept."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from playwright.sync_api import expect

from models import Identity
from tests import factories
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_accounts_e2e import check_page


def test_listing_and_removing_sign_in_methods(screen, e2e_server, app):
    address = f"robin-{secrets.token_hex(4)}@example.com"
    robin = factories.make_user(address, "Robin Hale")
    Identity.create(
        user=robin,
        provider="google",
        subject=secrets.token_hex(8),
        email="robin.hale@gmail.test",
        email_verified=True,
        created_at=datetime.now(UTC),
    )
    sign_in(screen, e2e_server, address)

    screen.goto(f"{e2e_server}/account/profile")
    screen.get_by_role("link", name="Sign-in methods").click()
    expect(screen.get_by_role("heading", name="Sign-in methods", level=1)).to_be_visible()
    methods = screen.locator(".sign-in-methods > li")
    expect(methods).to_have_count(3)
    expect(methods.nth(0)).to_contain_text("Password")
    expect(methods.nth(1)).to_contain_text(address)
    expect(methods.nth(2)).to_contain_text("robin.hale@gmail.test")
    check_page(screen)
    screenshot(screen, "account-sign-in-methods")

    screen.get_by_role("button", name="Remove Google robin.hale@gmail.test").click()
    expect(screen.get_by_text("Google (robin.hale@gmail.test) is removed")).to_be_visible()
    expect(methods).to_have_count(2)
    screen.get_by_role("button", name="Remove Password").click()
    expect(methods).to_have_count(1)
    # The emailed link is all that is left: nothing to remove, and why.
    expect(screen.get_by_role("button", name="Remove")).to_have_count(0)
    expect(screen.get_by_text("This is your only way in")).to_be_visible()
    check_page(screen)
    screenshot(screen, "account-sign-in-methods-last")

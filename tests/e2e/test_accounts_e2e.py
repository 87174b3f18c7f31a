"""Accounts in a real browser at phone and tablet sizes: sign up (after fixing mistakes),
sign out, sign in, and reset the password with the link from the outbox.

The e2e server writes mail to instance/outbox/; each test uses its own address and
reads (then removes) only its own messages.
"""

from __future__ import annotations

import email
import email.policy
import re
import secrets
from urllib.parse import urlsplit

from playwright.sync_api import expect

from config import INSTANCE, ROOT
from tests import factories
from tests.e2e.conftest import enter_emailed_code, screenshot, send_queued_links

OUTBOX = INSTANCE / "outbox"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "a long enough passphrase"
NEW_PASSWORD = "another long passphrase"


def reset_link_for(address: str, queue) -> str:
    """The path of the reset link in the newest email to ``address``, removing its mail
    (sent first, as the worker would, from the server's queue)."""
    assert send_queued_links(queue, OUTBOX) >= 1
    ours = []
    for path in sorted(OUTBOX.glob("*-reset-*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            ours.append(message)
            path.unlink()
    assert ours, f"no reset email to {address}"
    text = ours[-1].get_body(("plain",)).get_content()
    return urlsplit(re.search(r"https?://\S+", text).group(0)).path


def check_page(page) -> None:
    """Fits the screen, and axe-core finds nothing serious or critical."""
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.evaluate(AXE.read_text())  # not a <script>: the CSP refuses those
    found = page.evaluate("axe.run().then((r) => r.violations)")
    assert [v["id"] for v in found if v["impact"] in ("serious", "critical")] == []


def test_sign_up_sign_out_sign_in_and_reset_the_password(screen, e2e_server, e2e_queue, app):
    address = f"robin-{secrets.token_hex(4)}@example.com"

    # Sign up, with mistakes first: the server explains each, next to its field.
    posts = []
    screen.on("request", lambda r: r.method == "POST" and posts.append(r.headers))
    screen.goto(f"{e2e_server}/account/sign-up")
    screen.get_by_label("Your name").fill("Robin Hale")
    screen.get_by_label("Email").fill(address)
    screen.get_by_label("Mobile phone (optional)").fill("12345")
    screen.get_by_label("Choose a password").fill("short")
    screen.get_by_role("button", name="Create account").click()
    phone = screen.get_by_label("Mobile phone (optional)")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(screen.get_by_text("Enter a valid phone number")).to_be_visible()
    expect(screen.get_by_text("Use at least 10 characters.")).to_be_visible()
    expect(screen.get_by_label("Your name")).to_have_value("Robin Hale")  # kept
    expect(screen.get_by_label("Choose a password")).to_have_value("")  # never sent back
    check_page(screen)
    screenshot(screen, "account-sign-up-errors")

    assert posts[-1].get("hx-request") == "true"  # htmx swapped the form in place
    phone.fill("07911 123456")
    screen.get_by_label("Choose a password").fill(PASSWORD)
    screen.get_by_role("button", name="Create account").click()
    expect(screen.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(screen.get_by_label("Code")).to_be_focused()
    check_page(screen)
    screenshot(screen, "account-sign-up-code")
    enter_emailed_code(screen, address)
    expect(screen.get_by_text("Welcome, Robin Hale.")).to_be_visible()

    screen.goto(f"{e2e_server}/account/profile")
    expect(screen.get_by_label("Mobile phone (optional)")).to_have_value("+44 7911 123456")
    check_page(screen)
    screenshot(screen, "account-profile")

    # Sign out, then back in (with a wrong password first).
    # Nothing from before may still be in flight: a late response could carry the
    # signed-in session cookie back after the sign-out's.
    screen.wait_for_load_state("networkidle")
    screen.get_by_role("button", name="Sign out").click()
    expect(screen.get_by_text("You have signed out.")).to_be_visible()
    screen.goto(f"{e2e_server}/account/sign-in")
    screen.get_by_label("Email").fill(address)
    screen.get_by_label("Password").fill("not my password")
    screen.get_by_role("button", name="Sign in").click()
    expect(screen.get_by_text("Email or password is not right.")).to_be_visible()
    screen.get_by_label("Password").fill(PASSWORD)
    check_page(screen)
    screenshot(screen, "account-sign-in")
    screen.get_by_role("button", name="Sign in").click()
    expect(screen).to_have_url(re.compile(r"/appointments$"))

    # Forgot the password: reset it with the link from the outbox.
    screen.goto(f"{e2e_server}/account/profile")
    # Nothing from before may still be in flight: a late response could carry the
    # signed-in session cookie back after the sign-out's.
    screen.wait_for_load_state("networkidle")
    screen.get_by_role("button", name="Sign out").click()
    expect(screen.get_by_text("You have signed out.")).to_be_visible()
    screen.goto(f"{e2e_server}/account/sign-in")
    screen.get_by_role("link", name="Forgot your password?").click()
    screen.get_by_label("Email").fill(address)
    screen.get_by_role("button", name="Send me a link").click()
    expect(screen.get_by_role("heading", name="Check your email")).to_be_visible()

    screen.goto(e2e_server + reset_link_for(address, e2e_queue))
    screen.get_by_label("New password").fill(NEW_PASSWORD)
    screen.get_by_role("button", name="Save my new password").click()
    expect(screen.get_by_text("Your password has been changed.")).to_be_visible()
    expect(screen.get_by_label("Email")).to_have_value(address)  # filled in for them
    screen.get_by_label("Password").fill(NEW_PASSWORD)
    screen.get_by_role("button", name="Sign in").click()
    expect(screen).to_have_url(re.compile(r"/appointments$"))


def test_sign_in_works_with_javascript_off(browser, playwright, e2e_server, clinic):
    context = browser.new_context(**playwright.devices["Pixel 7"], java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{e2e_server}/account/sign-in?next=/clinic")
        page.get_by_label("Email").fill("casey@example.com")
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Email or password is not right.")).to_be_visible()
        expect(page.get_by_label("Email")).to_have_value("casey@example.com")
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{e2e_server}/clinic")
        # On a phone it is in the bottom navigation (the header's copy is hidden there).
        main_nav = page.get_by_role("navigation", name="Main")
        expect(main_nav.get_by_role("link", name="My appointments")).to_be_visible()
    finally:
        context.close()

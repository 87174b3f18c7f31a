"""Passkeys in Chromium (issue 17), with its virtual authenticator standing in for a
phone's screen lock (CDP WebAuthn: CTAP2, internal, resident keys, the user verified):
add a passkey, sign out, sign in with it, add one on a second device, remove the first.

An IP address cannot be a relying party, so this server's BASE_URL, and every page
opened here, is http://localhost:PORT (it is still served on 127.0.0.1)."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from models import Passkey, SignIn
from tests import factories
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_accounts_e2e import check_page
from tests.server import gunicorn

METHODS = "/account/sign-in-methods"
PHONE, TABLET = "iPhone 13", "iPad (gen 7) landscape"
# A browser that cannot offer passkeys in a field's autofill (the page then offers the
# button alone). Chromium's virtual authenticator would answer the autofill at once.
NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


@pytest.fixture(scope="module")
def localhost(database_url, e2e_queue):
    with gunicorn(
        database_url, env={"HUEY_URL": f"sqlite:///{e2e_queue}"}, host="localhost"
    ) as base:
        assert base.startswith("http://localhost:")
        yield base


def authenticator(page, verified: bool = True) -> tuple[object, str]:
    """A virtual platform authenticator on ``page``'s browser: (its CDP session, its id)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    made = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": verified,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, made["authenticatorId"]


def stored(cdp, authenticator_id: str) -> list[dict]:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def add_passkey(page, base: str, name: str | None = None) -> None:
    page.goto(base + METHODS)
    add = page.get_by_role("button", name="Add a passkey")
    expect(add).to_be_visible()
    if name is not None:
        page.get_by_label("Name this passkey").fill(name)
    add.click()
    expect(page.get_by_text(re.compile(r"Passkey added: .* now signs you in\."))).to_be_visible()


def sign_out(page, base: str) -> None:
    page.goto(base + "/account/profile")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def passkeys_listed(page) -> list[str]:
    items = page.locator(".sign-in-method[data-kind=passkey] .method-detail")
    return items.all_inner_texts()


@pytest.mark.parametrize("device", [PHONE], indirect=True)
def test_add_a_passkey_sign_in_with_it_add_another_remove_one(
    screen, browser, playwright, localhost, app
):
    address = f"pat-{secrets.token_hex(4)}@example.com"
    pat = factories.make_user(address, "Pat Quinn")

    # Add a passkey from Account → Sign-in methods: named after the device.
    cdp, phone_key = authenticator(screen)
    sign_in(screen, localhost, address, then=METHODS)
    expect(screen.get_by_label("Name this passkey")).to_have_value("Safari on iPhone")
    check_page(screen)
    screenshot(screen, "passkeys-add")
    add_passkey(screen, localhost)
    assert passkeys_listed(screen) == ["Safari on iPhone"]
    assert len(stored(cdp, phone_key)) == 1
    expect(screen.locator(".sign-in-method[data-kind=passkey]")).to_contain_text("Not used yet")
    check_page(screen)
    screenshot(screen, "passkeys-added")

    # The same authenticator twice: the browser refuses, quietly, the page goes on.
    screen.get_by_role("button", name="Add a passkey").click()
    expect(
        screen.get_by_text("This device already has a passkey for your account.")
    ).to_be_visible()
    assert Passkey.select().where(Passkey.user == pat.id).count() == 1

    # Sign out; back on the sign-in page, the email field's autofill offers the passkey.
    # Chromium's virtual authenticator answers that request at once, as a person picking
    # the passkey from the field's suggestions would: signed in, no password.
    sign_out(screen, localhost)
    screen.goto(localhost + "/account/sign-in")
    expect(screen).to_have_url(re.compile(r"/appointments$"))
    last = SignIn.select().where(SignIn.user == pat.id).order_by(SignIn.id.desc()).get()
    assert last.method == "passkey"
    assert Passkey.get(Passkey.user == pat.id).last_used_at is not None

    # A browser without that autofill: the button.
    sign_out(screen, localhost)
    screen.add_init_script(NO_AUTOFILL)
    screen.goto(localhost + "/account/sign-in")
    button = screen.get_by_role("button", name="Sign in with a passkey")
    expect(button).to_be_visible()
    expect(screen.get_by_label("Email")).to_have_attribute("autocomplete", "username webauthn")
    check_page(screen)
    screenshot(screen, "passkeys-sign-in")
    button.click()
    expect(screen).to_have_url(re.compile(r"/appointments$"))
    assert SignIn.select().where(SignIn.user == pat.id, SignIn.method == "passkey").count() == 2

    # A second device: another browser, its own authenticator, its own passkey.
    tablet = browser.new_context(**playwright.devices[TABLET])
    try:
        other = tablet.new_page()
        other.device_name = TABLET
        authenticator(other)
        sign_in(other, localhost, address, then=METHODS)
        add_passkey(other, localhost, "Work tablet")
        assert passkeys_listed(other) == ["Safari on iPhone", "Work tablet"]
        check_page(other)
        screenshot(other, "passkeys-two")

        # Remove the phone's passkey there.
        other.get_by_role("button", name="Remove Passkey Safari on iPhone").click()
        expect(other.get_by_text("Passkey (Safari on iPhone) is removed")).to_be_visible()
        assert passkeys_listed(other) == ["Work tablet"]
    finally:
        tablet.close()

    # The phone still holds it, but it signs nobody in any more: a clear word, no 500.
    sign_out(screen, localhost)
    screen.goto(localhost + "/account/sign-in")
    screen.get_by_role("button", name="Sign in with a passkey").click()
    expect(
        screen.get_by_text("This passkey isn't registered here any more — sign in another way.")
    ).to_be_visible()
    expect(screen).to_have_url(re.compile(r"/account/sign-in$"))
    check_page(screen)
    screenshot(screen, "passkeys-unknown")


@pytest.mark.parametrize("device", [PHONE], indirect=True)
def test_a_cancelled_sheet_leaves_the_page_usable(screen, localhost, app):
    address = f"lee-{secrets.token_hex(4)}@example.com"
    factories.make_user(address, "Lee Hart")
    cdp, key = authenticator(screen, verified=False)  # the person backs out of the sheet
    screen.add_init_script(NO_AUTOFILL)
    screen.goto(localhost + "/account/sign-in")
    screen.get_by_role("button", name="Sign in with a passkey").click()
    expect(
        screen.get_by_text("No passkey was used. You can try again, or sign in another way.")
    ).to_be_visible()
    # The password form is still there and works.
    screen.get_by_label("Email").fill(address)
    screen.get_by_label("Password").fill(factories.PASSWORD)
    screen.get_by_role("button", name="Sign in", exact=True).click()
    expect(screen).to_have_url(re.compile(r"/appointments$"))
    assert stored(cdp, key) == []


@pytest.mark.parametrize("device", [TABLET], indirect=True)
def test_the_passkey_pages_at_tablet_size(screen, localhost, app):
    address = f"kim-{secrets.token_hex(4)}@example.com"
    factories.make_user(address, "Kim Lowe")
    authenticator(screen)
    screen.goto(localhost + "/account/sign-in")
    expect(screen.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    check_page(screen)
    screenshot(screen, "passkeys-sign-in")
    sign_in(screen, localhost, address, then=METHODS)
    add_passkey(screen, localhost)
    check_page(screen)
    screenshot(screen, "passkeys-added")


def test_no_passkey_buttons_where_base_url_is_an_ip_address(screen, e2e_server, app):
    """The shared e2e server's BASE_URL is http://127.0.0.1:PORT."""
    screen.goto(e2e_server + "/account/sign-in")
    expect(screen.get_by_role("heading", name="Sign in")).to_be_visible()
    assert screen.locator("[data-passkey-sign-in]").count() == 0


def test_no_passkey_button_on_another_host_than_base_url_s(screen, localhost, app):
    """The same server opened by its IP address while BASE_URL names localhost: the
    browser would refuse passkeys there, so neither the button nor the "or" line shows."""
    screen.goto(localhost.replace("//localhost:", "//127.0.0.1:") + "/account/sign-in")
    expect(screen.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(screen.locator("[data-passkey-sign-in]")).to_be_hidden()
    expect(screen.locator(".or-divider")).to_be_hidden()
    screen.goto(localhost + "/account/sign-in")
    expect(screen.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    expect(screen.locator(".or-divider")).to_be_visible()


# A browser from before WebAuthn's JSON helpers: passkeys.js writes the base64url itself.
NO_JSON_HELPERS = """
delete PublicKeyCredential.parseCreationOptionsFromJSON;
delete PublicKeyCredential.parseRequestOptionsFromJSON;
delete PublicKeyCredential.prototype.toJSON;
"""


@pytest.mark.parametrize("device", [PHONE], indirect=True)
def test_passkeys_in_a_browser_without_the_json_helpers(screen, localhost, app):
    address = f"ash-{secrets.token_hex(4)}@example.com"
    ash = factories.make_user(address, "Ash Reid")
    screen.add_init_script(NO_JSON_HELPERS + NO_AUTOFILL)
    cdp, key = authenticator(screen)
    sign_in(screen, localhost, address, then=METHODS)
    assert screen.evaluate("typeof PublicKeyCredential.parseCreationOptionsFromJSON") == "undefined"
    add_passkey(screen, localhost, "Old phone")
    assert Passkey.get(Passkey.user == ash.id).transports == "internal"
    sign_out(screen, localhost)
    screen.goto(localhost + "/account/sign-in")
    screen.get_by_role("button", name="Sign in with a passkey").click()
    expect(screen).to_have_url(re.compile(r"/appointments$"))
    assert len(stored(cdp, key)) == 1

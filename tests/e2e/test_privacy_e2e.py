"""A person's data in a real browser, on a 390 × 844 phone and a 1180 × 820 tablet:
downloading it from the account page, reading the privacy page, and the owner's
retention setting (a mistake explained next to the field, then saved)."""

from __future__ import annotations

import json
import secrets

import pytest
from playwright.sync_api import expect

from models import Organisation
from tests import factories
from tests.e2e.conftest import SCREENSHOTS, screenshot, sign_in
from tests.e2e.test_accounts_e2e import check_page

SIZES = {
    "phone 390x844": ("iPhone 13", {"width": 390, "height": 844}),
    "tablet 1180x820": ("iPad (gen 7) landscape", {"width": 1180, "height": 820}),
}


@pytest.fixture(params=SIZES)
def device(request, playwright):
    """The phone and tablet this part was designed at (overrides conftest's devices)."""
    model, viewport = SIZES[request.param]
    settings = dict(playwright.devices[model], viewport=viewport, screen=viewport)
    settings["device_scale_factor"] = 1
    return request.param, settings


def close_up(page, locator, label: str) -> None:
    """A screenshot of one part of the page, beside the full-page ones."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(SCREENSHOTS / f"{label}-{page.device_name.replace(' ', '_')}.png"))


def test_download_my_data_and_read_the_privacy_page(screen, e2e_server, app):
    address = f"casey-{secrets.token_hex(4)}@example.com"
    factories.make_user(address, "Casey Morgan")
    sign_in(screen, e2e_server, address, then="/account/profile")

    section = screen.locator("section[aria-labelledby=data-heading]")
    section.scroll_into_view_if_needed()
    expect(section.get_by_role("heading", name="Download my data")).to_be_visible()
    screenshot(screen, "privacy-account")
    close_up(screen, section, "privacy-account-section")
    with screen.expect_download() as download:
        section.get_by_role("link", name="All my data (JSON)").click()
    assert download.value.suggested_filename.startswith("kairos-data-")
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["email"] == address
    with screen.expect_download() as download:
        section.get_by_role("link", name="My bookings for my calendar (.ics)").click()
    assert download.value.suggested_filename.endswith(".ics")

    section.get_by_role("link", name="What we keep, and why").click()
    expect(screen).to_have_url(f"{e2e_server}/privacy")
    expect(screen.get_by_role("heading", name="Your privacy")).to_be_visible()
    check_page(screen)
    screenshot(screen, "privacy-page")
    expect(screen.locator("footer").get_by_role("link", name="Privacy")).to_be_visible()


def test_the_owner_sets_how_long_details_are_kept(screen, e2e_server, app):
    slug = f"clinic-{secrets.token_hex(3)}"
    org = factories.make_org(slug)
    address = f"owner-{secrets.token_hex(4)}@example.com"
    factories.make_owner(org, address)
    settings = f"/w/{slug}/settings"
    sign_in(screen, e2e_server, address, then=settings)

    field = screen.get_by_label("Keep customers' details on past bookings for (months)")
    expect(field).to_have_value("24")
    field.fill("0")
    screen.get_by_role("button", name="Save settings").click()
    expect(screen.locator("#retention_months-error")).to_contain_text("from 1 to 120")
    expect(field).to_have_value("0")
    field.scroll_into_view_if_needed()
    fieldset = screen.locator("fieldset", has=field)
    screenshot(screen, "privacy-settings")
    close_up(screen, fieldset, "privacy-settings-field")
    check_page(screen)

    field.fill("36")
    screen.get_by_role("button", name="Save settings").click()
    expect(screen.get_by_text("Settings saved.")).to_be_visible()
    assert Organisation.get(slug=slug).retention_months == 36

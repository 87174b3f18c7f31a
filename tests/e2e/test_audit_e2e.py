"""The owner's audit log on a phone and a tablet: reached from the workspace tabs, older
entries added below in place (the focus stays on the button), filtered by kind."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from services import audit
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page

pytestmark = pytest.mark.parametrize(
    "device", ["iPhone 13", "iPad (gen 7) landscape"], indirect=True
)


def test_reading_the_log(screen, e2e_server, clinic):
    org, owner = clinic["org"], clinic["owner"]
    now = datetime.now(UTC)
    for i in range(64):
        audit.record(org.id, owner.id, "services.edited", f"Edited service {i + 1}.", now)
    audit.record(
        org.id,
        owner.id,
        "settings.changed",
        "Changed time zone.",
        now,
        detail={"changes": {"Time zone": ["Europe/London", "Europe/Lisbon"]}},
    )
    sign_in(screen, e2e_server, "owner@clinic.test", "/w/clinic")
    tabs = screen.get_by_role("navigation", name=re.compile("workspace$"))
    tabs.get_by_role("link", name="Audit log").click()

    expect(screen.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    entries = screen.locator("li.au-entry")
    expect(entries).to_have_count(30)
    expect(entries.first).to_contain_text(re.compile("Europe/London.*Europe/Lisbon"))
    check_page(screen)
    screenshot(screen, "audit-log")

    screen.evaluate("window.stillTheSamePage = true")
    screen.get_by_role("link", name="Show older entries").click()
    expect(entries).to_have_count(60)
    expect(screen.locator("#audit-older")).to_be_focused()
    expect(screen.locator("#audit-status")).to_have_text("30 older entries added.")
    assert screen.evaluate("window.stillTheSamePage") is True

    screen.get_by_label("Kind of action").select_option("settings")
    expect(entries).to_have_count(1)
    expect(screen).to_have_url(re.compile(r"/w/clinic/audit\?.*kind=settings"))
    assert screen.evaluate("window.stillTheSamePage") is True
    check_page(screen)
    screenshot(screen, "audit-log-settings")

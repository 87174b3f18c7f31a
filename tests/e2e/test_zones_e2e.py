"""Time zones in a real browser (issue 15, item 7).

A customer whose phone is on another clock than the business's sees their own time under
each time, on the page's 24-hour clock, with the day when it is another day there
("Tue 00:30 your time"): on the picker, the review and the confirmation. The owner picks
the business's zone from a list of places by offset that a search box narrows.

The server runs on the real clock, so the day is chosen relative to now. The business is
in London and open 06:00–21:00, so that its early times are the day before in Los
Angeles and its late ones the day after in Kolkata.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from models import Organisation
from tests import factories
from tests.e2e.conftest import sign_in

LONDON = ZoneInfo("Europe/London")
SHOTS = Path("/tmp/shots-zones")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def late_clinic(app):
    org = factories.make_org("lateclinic")
    owner = factories.make_owner(org, "owner@late.test")
    rae = factories.make_provider(org, "Rae Long", hours=[(time(6), time(21))])
    service = factories.make_service(org, [rae], "Consultation", 30, price_cents=0)
    customer = factories.make_user("kit@example.com", "Kit Far")
    return {"org": org, "owner": owner, "service": service, "customer": customer}


def target_day() -> date:
    """The first weekday at least three days from now in London."""
    day = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def yours(start_iso: str, device: str) -> str:
    """What the page should add under a time starting at ``start_iso``: the device's
    time, with its weekday when that is another day than in London ("" when the same)."""
    start = datetime.fromisoformat(start_iso)
    here, there = start.astimezone(ZoneInfo(device)), start.astimezone(LONDON)
    if (here.date(), here.time()) == (there.date(), there.time()):
        return ""
    day = f"{here:%a} " if here.date() != there.date() else ""
    return f"{day}{here:%H:%M} your time"


@pytest.fixture
def phone_in(browser):
    """``phone_in(zone)``: a 390 × 844 phone page whose clock is in ``zone``. The test
    fails if the Content Security Policy refused anything (as tests/e2e/conftest.py's)."""
    contexts, refused = [], []

    def open_page(zone: str):
        context = browser.new_context(**PHONE, timezone_id=zone)
        context.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    assert not refused


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("device", "pick", "note"),
    [
        # 20:00 in London is 01:30 (00:30 in summer) the next day in Kolkata. Chromium
        # gives this zone by its old id, Asia/Calcutta: the note says the clock's name.
        ("Asia/Kolkata", "20:00", "India Standard Time"),
        # 06:00 in London is 22:00 the day before in Los Angeles.
        ("America/Los_Angeles", "06:00", "Pacific (Standard|Daylight) Time"),
        ("Europe/London", "20:00", None),  # the same clock: nothing added
    ],
)
def test_the_customers_own_time_on_picker_review_and_confirmation(
    phone_in, e2e_server, late_clinic, device, pick, note
):
    org, service = late_clinic["org"], late_clinic["service"]
    day = target_day()
    page = phone_in(device)
    sign_in(page, e2e_server, "kit@example.com")
    name = device.split("/")[-1].lower()

    page.goto(
        f"{e2e_server}/{org.slug}/book/{service.id}/when"
        f"?provider=any&month={day:%Y-%m}&day={day.isoformat()}"
    )
    expect(page.locator("#slots-title")).to_have_text(f"{day:%A} {day.day} {day:%B}")
    zone_note = page.locator("p.tz-note")
    expect(zone_note).to_have_text(f"Times are {label_at(day)}.")
    slots = page.locator("a.slot")
    starts = [slots.nth(i).get_attribute("data-start") for i in range(slots.count())]
    expected = [yours(start, device) for start in starts]
    if note:
        expect(zone_note.locator("xpath=following-sibling::span[1]")).to_have_text(
            re.compile(f"^Your phone is on {note}: your time is shown under each.$")
        )
        expect(page.locator("a.slot .yours")).to_have_text(expected)
        assert any(" " in text.split(" your time")[0] for text in expected)  # a day shown
    else:
        expect(page.locator(".yours")).to_have_count(0)
    shot(page, f"1-picker-{name}")

    start = next(
        s for s in starts if f"{datetime.fromisoformat(s).astimezone(LONDON):%H:%M}" == pick
    )
    page.locator(f'a.slot[data-start="{start}"]').click()
    expect(page.get_by_role("heading", name="Review and confirm")).to_be_visible()
    when = page.locator("dl.facts dd").nth(1)
    expect(when).to_contain_text(f", {pick}–")
    expect(when.locator("[data-org-tz]")).to_have_text(label_at(day))
    if note:
        expect(when.locator(".yours")).to_have_text(yours(start, device))
        assert yours(start, device)[:4] in {
            f"{d:%a} " for d in (day - timedelta(1), day + timedelta(1))
        }
    else:
        expect(when.locator(".yours")).to_have_count(0)
    shot(page, f"2-review-{name}")

    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    facts = page.locator("dl.facts dd").nth(2)
    expect(facts.locator("[data-org-tz]")).to_have_text(label_at(day))
    if note:
        expect(facts.locator(".yours")).to_have_text(yours(start, device))
    else:
        expect(facts.locator(".yours")).to_have_count(0)
    shot(page, f"3-confirmed-{name}")


def label_at(day: date) -> str:
    summer = datetime.combine(day, time(12), tzinfo=LONDON).dst()
    return "London time (BST)" if summer else "London time (GMT)"


def test_the_owner_finds_a_zone_by_searching_the_list(browser, e2e_server, late_clinic):
    context = browser.new_context(viewport={"width": 1180, "height": 820})
    page = context.new_page()
    try:
        sign_in(page, e2e_server, "owner@late.test", "/w/lateclinic/settings")
        zone = page.get_by_label("Time zone")
        expect(zone).to_have_value("Europe/London")
        search = page.get_by_label("Search by city, country or offset")
        expect(search).to_be_visible()
        total = zone.locator("option").count()
        assert total > 350

        search.fill("india")
        expect(zone.locator("option")).to_have_text(["Kolkata — GMT+5:30"])
        expect(zone).to_have_value("Asia/Kolkata")
        expect(page.locator(".zone-count")).to_have_text("1 time zone matches.")
        shot(page, "4-settings-search-india")

        search.fill("new york")
        expect(zone.locator("option")).to_have_text([re.compile("^New York — GMT\u2212[54]:00$")])
        offset = zone.locator("option").first.inner_text().split("GMT")[1]  # "−5:00"
        search.fill("GMT" + offset.replace("\u2212", "-"))  # typed with a hyphen
        expect(zone).to_have_value("America/New_York")  # still listed: kept
        search.fill("atlantis")
        expect(page.locator(".zone-count")).to_have_text("No time zone matches “atlantis”.")
        expect(zone.locator("option")).to_have_count(total)
        search.fill("")
        expect(zone.locator("option")).to_have_count(total)
        expect(zone).to_have_value("America/New_York")
        shot(page, "5-settings-list")

        search.fill("kolkata")
        search.press("Enter")  # chooses from the list; doesn't send the form
        expect(zone).to_be_focused()
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_text("Settings saved.")).to_be_visible()
        assert Organisation.get(slug="lateclinic").timezone == "Asia/Kolkata"
    finally:
        context.close()


def test_without_javascript_the_select_works_alone(browser, e2e_server, late_clinic):
    context = browser.new_context(
        viewport={"width": 1180, "height": 820}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto(f"{e2e_server}/business/sign-up")
        expect(page.get_by_label("Search by city, country or offset")).to_be_hidden()
        zone = page.get_by_label("Time zone")
        expect(zone).to_have_value("Europe/London")
        zone.select_option("Australia/Lord_Howe")
        expect(zone).to_have_value("Australia/Lord_Howe")
        shot(page, "6-sign-up-no-js")
    finally:
        context.close()


def test_the_search_still_works_after_the_form_comes_back_with_errors(phone_in, e2e_server, app):
    page = phone_in("Europe/London")
    page.goto(f"{e2e_server}/business/sign-up")
    page.get_by_label("Search by city, country or offset").fill("tokyo")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    page.get_by_role("button", name="Create my business").click()  # nothing else filled in
    expect(page.get_by_text("Enter your business's name.")).to_be_visible()
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("Asia/Tokyo")  # kept
    page.get_by_label("Search by city, country or offset").fill("lord howe")
    expect(zone.locator("option")).to_have_text([re.compile(r"^Lord Howe — GMT\+1(1:00|0:30)$")])
    shot(page, "7-sign-up-after-errors")

"""The weekly hours editor (issue 15): a switch per day, "+ Add a break", "× Remove" and
"Copy to all weekdays", on a tablet both ways round and on a phone; and the same form
with JavaScript off, where each button posts and the page comes back edited.

Ana (the clinic) works Mon–Fri 09:00–13:00 and 14:00–17:00.
"""

from __future__ import annotations

from datetime import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page
from tests.integration.test_ws_availability import hours_of

PAGE = "/w/clinic/availability"
SIZES = {  # name: (the device it behaves like, the screen it has)
    "iPad 1180x820": ("iPad (gen 7) landscape", {"width": 1180, "height": 820}),
    "iPad 820x1180": ("iPad (gen 7)", {"width": 820, "height": 1180}),
    "Phone 390x844": ("iPhone 13", {"width": 390, "height": 844}),
}


@pytest.fixture(params=list(SIZES))
def device(request, playwright):
    """Replaces tests/e2e/conftest.py's: the sizes above, on those devices."""
    like, viewport = SIZES[request.param]
    return request.param, {**playwright.devices[like], "viewport": viewport}


def interval(day, n: int):
    return day.get_by_label(f"interval {n}, from"), day.get_by_label(f"interval {n}, to")


def expect_intervals(day, *typed: tuple[str, str]) -> None:
    expect(day.locator("input.av-time:visible")).to_have_count(2 * len(typed))
    for n, (start, end) in enumerate(typed, 1):
        opens, closes = interval(day, n)
        expect(opens).to_have_value(start)
        expect(closes).to_have_value(end)


def shoot(page, label: str) -> None:
    """The whole page, and the weekly hours on their own (easier to look at)."""
    screenshot(page, label)
    name = page.device_name.replace(" ", "_")
    page.locator("#hours").screenshot(path=str(SCREENSHOTS / f"{label}-{name}-section.png"))


def assert_big_enough(locator) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["width"] >= 44, box
    assert box["height"] >= 44, box


def test_a_provider_edits_the_week_with_the_switches_breaks_and_copy(screen, e2e_server, clinic):
    sign_in(screen, e2e_server, "ana@clinic.test", PAGE)
    form = screen.locator("#hours-form")
    status = screen.locator("#hours-status")
    monday, friday, saturday = (
        form.get_by_role("group", name=day) for day in ("Monday", "Friday", "Saturday")
    )
    expect_intervals(monday, ("09:00", "13:00"), ("14:00", "17:00"))
    expect(saturday.get_by_text("Closed", exact=True)).to_be_visible()
    expect(saturday.locator("input.av-time:visible")).to_have_count(0)
    expect(saturday.get_by_role("button", name="Add a break on Saturday")).to_be_hidden()
    check_page(screen)
    shoot(screen, "hours-week")
    for target in (
        form.get_by_role("switch", name="Open on Saturday"),
        monday.get_by_role("button", name="Remove 14:00–17:00 on Monday"),
        monday.get_by_role("button", name="Add a break on Monday"),
        monday.get_by_role("button", name="Copy to all weekdays from Monday"),
        monday.get_by_label("interval 1, from"),
    ):
        assert_big_enough(target)

    # Saturday on: 09:00–17:00 to start from, then a break in it, then one part removed.
    form.get_by_role("switch", name="Open on Saturday").check()
    expect(saturday.get_by_text("Closed", exact=True)).to_be_hidden()
    expect_intervals(saturday, ("09:00", "17:00"))
    saturday.get_by_role("button", name="Add a break on Saturday").click()
    expect(status).to_have_text("A break 13:00–14:00 added on Saturday. Not saved yet.")
    saturday = form.get_by_role("group", name="Saturday")  # the form was swapped
    expect_intervals(saturday, ("09:00", "13:00"), ("14:00", "17:00"))
    expect(saturday.get_by_label("interval 2, from")).to_be_focused()
    shoot(screen, "hours-break-added")
    saturday.get_by_role("button", name="Remove 14:00–17:00 on Saturday").click()
    expect(status).to_have_text("Removed 14:00–17:00 on Saturday. Not saved yet.")
    expect_intervals(form.get_by_role("group", name="Saturday"), ("09:00", "13:00"))
    expect(form.get_by_role("button", name="Add a break on Saturday")).to_be_focused()

    # Monday's afternoon to 18:00 (the remove button's name follows), copied to Tue–Fri.
    monday.get_by_label("interval 2, to").fill("18:00")
    expect(monday.get_by_role("button", name="Remove 14:00–18:00 on Monday")).to_be_visible()
    tuesday_copy = form.get_by_role("button", name="Copy to all weekdays from Tuesday")
    expect(tuesday_copy).to_be_hidden()  # shown on Monday and on the day being edited
    monday.get_by_role("button", name="Copy to all weekdays from Monday").click()
    expect(status).to_have_text(
        "Monday's hours copied to Tuesday, Wednesday, Thursday and Friday. Not saved yet."
    )
    for day in ("Tuesday", "Wednesday", "Thursday", "Friday"):
        copied = form.get_by_role("group", name=day)
        expect_intervals(copied, ("09:00", "13:00"), ("14:00", "18:00"))
    shoot(screen, "hours-copied")

    # Friday off: "Closed", its intervals hidden (and not saved).
    form.get_by_role("switch", name="Open on Friday").uncheck()
    expect(friday.get_by_text("Closed", exact=True)).to_be_visible()
    expect(friday.locator("input.av-time:visible")).to_have_count(0)
    expect(form.get_by_text("Changes not saved yet.")).to_be_visible()
    check_page(screen)
    shoot(screen, "hours-before-save")

    form.get_by_role("button", name="Save weekly hours").click()
    expect(status).to_have_text("Weekly hours saved.")
    expect(form.get_by_text("Changes not saved yet.")).to_have_count(0)
    week = [(time(9), time(13)), (time(14), time(18))]
    saturday = [(time(9), time(13))]
    assert hours_of(clinic["ana"].id) == {0: week, 1: week, 2: week, 3: week, 5: saturday}
    expect(form.get_by_role("switch", name="Open on Friday")).not_to_be_checked()
    shoot(screen, "hours-saved")


@pytest.mark.parametrize("device", ["Phone 390x844"], indirect=True)
def test_without_javascript_every_button_still_works(browser, device, e2e_server, clinic):
    name, settings = device
    context = browser.new_context(**settings, java_script_enabled=False)
    page = context.new_page()
    page.device_name = f"{name} no JS"
    try:
        sign_in(page, e2e_server, "ana@clinic.test", PAGE)
        form = page.locator("#hours-form")
        sunday = form.get_by_role("group", name="Sunday")
        form.get_by_role("switch", name="Open on Sunday").check()  # the CSS shows its interval
        sunday.get_by_label("interval 1, from").fill("10:00")
        sunday.get_by_label("interval 1, to").fill("16:00")
        sunday.get_by_role("button", name="Add a break on Sunday").click()
        expect(page.locator("#hours-status")).to_have_text(
            "A break 13:00–14:00 added on Sunday. Not saved yet."
        )
        sunday = page.locator("#hours-form").get_by_role("group", name="Sunday")
        expect_intervals(sunday, ("10:00", "13:00"), ("14:00", "16:00"))
        expect(sunday.get_by_label("interval 2, from")).to_be_focused()  # autofocus
        page.locator("#hours-form").get_by_role(
            "button", name="Copy to all weekdays from Wednesday"
        ).click()  # all copy buttons show without JavaScript
        expect(page.locator("#hours-status")).to_contain_text("Wednesday's hours copied")
        page.locator("#hours-form").get_by_role("button", name="Save weekly hours").click()
        expect(page.get_by_text("Weekly hours saved.")).to_be_visible()
        shoot(page, "hours-no-js-saved")
        week = [(time(9), time(13)), (time(14), time(17))]
        assert hours_of(clinic["ana"].id) == {d: week for d in range(5)} | {
            6: [(time(10), time(13)), (time(14), time(16))]
        }
    finally:
        context.close()

"""Choosing a day on a phone (issue 15, items 2 and 8): its times come into view, with
and without JavaScript, with or without reduced motion; the calendar's days are thumb-sized
at 320 px; "Next available" is on screen and leads to the soonest day's times; the
service cards name who gives each service.

Phones only, at a 390 × 844 iPhone 13 and a 320 × 568 screen (the narrowest in use).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_booking_e2e import check_page, open_month_with, target_day

NARROW = "320x568"


@pytest.fixture(params=["iPhone 13", NARROW])
def device(request, playwright):
    """The iPhone 13 as Playwright describes it, and the same phone 320 × 568 px."""
    iphone = playwright.devices["iPhone 13"]
    if request.param == NARROW:
        size = {"width": 320, "height": 568}
        return request.param, {**iphone, "viewport": size, "screen": size}
    return request.param, iphone


def look(page, label: str) -> None:
    """What the phone's screen shows (not the whole page): the point of these tests."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{label}-{page.device_name}.png"))


def when_url(base: str, clinic, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"provider": "any", **args}.items())
    return f"{base}/clinic/book/{clinic['follow_up'].id}/when?{query}"


def assert_on_screen(page, locator, *, scripted: bool = True) -> None:
    """``locator`` lies wholly inside the viewport once any smooth scrolling has ended: the
    page has not scrolled between two looks 150 ms apart (a look during the scroll could
    see the element passing through the viewport on its way). Without scripts
    (``scripted=False``) the page jumps at once, and only one look is possible."""
    handle = locator.element_handle()
    if scripted:
        page.wait_for_function(
            """(el) => { const r = el.getBoundingClientRect(), y = window.scrollY;
                         const still = window.__lastScrollY === y;
                         window.__lastScrollY = y;
                         return still && r.top >= 0 && r.bottom <= window.innerHeight; }""",
            arg=handle,
            polling=150,
            timeout=5000,
        )
    box, size = locator.bounding_box(), page.viewport_size
    inside = (
        0 <= box["y"] <= box["y"] + box["height"] <= size["height"],
        0 <= box["x"] <= box["x"] + box["width"] <= size["width"],
    )
    assert inside == (True, True), (box, size)


def choose(page, day) -> None:
    page.locator(f'a.day[href*="day={day.isoformat()}"]').click()
    expect(page.locator("#slots-title")).to_have_text(f"{day:%A} {day.day} {day:%B}")


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_a_chosen_day_brings_its_times_into_view(screen, e2e_server, clinic, motion):
    screen.emulate_media(reduced_motion=motion)
    day = target_day()
    screen.goto(when_url(e2e_server, clinic))
    open_month_with(screen, day)

    choose(screen, day)

    first = screen.locator("#picker a.slot").first
    assert_on_screen(screen, first)
    # A screen reader is taken to the day's times too: the heading has the focus.
    expect(screen.locator("#slots-title")).to_be_focused()
    look(screen, f"dayview-chosen-{motion}")
    # Another day from up there works the same.
    screen.evaluate("window.scrollTo(0, 0)")
    other = screen.locator(f"a.day:not(.selected):not([href*='day={day.isoformat()}'])").last
    label = other.get_attribute("aria-label")
    other.click()
    expect(screen.locator("a.day.selected")).to_have_attribute("aria-label", label)
    assert_on_screen(screen, screen.locator("#picker a.slot").first)
    expect(screen.locator("#slots-title")).to_be_focused()


@pytest.fixture
def no_script(browser, device):
    """The same phone with JavaScript off."""
    context = browser.new_context(**device[1], java_script_enabled=False)
    page = context.new_page()
    page.device_name = device[0]
    yield page
    context.close()


def test_without_javascript_a_chosen_day_opens_at_its_times(no_script, e2e_server, clinic):
    day = target_day()
    no_script.goto(when_url(e2e_server, clinic))
    open_month_with(no_script, day)

    choose(no_script, day)

    expect(no_script).to_have_url(re.compile(rf"day={day.isoformat()}.*#slots-title$"))
    assert_on_screen(no_script, no_script.locator("a.slot").first, scripted=False)
    look(no_script, "dayview-nojs-chosen")


def test_calendar_days_are_thumb_sized_and_the_page_fits(screen, e2e_server, clinic):
    screen.goto(when_url(e2e_server, clinic))
    days = screen.locator("#picker .day")
    expect(days.first).to_be_visible()

    sizes = [days.nth(i).bounding_box() for i in range(days.count())]
    small = [(round(b["width"], 1), round(b["height"], 1)) for b in sizes]
    small = [size for size in small if min(size) < 44]
    assert len(sizes) >= 28
    assert small == []
    check_page(screen)
    look(screen, "dayview-calendar")


def test_next_available_is_on_screen_and_leads_to_the_soonest_times(screen, e2e_server, clinic):
    screen.goto(when_url(e2e_server, clinic))
    soonest = screen.locator("a.day.selected").get_attribute("aria-label")  # opens on it
    shortcut = screen.get_by_role("link", name=re.compile("^Next available"))
    assert_on_screen(screen, shortcut)
    screen.get_by_role("link", name="Next month").click()
    expect(screen.locator("a.day.selected")).not_to_have_attribute("aria-label", soonest)
    assert_on_screen(screen, shortcut)  # still at the top of the picker
    look(screen, "dayview-next-month")

    shortcut.click()

    expect(screen.locator("a.day.selected")).to_have_attribute("aria-label", soonest)
    assert_on_screen(screen, screen.locator("#picker a.slot").first)
    expect(screen.locator("#slots-title")).to_be_focused()
    check_page(screen)


def test_service_cards_name_the_providers(screen, e2e_server, clinic):
    team = [factories.make_provider(clinic["org"], n) for n in ("Ida Moss", "Joe Park")]
    factories.make_service(clinic["org"], [clinic["ana"], *team], "Group class", 60)
    screen.goto(f"{e2e_server}/clinic")

    def card(name):
        return screen.locator("a.service", has_text=name)

    expect(card("Follow-up")).to_contain_text("with Ana Silva or Tom Reed")
    expect(card("Initial assessment")).to_contain_text("with Ana Silva")
    expect(card("Sports massage")).to_contain_text("with Tom Reed")
    expect(card("Group class")).to_contain_text("with 3 providers")
    check_page(screen)
    look(screen, "dayview-services")

"""The workspace on an iPad held both ways, 1180 × 820 and 820 × 1180 (issue 15, items 10
and 11): opening a booking keeps your place on the schedule (the page and the grid stay
scrolled where they were; the panel is a side sheet in landscape and a drawer from the
bottom in portrait, closed with its button or Escape, the focus back on the booking);
time off added from a free time shows on the grid; the week fits the screen, closed days
narrow, names whole.

Screenshots go to test-results/screenshots (what the screen shows, not the whole page).
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from playwright.sync_api import expect

from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.e2e.test_workspace_e2e import LONDON, next_weekday

SIZES = {"landscape": (1180, 820), "portrait": (820, 1180)}
SCROLLED = """() => { const grid = document.querySelector('.ws-grid');
                      return [scrollX, scrollY, grid.scrollLeft, grid.scrollTop]; }"""


@pytest.fixture(params=list(SIZES))
def device(request, playwright):
    """An iPad (touch, mobile viewport) at 1180 × 820 or 820 × 1180."""
    width, height = SIZES[request.param]
    size = {"width": width, "height": height}
    return request.param, {**playwright.devices["iPad (gen 7)"], "viewport": size, "screen": size}


def look(page, label: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{label}-tablet-{page.device_name}.png"))


def book(clinic, provider, service, day, at: time, customer=None) -> int:
    return bookings.book(
        customer_id=(customer or clinic["customer"]).id,
        service_id=service.id,
        start=datetime.combine(day, at, LONDON),
        now=datetime.now(UTC),
        provider_id=provider.id,
        dispatch=Dispatch(),
    ).id


@pytest.fixture
def busy_clinic(clinic):
    """The clinic with six more providers (so the day's grid scrolls sideways too) and a
    booking with Tom, the second column, at 11:00 on a weekday soon."""
    day = next_weekday()
    for n in range(6):
        factories.make_provider(clinic["org"], f"Zoe Extra{n}")
    booking = book(clinic, clinic["tom"], clinic["follow_up"], day, time(11))
    return {**clinic, "day": day, "booking": booking}


def test_opening_a_booking_keeps_your_place(screen, e2e_server, busy_clinic):
    day, booking = busy_clinic["day"], busy_clinic["booking"]
    sign_in(screen, e2e_server, "owner@clinic.test", f"/w/clinic?date={day.isoformat()}")
    width, height = SIZES[screen.device_name]
    block = screen.locator(f'.ws-booking[data-booking="{booking}"]')
    screen.wait_for_load_state("load")  # the stylesheet too: what makes the grid a scroller
    screen.evaluate(
        "() => { scrollTo(0, 250); document.querySelector('.ws-grid').scrollLeft = 120; }"
    )
    block.scroll_into_view_if_needed()
    place = screen.evaluate(SCROLLED)
    assert place[1] > 0, place  # scrolled both ways: a place to lose
    assert place[2] > 0, place

    for close in ("button", "Escape"):
        block.tap()
        panel = screen.locator("#panel")
        expect(panel.get_by_role("heading", name="Casey Morgan")).to_be_focused()
        assert screen.evaluate(SCROLLED) == place
        box = panel.bounding_box()
        if screen.device_name == "landscape":  # a side sheet: the right edge, full height
            assert (box["x"] + box["width"], box["y"], box["height"]) == (width, 0, height)
            assert box["width"] < width / 2
        else:  # a drawer from the bottom, the full width
            assert (box["x"], box["width"], box["y"] + box["height"]) == (0, width, height)
            assert box["y"] > 0
            assert box["height"] < height * 0.6
        closer = panel.get_by_role("link", name="Close")
        expect(closer).to_be_visible()
        size = closer.bounding_box()
        assert min(size["width"], size["height"]) >= 44
        look(screen, "booking-open")

        if close == "button":
            # A customer books meanwhile: the schedule is redrawn under the panel, and
            # stays where it was; the focus still finds its way back to the booking.
            book(busy_clinic, busy_clinic["ana"], busy_clinic["follow_up"], day, time(16))
            expect(screen.locator(".ws-booking")).to_have_count(2, timeout=10_000)
            assert screen.evaluate(SCROLLED) == place
            closer.tap()
        else:
            screen.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(block).to_be_focused()
        assert screen.evaluate(SCROLLED) == place


def test_time_off_from_a_free_time_shows_on_the_grid(screen, e2e_server, clinic):
    day = next_weekday()
    sign_in(screen, e2e_server, "ana@clinic.test", f"/w/clinic?date={day.isoformat()}")
    screen.locator('.ws-free[aria-label="Book Ana Silva at 15:00"]').tap()
    panel = screen.locator("#panel")
    expect(panel.get_by_role("heading", name="New booking with Ana Silva")).to_be_visible()
    panel.get_by_role("link", name="Time off").tap()
    expect(panel.get_by_role("heading", name="Time off for Ana Silva")).to_be_focused()
    expect(panel.get_by_label("Start time")).to_have_value("15:00")
    expect(panel.get_by_label("End time")).to_have_value("16:00")
    panel.get_by_label("Reason (optional)").fill("Dentist")
    look(screen, "time-off-form")
    panel.get_by_role("button", name="Add time off").tap()

    expect(panel.get_by_text("Time off added.")).to_be_visible()
    expect(screen.locator(".ws-off", has_text="Time off 15:00–16:00")).to_be_visible()
    expect(screen.locator('.ws-free[aria-label="Book Ana Silva at 15:00"]')).to_have_count(0)
    look(screen, "time-off-added")


def test_the_week_fits_the_screen_with_closed_days_narrow(screen, e2e_server, clinic):
    day = next_weekday()
    long_name = factories.make_user("max@example.com", "Maximiliana Featherstonehaugh")
    book(clinic, clinic["ana"], clinic["assessment"], day, time(9), customer=long_name)
    book(clinic, clinic["ana"], clinic["follow_up"], day, time(11, 30))
    sign_in(screen, e2e_server, "owner@clinic.test", f"/w/clinic/week?date={day.isoformat()}")
    expect(screen.locator(".ws-booking")).to_have_count(2)
    look(screen, "week")

    sizes = screen.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1], sizes
    grid = screen.locator(".ws-grid")
    assert grid.evaluate("el => el.scrollWidth <= el.clientWidth")
    columns = screen.locator(".ws-column")
    monday, saturday, sunday = (columns.nth(i).bounding_box() for i in (0, 5, 6))
    assert saturday["width"] < monday["width"] / 2  # the clinic is closed at weekends
    assert sunday["x"] + sunday["width"] <= SIZES[screen.device_name][0]
    expect(columns.nth(5)).to_contain_text("Closed")

    # Names whole: wrapped onto a second line at most, not cut off with an ellipsis.
    cut = """els => els.filter(el => el.scrollWidth > el.clientWidth + 1
                                || el.scrollHeight > el.clientHeight + 1)
                       .map(el => el.textContent)"""
    if screen.device_name == "landscape":
        assert screen.locator(".ws-booking strong").evaluate_all(cut) == []
        screen.goto(f"{e2e_server}/w/clinic?date={day.isoformat()}")
        assert screen.locator(".ws-col-title .ws-name").evaluate_all(cut) == []
        expect(screen.get_by_role("heading", name="Ana Silva", exact=True)).to_be_visible()

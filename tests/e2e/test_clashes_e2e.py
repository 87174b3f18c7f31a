"""A busy time from Ana's own calendar over a booking she already had, on a 390 × 844
phone and a 1180 × 820 tablet: the booking carries a clash mark on the day and the week,
the busy times show hatched, and the booking's panel says which times clash."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from playwright.sync_api import expect

from models import BusyBlock, ExternalCalendar
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests.e2e.conftest import SCREENSHOTS, screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page
from tests.e2e.test_workspace_e2e import LONDON, next_weekday

SIZES = {
    "phone 390x844": ("iPhone 13", {"width": 390, "height": 844}),
    "tablet 1180x820": ("iPad (gen 7) landscape", {"width": 1180, "height": 820}),
}


@pytest.fixture(params=list(SIZES))
def device(request, playwright):
    """Replaces tests/e2e/conftest.py's: the two sizes above, on those devices."""
    name, viewport = SIZES[request.param]
    return request.param, {**playwright.devices[name], "viewport": viewport}


@pytest.fixture
def clash(clinic):
    """Ana's assessment at 10:00 on a coming weekday, and her calendar busy 10:30–11:15
    over it and 14:00–15:00 (no clash); Tom's follow-up at 10:00 and nothing over it."""
    day = next_weekday()
    now = datetime.now(UTC)

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), LONDON)

    made = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["assessment"].id,
        start=at(10),
        now=now,
        dispatch=Dispatch(),
    )
    bookings.book(
        customer_id=clinic["owner"].id,
        service_id=clinic["follow_up"].id,
        start=at(10),
        provider_id=clinic["tom"].id,
        now=now,
        dispatch=Dispatch(),
    )
    calendar = ExternalCalendar.create(
        provider=clinic["ana"],
        url="https://calendar.google.com/calendar/ical/ana%40example.com/private-abc/basic.ics",
        next_try_at=now,
        created_at=now,
    )
    for start, end in ((at(10, 30), at(11, 15)), (at(14), at(15))):
        BusyBlock.create(calendar=calendar, provider=clinic["ana"], start_at=start, end_at=end)
    return day, made


def test_a_clash_is_marked_on_the_schedule_and_explained_in_the_panel(screen, e2e_server, clash):
    day, booking = clash
    sign_in(screen, e2e_server, "ana@clinic.test", f"/w/clinic?date={day.isoformat()}")

    block = screen.locator(f".ws-booking[data-booking='{booking.id}']")
    expect(block.locator(".ws-mark-clash")).to_be_visible()
    expect(block).to_have_accessible_name(
        "10:00 Casey Morgan Clashes with your calendar Unpaid Initial assessment"
    )
    expect(screen.locator(".ws-imported")).to_have_count(2)
    expect(screen.locator(".ws-imported").first).to_contain_text(
        "Busy (from your calendar) 10:30–11:15"
    )
    check_page(screen)
    screenshot(screen, "clash-day")
    block.screenshot(
        path=str(SCREENSHOTS / f"clash-booking-{screen.device_name.replace(' ', '_')}.png")
    )

    block.click()
    note = screen.locator("#panel .ws-clash-note")
    expect(note).to_contain_text(
        "Your calendar (calendar.google.com) has something from 10:30 to 11:15"
        " — move or cancel one of them."
    )
    expect(note).not_to_contain_text("14:00")
    check_page(screen)
    screenshot(screen, "clash-panel")

    screen.goto(f"{e2e_server}/w/clinic/week?date={day.isoformat()}")
    expect(screen.locator(".ws-booking .ws-mark-clash")).to_have_count(1)
    check_page(screen)
    screenshot(screen, "clash-week")


def test_the_owner_sees_whose_calendar_it_is(screen, e2e_server, clash):
    day, booking = clash
    sign_in(screen, e2e_server, "owner@clinic.test", f"/w/clinic?date={day.isoformat()}")

    expect(screen.locator(".ws-mark-clash")).to_have_count(1)  # Tom's booking is clear
    expect(screen.locator(f".ws-booking[data-booking='{booking.id}']")).to_contain_text(
        "Clashes with Ana Silva's calendar"
    )
    expect(screen.locator(".ws-imported").first).to_contain_text("Busy (from Ana Silva's calendar)")
    check_page(screen)
    screenshot(screen, "clash-owner-day")

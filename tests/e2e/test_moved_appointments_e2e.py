"""A moved appointment in a real browser (issue 15, item 6), on a 390 × 844 and a 320 px
wide phone: moved through its own pages, "My appointments" shows it once, saying where it
moved from; its page's history reads "Moved from …"; and a cancelled card keeps the
provider's name on one or two lines, not squeezed into four beside its badge."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from models import Booking, Organisation, Provider
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page
from tests.e2e.test_contact_e2e import SIZES, next_weekday_10

PHONES = ["phone 390x844", "phone 320x568"]


@pytest.fixture
def device(request, playwright):
    model, viewport = SIZES[request.param]
    return request.param, dict(playwright.devices[model], viewport=viewport, screen=viewport)


def lines_of(locator) -> float:
    """How many lines of text the element takes: its height over its line height."""
    return locator.evaluate(
        "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)"
    )


@pytest.mark.parametrize("device", PHONES, indirect=True)
def test_a_moved_appointment_is_one_card_and_a_cancelled_card_stays_readable(
    screen, e2e_server, clinic
):
    # Names as long as real ones: the provider's and the business's share a line.
    Organisation.update(name="Harbour Physiotherapy").where(Organisation.slug == "clinic").execute()
    Provider.update(name="Anastasia Silva-Whitfield").where(
        Provider.id == clinic["ana"].id
    ).execute()
    start = next_weekday_10().astimezone(UTC)  # 10:00 in London
    customer = clinic["customer"]

    def book(at: datetime) -> Booking:
        return bookings.book(
            customer_id=customer.id,
            service_id=clinic["assessment"].id,
            provider_id=clinic["ana"].id,
            start=at,
            now=datetime.now(UTC),
            dispatch=Dispatch(),
        )

    made = book(start)
    dropped = book(next_weekday_10(days_ahead=10).astimezone(UTC))
    bookings.cancel(
        booking_id=dropped.id, actor_id=customer.id, now=datetime.now(UTC), dispatch=Dispatch()
    )

    # Move it from its own page, to the first other time that day.
    sign_in(screen, e2e_server, customer.email, then=f"/appointments/{made.id}")
    screen.get_by_role("link", name="Move").click()
    expect(screen.get_by_role("heading", name="Pick a new time")).to_be_visible()
    screen.locator(f'a.slot:not([data-start="{start.isoformat()}"])').first.click()
    screen.get_by_role("button", name="Move it").click()
    expect(screen.get_by_text("Your appointment has been moved.")).to_be_visible()
    moved = Booking.get(Booking.rescheduled_from == made.id)
    expect(screen).to_have_url(re.compile(rf"/appointments/{moved.id}$"))
    local = next_weekday_10()  # the same instant, on the clinic's clock
    was = f"Moved from {local:%a} {local.day} {local:%b}, 10:00"
    history = screen.locator("ol.history li")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("Booked")
    expect(history.nth(1)).to_contain_text(was)
    screenshot(screen, "moved-detail")

    # An old link (the first confirmation email's) opens it where it is now.
    screen.goto(f"{e2e_server}/appointments/{made.id}")
    expect(screen).to_have_url(re.compile(rf"/appointments/{moved.id}$"))

    # One card for the appointment; the cancellation is the only other.
    screen.get_by_role("link", name="My appointments").first.click()
    upcoming = screen.locator("section[aria-labelledby=upcoming-title] a.appt")
    expect(upcoming).to_have_count(1)
    expect(upcoming).to_have_attribute("href", f"/appointments/{moved.id}")
    expect(upcoming).to_contain_text(was)
    past = screen.locator("section[aria-labelledby=past-title] a.appt")
    expect(past).to_have_count(1)
    expect(past).to_have_attribute("href", f"/appointments/{dropped.id}")
    expect(past.locator(".badge")).to_have_text("cancelled")
    screenshot(screen, "moved-my-appointments")

    who = past.locator(".appt-who")
    assert lines_of(who) <= 2.1, screen.device_name
    assert lines_of(upcoming.locator(".appt-who")) <= 2.1
    for card in (upcoming, past):
        box = card.bounding_box()
        assert box["x"] + box["width"] <= screen.viewport_size["width"]
        assert box["height"] >= 44
    check_page(screen)

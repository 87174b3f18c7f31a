"""The booking journey in a real browser at phone sizes: pick a service, "anyone
available", a day in the month calendar (htmx, with the back button) and a time; a name
and an email on the way (no account needed); confirm, download the .ics, see it in "my
appointments", move it and cancel it. Also: the time taken by someone else before
confirming, the journey with JavaScript off, and axe-core on each step.

The server runs on the real clock, so days are chosen relative to now: far enough ahead
(three days) to be inside the free cancellation window.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from config import ROOT
from models import Booking, User
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.e2e.conftest import screenshot, sign_in

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LONDON = ZoneInfo("Europe/London")

# Phones only: the booking journey is designed for them (the tablet run is the workspace's).
pytestmark = pytest.mark.parametrize("device", ["iPhone 13", "Pixel 7"], indirect=True)


def target_day() -> date:
    """The first weekday at least three days from now in London."""
    day = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def month_title(day: date) -> str:
    return day.strftime("%B %Y")


def check_page(page) -> None:
    """Fits the screen, and axe-core finds nothing serious or critical."""
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.evaluate(AXE.read_text())  # not a <script>: the CSP refuses those
    found = page.evaluate("axe.run().then((r) => r.violations)")
    serious = [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], page.url


def open_month_with(page, day: date) -> None:
    """On the picker, go forward month by month until ``day``'s month shows."""
    title = page.locator("#month-title")
    for _ in range(3):
        shown = title.inner_text()
        if shown == month_title(day):
            return
        page.get_by_role("link", name="Next month").click()
        expect(title).not_to_have_text(shown)  # swapped (or loaded) before looking again
    expect(title).to_have_text(month_title(day))


def pick_day_and_first_time(page, day: date) -> str:
    """Tap ``day`` in the calendar and then its first free time; returns that time's
    ISO start (UTC) as the page gives it."""
    page.locator(f'a.day[href*="day={day.isoformat()}"]').click()
    expect(page.locator("#slots-title")).to_have_text(f"{day:%A} {day.day} {day:%B}")
    slot = page.locator("a.slot").first
    start = slot.get_attribute("data-start")
    slot.click()
    return start


def booking_at(customer_email: str, start_iso: str, status: str = "confirmed") -> Booking:
    start = datetime.fromisoformat(start_iso)
    return (
        Booking.select()
        .join(User, on=(Booking.customer == User.id))
        .where((User.email == customer_email) & (Booking.start_at == start))
        .where(Booking.status == status)
        .get()
    )


def test_book_see_move_and_cancel_as_a_new_customer(screen, e2e_server, clinic):
    address = f"sky-{secrets.token_hex(4)}@example.com"
    day = target_day()

    # Service, then "anyone available".
    screen.goto(f"{e2e_server}/clinic")
    screenshot(screen, "booking-1-home")
    screen.locator("a.service", has_text="Follow-up").click()
    screen.get_by_role("link", name=re.compile("Anyone available")).click()
    expect(screen.get_by_role("heading", name="Pick a day and time")).to_be_visible()
    screenshot(screen, "booking-2-calendar")

    # Next month as an htmx partial with its own URL; the back button returns.
    title = screen.locator("#month-title")
    shown = title.inner_text()
    before = screen.url
    requests = []
    screen.on("request", lambda r: requests.append(r.headers))
    screen.get_by_role("link", name="Next month").click()
    expect(title).not_to_have_text(shown)
    expect(screen).to_have_url(re.compile(r"[?&]month=\d{4}-\d{2}"))
    assert screen.url != before
    assert any(h.get("hx-request") == "true" for h in requests)  # swapped, not reloaded
    screen.go_back()
    expect(title).to_have_text(shown)
    expect(screen).to_have_url(before)

    # A day, then a time.
    open_month_with(screen, day)
    start = pick_day_and_first_time(screen, day)
    expect(screen.get_by_role("heading", name="Review and confirm")).to_be_visible()
    screenshot(screen, "booking-3-review-signed-out")

    # Not signed in: a name and an email right here, no password (issue 15, item 1).
    details = screen.locator("form.guest-form")
    expect(details.locator("input[name=start]")).to_have_value(start)
    details.get_by_label("Your name").fill("Sky Porter")
    details.get_by_label("Email").fill(address)
    screenshot(screen, "booking-4-review-details")
    screen.get_by_role("button", name="Confirm booking").click()

    # Booked: a summary, and the appointment for the calendar.
    expect(screen.get_by_role("heading", name="You're booked")).to_be_visible()
    screenshot(screen, "booking-5-confirmed")
    with screen.expect_download() as download:
        screen.get_by_role("link", name="Download .ics").click()
    ics = download.value.path().read_text()
    assert ics.startswith("BEGIN:VCALENDAR")
    assert "Follow-up" in ics
    href = screen.get_by_role("link", name="Download .ics").get_attribute("href")
    response = screen.request.get(e2e_server + href)
    assert response.headers["content-type"].startswith("text/calendar")
    first = booking_at(address, start)

    # In "my appointments".
    screen.get_by_role("link", name="My appointments").click()
    card = screen.locator(f'a.appt[href$="/appointments/{first.id}"]')
    expect(card).to_contain_text("Follow-up")
    screenshot(screen, "booking-6-my-appointments")

    # Move it with the same picker: one tap for a new time, one to confirm.
    card.click()
    screen.get_by_role("link", name="Move").click()
    expect(screen.get_by_role("heading", name="Pick a new time")).to_be_visible()
    # The same day, later. It is already the selected day, so wait for htmx to swap it in
    # again: the swap's history push would cancel a navigation started before it.
    with screen.expect_response(lambda r: f"day={day.isoformat()}" in r.url):
        screen.locator(f'a.day[href*="day={day.isoformat()}"]').click()
    expect(screen.locator("#picker.htmx-request")).to_have_count(0)  # swapped in
    expect(screen).to_have_url(re.compile(f"day={day.isoformat()}"))  # and pushed
    expect(screen.locator("a.day.selected")).to_have_text(str(day.day))
    new_slot = screen.locator(f'a.slot:not([data-start="{start}"])').last
    new_start = new_slot.get_attribute("data-start")
    new_slot.click()
    expect(screen.get_by_role("heading", name="Move your appointment?")).to_be_visible()
    screenshot(screen, "booking-7-move-confirm")
    screen.get_by_role("button", name="Move it").click()
    expect(screen.get_by_text("Your appointment has been moved.")).to_be_visible()
    old = Booking.get_by_id(first.id)
    assert (old.status, old.cancel_reason) == ("cancelled", "rescheduled")
    moved = booking_at(address, new_start)
    assert moved.provider_id == first.provider_id
    expect(screen).to_have_url(re.compile(rf"/appointments/{moved.id}$"))

    # Cancel it, with a reason.
    screen.get_by_role("link", name="Cancel", exact=True).click()
    screen.get_by_label("Reason").fill("Feeling better")
    screenshot(screen, "booking-8-cancel")
    screen.get_by_role("button", name="Yes, cancel it").click()
    expect(screen.get_by_text("Your appointment is cancelled.")).to_be_visible()
    expect(screen.locator(".facts .badge")).to_have_text("Cancelled")
    expect(screen.get_by_text("Feeling better")).to_be_visible()
    assert Booking.get_by_id(moved.id).status == "cancelled"
    screenshot(screen, "booking-9-cancelled")


def test_a_time_taken_while_reviewing_offers_the_nearest_free_times(screen, e2e_server, clinic):
    day = target_day()
    sign_in(screen, e2e_server, "casey@example.com")

    service = clinic["follow_up"]
    screen.goto(f"{e2e_server}/clinic/book/{service.id}/when?provider=any&day={day}")
    start = pick_day_and_first_time(screen, day)
    expect(screen.get_by_role("button", name="Confirm booking")).to_be_visible()

    # Meanwhile, somebody else books that time with everyone who could do it.
    other = factories.make_user(f"other-{secrets.token_hex(4)}@example.com", "Other Person")
    for provider in (clinic["ana"], clinic["tom"]):
        bookings.book(
            customer_id=other.id,
            service_id=service.id,
            start=datetime.fromisoformat(start),
            provider_id=provider.id,
            now=datetime.now(UTC),
            dispatch=Dispatch(),
        )

    screen.get_by_role("button", name="Confirm booking").click()
    expect(screen.get_by_role("heading", name="Sorry, that time was just taken")).to_be_visible()
    alternatives = screen.locator(".alert a.slot")
    expect(alternatives.first).to_be_visible()
    check_page(screen)
    screenshot(screen, "booking-taken")

    alternatives.first.click()
    expect(screen.get_by_role("heading", name="Review and confirm")).to_be_visible()
    chosen = screen.locator("input[name=start]").get_attribute("value")
    assert chosen != start
    screen.get_by_role("button", name="Confirm booking").click()
    expect(screen.get_by_role("heading", name="You're booked")).to_be_visible()
    assert booking_at("casey@example.com", chosen).service_id == service.id


def test_booking_works_with_javascript_off(browser, device, e2e_server, clinic):
    name, settings = device
    context = browser.new_context(**settings, java_script_enabled=False)
    page = context.new_page()
    page.device_name = name
    day = target_day()
    try:
        page.goto(f"{e2e_server}/clinic")
        page.locator("a.service", has_text="Follow-up").click()
        page.get_by_role("link", name=re.compile("Anyone available")).click()
        open_month_with(page, day)  # plain links: each month is a full page
        page.locator(f'a.day[href*="day={day.isoformat()}"]').click()
        expect(page).to_have_url(re.compile(rf"day={day.isoformat()}"))
        start = page.locator("a.slot").first.get_attribute("data-start")
        page.locator("a.slot").first.click()
        screenshot(page, "booking-nojs-review")

        page.get_by_text("Already have an account? Sign in").click()  # <details>: no JS needed
        on_review = page.locator("form[action$='/account/sign-in']")
        on_review.get_by_label("Email").fill("casey@example.com")
        on_review.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Confirm booking").click()
        expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
        screenshot(page, "booking-nojs-confirmed")
        assert booking_at("casey@example.com", start).status == "confirmed"
    finally:
        context.close()


def test_booking_pages_have_no_serious_accessibility_problems(screen, e2e_server, clinic):
    day = target_day()
    service = clinic["follow_up"]
    screen.goto(f"{e2e_server}/clinic")
    check_page(screen)

    screen.goto(f"{e2e_server}/clinic/book/{service.id}/when?provider=any&day={day}")
    expect(screen.locator("a.slot").first).to_be_visible()
    check_page(screen)

    start = screen.locator("a.slot").first.get_attribute("data-start")
    screen.locator("a.slot").first.click()
    expect(screen.get_by_role("heading", name="Review and confirm")).to_be_visible()
    check_page(screen)  # signed out: with the sign-in form

    screen.goto(f"{e2e_server}/account/sign-in")
    check_page(screen)
    sign_in(screen, e2e_server, "casey@example.com")

    bookings.book(
        customer_id=clinic["customer"].id,
        service_id=service.id,
        start=datetime.fromisoformat(start),
        now=datetime.now(UTC),
        dispatch=Dispatch(),
    )
    screen.reload()
    expect(screen.locator("a.appt")).to_have_count(1)
    check_page(screen)
    screenshot(screen, "booking-appointments-a11y")


def test_month_change_shows_loading_then_is_announced(screen, e2e_server, clinic):
    screen.goto(f"{e2e_server}/clinic/book/{clinic['follow_up'].id}/when?provider=any")
    month = screen.locator("#month-title").inner_text()
    with screen.expect_request(lambda r: "month=" in r.url and r.headers.get("hx-request")):
        screen.get_by_role("link", name="Next month").click()
    expect(screen.locator("#month-title")).not_to_have_text(month)
    status = screen.locator("#picker-status")
    expect(status).to_contain_text(screen.locator("#month-title").inner_text())
    expect(screen.locator("#picker")).not_to_have_class(re.compile("htmx-request"))

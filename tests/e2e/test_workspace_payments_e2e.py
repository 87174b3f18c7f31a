"""Payments in the workspace, in a browser on a 1180 × 820 tablet and a 390 × 844 phone:
the owner connects Stripe in Settings → Payments (a live secret key with a test
publishable key refused first), the service form's payment rule becomes available, and
a payment taken at the venue is recorded from the booking panel, the schedule's mark
changing from unpaid to deposit, and the dashboard counting it as taken. Nothing here
talks to Stripe.

The server runs on the real clock: the booking is on a weekday ahead, in London.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from models import Booking, Organisation
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page
from tests.e2e.test_privacy_e2e import device  # noqa: F401  (the 390 × 844 and 1180 × 820 screens)
from tests.integration.test_ws_customers import add_booking

LONDON = ZoneInfo("Europe/London")


def next_weekday():
    day = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_the_owner_connects_stripe_and_records_a_payment_at_the_venue(screen, e2e_server, clinic):
    day = next_weekday()
    made = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["assessment"].id,
        start=datetime.combine(day, time(10), LONDON),
        now=datetime.now(UTC),
        dispatch=Dispatch(),
    )
    form_url = f"{e2e_server}/w/clinic/services/{clinic['assessment'].id}"
    sign_in(screen, e2e_server, "owner@clinic.test", "/w/clinic/settings")

    # Without Stripe, the service form shows its payment choices off, with the way on.
    screen.goto(form_url)
    expect(screen.get_by_label("Deposit: a fixed amount")).to_be_disabled()
    screenshot(screen, "payments-service-form-off")
    screen.locator(".svc-off").get_by_role("link", name="connect Stripe in Settings").click()
    expect(screen.get_by_role("heading", name="Payments", exact=True)).to_be_visible()
    screen.goto(f"{e2e_server}/w/clinic/settings")
    screen.get_by_role("link", name="Payments and Stripe").click()
    expect(screen.get_by_role("heading", name="Online payments are off")).to_be_visible()
    check_page(screen)
    screenshot(screen, "payments-settings-off")

    screen.get_by_label("Publishable key").fill("pk_test_e2eClinic1234")
    screen.get_by_label("Secret key").fill("sk_live_e2eClinic9876")
    screen.get_by_label("Webhook signing secret").fill("whsec_e2eClinic5555")
    screen.get_by_role("button", name="Connect Stripe").click()
    expect(
        screen.get_by_text("This is a live key and the publishable key is a test key")
    ).to_be_visible()
    expect(screen.get_by_label("Publishable key")).to_have_value("pk_test_e2eClinic1234")
    expect(screen.get_by_label("Secret key")).to_have_value("")  # not sent back
    check_page(screen)
    screenshot(screen, "payments-settings-error")

    screen.get_by_label("Secret key").fill("sk_test_e2eClinic9876")
    screen.get_by_label("Webhook signing secret").fill("whsec_e2eClinic5555")
    screen.get_by_role("button", name="Connect Stripe").click()
    expect(screen.get_by_role("heading", name="Online payments are on")).to_be_visible()
    expect(screen.get_by_text("Stripe connected: customers can pay online.")).to_be_visible()
    assert "sk_test_e2eClinic9876" not in screen.content()
    assert (
        Organisation.get(Organisation.slug == "clinic").stripe_secret_key == "sk_test_e2eClinic9876"
    )
    check_page(screen)
    screenshot(screen, "payments-settings-on")

    # The service form's payment rule is on now.
    screen.goto(form_url)
    screen.get_by_label("Deposit: a fixed amount").check()
    screen.get_by_label("Deposit (GBP)").fill("20")
    check_page(screen)
    screenshot(screen, "payments-service-form")
    screen.get_by_role("button", name="Save changes").click()
    expect(screen.get_by_text("£20 deposit online")).to_be_visible()

    # A payment at the venue, from the booking panel; beside it, a booking held while
    # its customer pays online (the keys could not have been changed meanwhile).
    start = datetime.combine(day, time(11), LONDON)
    waiting = add_booking(
        clinic, clinic["tom"], clinic["massage"], clinic["customer"], start, "pending_payment"
    )
    until = datetime.now(UTC) + timedelta(minutes=10)
    Booking.update(hold_expires_at=until).where(Booking.id == waiting.id).execute()
    screen.goto(f"{e2e_server}/w/clinic?date={day.isoformat()}")
    block = screen.locator(f'.ws-booking[data-booking="{made.id}"]')
    expect(block.locator(".ws-mark")).to_have_text("Unpaid")
    expect(screen.locator(f'.ws-booking[data-booking="{waiting.id}"]')).to_contain_text("Held")
    block.click()
    panel = screen.locator("#panel")
    expect(panel.get_by_role("heading", name="Casey Morgan")).to_be_focused()
    panel.get_by_text("Record a payment at the venue").click()
    expect(panel.get_by_label("Amount (GBP)")).to_have_value("65")
    panel.get_by_label("Amount (GBP)").fill("20")
    panel.get_by_label("Card terminal").check()
    screenshot(screen, "payments-panel-record")
    panel.get_by_role("button", name="Record payment").click()

    expect(panel.get_by_text("Payment recorded.")).to_be_visible()
    expect(panel.locator(".ws-money dd").last).to_have_text("£45")  # due at the venue
    expect(panel.locator(".ws-payments")).to_contain_text("£20 Card terminal")
    expect(block.locator(".ws-mark")).to_have_text("Deposit")  # the schedule refreshed
    check_page(screen)
    screenshot(screen, "payments-panel")

    # The dashboard: this week's takings beside what was booked.
    screen.goto(f"{e2e_server}/w/clinic/dashboard")
    taken = screen.locator(".db-figures div", has_text="Revenue taken")
    expect(taken.locator("dd").first).to_have_text("£20")
    check_page(screen)
    screenshot(screen, "payments-dashboard")

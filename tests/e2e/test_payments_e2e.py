"""Paying for a booking in a real browser, with localstripe's Stripe.js and API: a
deposit and a full prepayment by card, 3-D Secure completed and failed, a declined
card, giving up, the hold running out, and two browsers after the same time.

The server runs on the real clock: the booking is three weekdays ahead, inside the free
cancellation window. localstripe's webhooks go to the server too, as Stripe's would.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from models import Booking, User
from models.bookings import FREED
from tests import factories
from tests import localstripe as ls
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_booking_e2e import (
    AXE,
    LONDON,
    check_page,
    open_month_with,
    pick_day_and_first_time,
    target_day,
)
from tests.localstripe import CARD_3DS, CARD_DECLINED, CARD_OK

pytestmark = pytest.mark.stripe
# At the iPhone 13's size; the deposit, at the tablet's too (the device fixture's default).
PHONE = pytest.mark.parametrize("device", ["iPhone 13"], indirect=True)

CASEY = "casey@example.com"


@pytest.fixture(autouse=True)
def webhooks(stripe_local, e2e_server, paid):
    """The clinic has connected its own Stripe account (localstripe, whose events go to
    the live server, signed with the clinic's webhook secret, as Stripe's would)."""
    org = paid["org"]
    org.stripe_publishable_key, org.stripe_secret_key = ls.PUBLISHABLE_KEY, ls.SECRET_KEY
    org.stripe_webhook_secret = ls.WEBHOOK_SECRET
    org.save()
    stripe_local.send_webhooks_to(f"{e2e_server}/stripe/webhook")


def ten_oclock() -> datetime:
    return datetime.combine(target_day(), time(10), LONDON)


def review_path(service, start: datetime) -> str:
    iso = start.isoformat().replace("+", "%2B")
    return f"/clinic/book/{service.id}/review?provider=any&start={iso}"


def booking_of(email: str) -> Booking:
    return (
        Booking.select()
        .join(User, on=(Booking.customer == User.id))
        .where(User.email == email)
        .order_by(Booking.id.desc())
        .get()
    )


def hold(page, base: str, service, start: datetime | None = None) -> None:
    """Casey, signed in, presses "Continue to payment" on the review step: the payment
    step, ready to pay."""
    sign_in(page, base, CASEY)
    page.goto(base + review_path(service, start or ten_oclock()))
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", name="Pay to confirm")).to_be_visible()
    expect(page.locator("#pay-form button[type=submit]")).to_be_enabled()  # Stripe.js is in


def fill_card(page, number: str) -> None:
    """localstripe's card field: plain inputs named by their placeholders."""
    field = page.locator("#card-element")
    for name, value in (
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "31"),
        ("cvc", "123"),
        ("postal_code", "N1 9GU"),
    ):
        field.locator(f'input[placeholder="{name}"]').fill(value)


def serious_axe_findings(page) -> list:
    """axe-core's serious and critical findings, but for the card field's inside: that is
    Stripe's frame (here localstripe's bare inputs, without labels)."""
    page.evaluate(AXE.read_text())  # not a <script>: the CSP refuses those
    found = page.evaluate("axe.run({exclude: [['#card-element']]}).then((r) => r.violations)")
    return [v["id"] for v in found if v["impact"] in ("serious", "critical")]


def pay_by_card(page, number: str, amount: str = "£20") -> None:
    fill_card(page, number)
    pay_button(page, amount).click()


def expect_booked(page, email: str = CASEY) -> None:
    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    assert booking_of(email).status == "confirmed"


def pay_button(page, amount: str):
    return page.get_by_role("button", name=f"Pay {amount}")


def test_a_deposit_paid_by_card_confirms_the_booking(screen, e2e_server, paid):
    day = target_day()
    sign_in(screen, e2e_server, CASEY)

    screen.goto(f"{e2e_server}/clinic")
    expect(screen.locator("a.service", has_text="Initial assessment")).to_contain_text(
        "£20 deposit"
    )
    screen.locator("a.service", has_text="Initial assessment").click()
    open_month_with(screen, day)
    pick_day_and_first_time(screen, day)
    expect(screen.locator("dl.facts")).to_contain_text("Deposit now")
    expect(screen.locator("#refund-policy")).to_contain_text("The deposit of £20 is refunded")
    screenshot(screen, "pay-1-review")
    screen.get_by_role("button", name="Continue to payment").click()

    expect(screen.get_by_role("heading", name="Pay to confirm")).to_be_visible()
    expect(screen.locator("[data-countdown]")).to_have_text(re.compile(r"^(10:00|09:[0-5]\d)$"))
    expect(pay_button(screen, "£20")).to_be_enabled()
    assert screen.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert serious_axe_findings(screen) == []
    screenshot(screen, "pay-2-payment-step")
    pay_by_card(screen, CARD_OK)

    expect_booked(screen)
    screen.get_by_role("link", name="Manage this appointment").click()
    receipt = screen.locator("section.receipt")
    expect(receipt).to_contain_text("£20 deposit")
    expect(receipt).to_contain_text("Visa •••• 4242")
    check_page(screen)
    screenshot(screen, "pay-3-receipt")


@PHONE
def test_full_prepayment_takes_the_whole_price(screen, e2e_server, paid):
    hold(screen, e2e_server, paid["massage"], ten_oclock().replace(hour=14))
    expect(screen.locator("dl.pay-facts")).to_contain_text("To pay now £55")

    pay_by_card(screen, CARD_OK, "£55")

    expect_booked(screen)


@PHONE
def test_three_d_secure_completed_confirms(screen, e2e_server, paid):
    hold(screen, e2e_server, paid["assessment"])

    pay_by_card(screen, CARD_3DS)
    working = screen.locator("#pay-form button[type=submit]")
    expect(working).to_have_text("Paying…")  # and not to be pressed again meanwhile
    expect(working).to_be_disabled()
    screen.get_by_role("button", name="Complete authentication").click()

    expect_booked(screen)


@PHONE
def test_three_d_secure_failed_keeps_the_hold_then_another_card_pays(screen, e2e_server, paid):
    hold(screen, e2e_server, paid["assessment"])

    pay_by_card(screen, CARD_3DS)
    screen.get_by_role("button", name="Fail authentication").click()

    expect(screen.locator("#pay-error")).to_contain_text("authentication")
    expect(pay_button(screen, "£20")).to_be_enabled()
    assert booking_of(CASEY).status == "pending_payment"
    screen.locator('#card-element input[placeholder="number"]').fill(CARD_OK)
    pay_button(screen, "£20").click()
    expect_booked(screen)


@PHONE
def test_a_declined_card_keeps_the_form_and_the_hold_with_stripes_message(screen, e2e_server, paid):
    hold(screen, e2e_server, paid["assessment"])
    url = screen.url

    pay_by_card(screen, CARD_DECLINED)

    expect(screen.locator("#pay-error")).to_have_text("Your card was declined.")
    expect(screen).to_have_url(url)
    expect(screen.locator('#card-element input[placeholder="number"]')).to_have_value(CARD_DECLINED)
    expect(screen.locator('#card-element input[placeholder="cvc"]')).to_have_value("123")
    expect(pay_button(screen, "£20")).to_be_enabled()
    screenshot(screen, "pay-4-declined")
    assert booking_of(CASEY).status == "pending_payment"


@PHONE
def test_giving_up_releases_the_time(screen, e2e_server, paid):
    start = ten_oclock()
    hold(screen, e2e_server, paid["assessment"], start)

    screen.get_by_role("button", name="Don't pay: release this time").click()

    expect(screen.get_by_text("You released this time without paying")).to_be_visible()
    assert booking_of(CASEY).status == "cancelled"
    day = start.date().isoformat()
    screen.goto(f"{e2e_server}/clinic/book/{paid['assessment'].id}/when?provider=any&day={day}")
    free = screen.locator(f'a.slot[data-start="{start.astimezone(UTC).isoformat()}"]')
    expect(free).to_have_count(1)


@PHONE
def test_the_countdown_runs_out_and_offers_another_time(screen, e2e_server, paid):
    hold(screen, e2e_server, paid["assessment"])
    held = booking_of(CASEY)
    Booking.update(hold_expires_at=datetime.now(UTC) + timedelta(seconds=3)).where(
        Booking.id == held.id
    ).execute()

    screen.reload()  # the server counts what is left

    expect(screen.locator("[data-countdown]")).to_have_text(re.compile(r"^00:0[0-3]$"))
    expired = screen.get_by_role("heading", name="The time held for you ran out")
    expect(expired).to_be_visible(timeout=8000)
    expect(screen.locator("[data-hold-running]")).to_be_hidden()
    expect(pay_button(screen, "£20")).to_be_disabled()
    expect(screen.get_by_role("button", name="Don't pay: release this time")).to_be_hidden()
    link = screen.get_by_role("link", name="Pick another time")
    expect(link).to_have_attribute("href", f"/clinic/book/{paid['assessment'].id}")
    screenshot(screen, "pay-5-ran-out")


@PHONE
def test_two_browsers_paying_for_the_same_time_make_one_booking(
    screen, browser, device, e2e_server, paid
):
    factories.make_user("dana@example.com", "Dana Lee")
    rival = browser.new_context(**device[1]).new_page()
    rival.device_name = screen.device_name
    start = ten_oclock()
    path = review_path(paid["assessment"], start)
    for page, email in ((screen, CASEY), (rival, "dana@example.com")):
        sign_in(page, e2e_server, email)
        page.goto(e2e_server + path)

    # Both press at once; one is held the time, the other is offered others.
    for page in (screen, rival):
        page.get_by_role("button", name="Continue to payment").click(no_wait_after=True)
    for page in (screen, rival):
        expect(page.locator("h1")).to_have_text(
            re.compile("Pay to confirm|Sorry, that time was just taken")
        )
    paying = [p for p in (screen, rival) if p.locator("h1").inner_text() == "Pay to confirm"]
    refused = [p for p in (screen, rival) if p not in paying]
    assert (len(paying), len(refused)) == (1, 1)
    expect(refused[0].locator("ul.slot-grid a.slot").first).to_be_visible()  # other times
    [winner] = paying
    expect(pay_button(winner, "£20")).to_be_enabled()
    pay_by_card(winner, CARD_OK)
    expect(winner.get_by_role("heading", name="You're booked")).to_be_visible()

    at_that_time = Booking.select().where(
        (Booking.start_at == start.astimezone(UTC)) & Booking.status.not_in(FREED)
    )
    assert [b.status for b in at_that_time] == ["confirmed"]
    rival.context.close()

"""A new customer books in at most four taps plus their name and email (issue 15,
item 1), on a 390 x 844 and a 320 x 640 phone: the service, "anyone available", a time
of the first free day (already shown), then "Confirm booking" with a name and email
typed. No password. The confirmation email (delivered by a real SMTP server, aiosmtpd)
carries a link that signs in on another device and opens the appointment.

The server runs on the real clock; no worker runs, so the test delivers the email as
the worker would.
"""

from __future__ import annotations

import email
import email.policy
import re
import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from config import Settings
from models import Booking, Notification, User
from services.notifications import delivery
from services.notifications.delivery import Channels
from tests.e2e.conftest import OUTBOX, send_queued_links
from tests.e2e.test_booking_e2e import check_page
from tests.standins.smtp import SmtpStandIn

SHOTS = "/tmp/shots-journey"
SIZES = {"390x844": (390, 844), "320x640": (320, 640)}


@pytest.fixture(params=list(SIZES))
def phone(request, browser):
    """A touch phone of the size asked for; fails if the CSP refused anything."""
    width, height = SIZES[request.param]
    settings = {
        "viewport": {"width": width, "height": height},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    }
    context = browser.new_context(**settings)
    refused: list[str] = []
    context.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page = context.new_page()
    page.size = request.param
    page.settings = settings
    yield page
    context.close()
    assert not refused, f"refused by the Content Security Policy: {refused}"


class Taps:
    """Every tap the customer makes goes through here, so the test can count them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, locator) -> None:
        self.count += 1
        locator.click()


def shot(page, label: str) -> None:
    page.screenshot(path=f"{SHOTS}/{label}-{page.size}.png", full_page=True)


def deliver_confirmation(user: User, base_url: str) -> str:
    """Send the confirmation email to ``user`` through a real SMTP server, as the worker
    would; returns its text."""
    row = Notification.get(
        (Notification.recipient == user.id)
        & (Notification.kind == "confirmed")
        & (Notification.channel == "email")
    )
    with SmtpStandIn() as smtp:
        settings = replace(
            Settings(secret_key="live-test"), smtp_host=smtp.host, smtp_port=smtp.port
        )
        channels = replace(Channels.from_settings(settings), base_url=base_url)
        delivery.deliver(row.id, channels, datetime.now(UTC))
        (message,) = smtp.wait_for(1)
    assert message["To"] == user.email
    return message.get_body(("plain",)).get_content()


def test_a_new_customer_books_in_four_taps_and_the_email_signs_in(
    phone, browser, e2e_server, clinic
):
    address = f"sky-{secrets.token_hex(4)}@example.com"
    tap = Taps()

    phone.goto(f"{e2e_server}/clinic")
    tap(phone.locator("a.service", has_text="Follow-up"))
    tap(phone.get_by_role("link", name=re.compile("Anyone available")))
    # The first free day is chosen already, with its times.
    expect(phone.get_by_role("heading", name="Pick a day and time")).to_be_visible()
    expect(phone.locator("a.day.selected")).to_have_count(1)
    slot = phone.locator("a.slot").first
    expect(slot).to_be_visible()
    start = slot.get_attribute("data-start")
    tap(slot)

    expect(phone.get_by_role("heading", name="Review and confirm")).to_be_visible()
    # No password, and one visible "Email" field: signing in is folded away.
    expect(phone.get_by_label("Password")).to_be_hidden()
    expect(phone.locator("#sign-in-email")).to_be_hidden()
    check_page(phone)
    shot(phone, "review-signed-out")
    phone.get_by_label("Your name").fill("Sky Porter")
    phone.locator("#guest-email").fill(address)
    shot(phone, "review-filled")
    tap(phone.get_by_role("button", name="Confirm booking"))

    expect(phone.get_by_role("heading", name="You're booked")).to_be_visible()
    shot(phone, "confirmed")
    assert tap.count <= 4, f"{tap.count} taps"
    user = User.get(User.email == address)
    assert user.password_hash is None
    booking = Booking.get(Booking.customer == user.id)
    assert booking.start_at == datetime.fromisoformat(start)

    # The email's button, opened on another device, signs in and shows the appointment.
    text = deliver_confirmation(user, e2e_server)
    link = re.search(re.escape(e2e_server) + r"/account/magic/\S+", text).group(0)
    other = browser.new_context(**phone.settings)
    try:
        page = other.new_page()
        page.goto(link)
        page.get_by_role("button", name="Sign me in").click()
        expect(page).to_have_url(f"{e2e_server}/appointments/{booking.id}")
        expect(page.locator("main")).to_contain_text("Follow-up")
        page.size = phone.size
        shot(page, "appointment-from-email")
    finally:
        other.close()


def test_signing_in_is_offered_second_and_opens_in_place(phone, e2e_server, clinic):
    service = clinic["follow_up"]
    phone.goto(f"{e2e_server}/clinic/book/{service.id}/when?provider=any")
    phone.locator("a.slot").first.click()
    expect(phone.locator("#sign-in-email")).to_be_hidden()

    phone.get_by_text("Already have an account? Sign in").click()

    expect(phone.locator("#sign-in-email")).to_be_visible()
    check_page(phone)
    shot(phone, "review-sign-in-open")


def emailed_link_to(address: str, since: float) -> str:
    """The link in the newest email to ``address`` written to the e2e server's outbox."""
    newest = None
    for path in OUTBOX.glob("*.eml"):
        if path.stat().st_mtime < since:
            continue
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            newest = message
    assert newest is not None, f"nothing emailed to {address}"
    text = newest.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/account/magic/\S+", text).group(0)


def test_an_address_with_an_account_is_sent_a_link_back_to_the_same_booking(
    phone, e2e_server, e2e_queue, clinic
):
    service = clinic["follow_up"]
    phone.goto(f"{e2e_server}/clinic/book/{service.id}/when?provider=any")
    expect(phone.locator("a.day.selected")).to_have_count(1)  # the first free day
    phone.locator("a.slot").first.click()
    review = phone.url

    # A bad address first: said next to the field, the name kept.
    phone.get_by_label("Your name").fill("Casey Morgan")
    phone.locator("#guest-email").fill("casey@")
    phone.get_by_role("button", name="Confirm booking").click()
    expect(phone.locator("#guest-email-error")).to_be_visible()
    expect(phone.get_by_label("Your name")).to_have_value("Casey Morgan")
    check_page(phone)
    shot(phone, "review-bad-email")

    since = time.time() - 1
    phone.locator("#guest-email").fill("casey@example.com")
    phone.get_by_role("button", name="Confirm booking").click()
    expect(phone.get_by_role("heading", name="You already have an account")).to_be_visible()
    check_page(phone)
    shot(phone, "sign-in-sent")
    assert Booking.select().count() == 0

    send_queued_links(e2e_queue, OUTBOX)  # what the worker does
    phone.goto(emailed_link_to("casey@example.com", since))
    phone.get_by_role("button", name="Sign me in").click()
    expect(phone).to_have_url(review)
    expect(phone.get_by_text("Booking as Casey Morgan (casey@example.com)")).to_be_visible()
    phone.get_by_role("button", name="Confirm booking").click()
    expect(phone.get_by_role("heading", name="You're booked")).to_be_visible()
    assert Booking.get().customer_id == clinic["customer"].id

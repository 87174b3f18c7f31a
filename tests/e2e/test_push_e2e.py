"""Web push in a real browser, at phone and tablet sizes: "Notify me on this device" asks
nothing until it is tapped, the device it subscribes is listed and stored, a cancellation
by the business reaches it, and the booking confirmation offers the same.

Headless Chromium cannot reach a real push service, so each page's PushManager is
replaced (``add_init_script``) by one that hands out a subscription from the local push
service stand-in (tests/standins/push_service.py). Everything else is real: the page's
script, the server, the VAPID key it generated, the encryption and the signature.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from config import Settings
from models import Notification, PushSubscription, User
from services.booking import appointments as bookings
from services.mail import MailConfig
from services.notifications import delivery, push
from services.notifications.outbox import Dispatch
from services.notifications.sms import ConsoleSms
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page
from tests.standins.push_service import PushService

# Whole-system and slow: on PostgreSQL when it is available (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("production_database")

LONDON = ZoneInfo("Europe/London")
# Android Chrome user agents: push works there, so the label reads "Chrome on Android".
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
)
TABLET_UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
DEVICES = {
    "phone": {
        "user_agent": PHONE_UA,
        "viewport": {"width": 390, "height": 844},
        "screen": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
        "timezone_id": "Europe/London",
    },
    "tablet": {
        "user_agent": TABLET_UA,
        "viewport": {"width": 1180, "height": 820},
        "screen": {"width": 1180, "height": 820},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "timezone_id": "America/New_York",
    },
}
# The page's PushManager, backed by the stand-in's subscription. getSubscription() gives
# null until subscribe() was called; the state lives in localStorage so that it outlasts
# the reload. Permission asks and subscribe options are recorded for the test to read.
FAKE_PUSH_MANAGER = """(() => {
  if (!("PushManager" in window) || !("Notification" in window)) return;
  const issued = __SUBSCRIPTION__;
  const SAVED = "test-push:subscription";
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const count = (name) =>
    localStorage.setItem(name, String(Number(localStorage.getItem(name)) + 1));
  const wrap = (json) => ({
    endpoint: json.endpoint,
    expirationTime: null,
    toJSON: () => json,
    unsubscribe: async () => { localStorage.removeItem(SAVED); return true; },
  });
  PushManager.prototype.getSubscription = async function () {
    const saved = localStorage.getItem(SAVED);
    return saved ? wrap(JSON.parse(saved)) : null;
  };
  PushManager.prototype.subscribe = async function (options) {
    count("test-push:subscribe-calls");
    if (Notification.permission !== "granted") {
      throw new DOMException("Registration failed - permission denied", "NotAllowedError");
    }
    localStorage.setItem("test-push:options", JSON.stringify({
      userVisibleOnly: options.userVisibleOnly,
      applicationServerKey: b64url(options.applicationServerKey),
    }));
    localStorage.setItem(SAVED, JSON.stringify(issued));
    return wrap(issued);
  };
  const ask = Notification.requestPermission.bind(Notification);
  Notification.requestPermission = (...args) => { count("test-push:asked"); return ask(...args); };
})();"""


@pytest.fixture(params=list(DEVICES))
def device(request):
    """This module's own sizes: a 390×844 phone and a 1180×820 tablet, both Chrome."""
    return request.param, DEVICES[request.param]


@pytest.fixture
def server_vapid():
    """The key the e2e server signs with: VAPID_PRIVATE_KEY, else instance/'s, as it reads."""
    environ = os.environ
    settings = Settings(
        vapid_private_key=environ.get("VAPID_PRIVATE_KEY", ""),
        vapid_subject=environ.get("VAPID_SUBJECT", ""),
    )
    return push.vapid(settings)


@pytest.fixture
def push_service(server_vapid):
    with PushService(application_server_key=server_vapid.public_key) as service:
        yield service


@pytest.fixture
def browser_push(screen, push_service):
    """The subscription this page's browser will hand out when asked."""
    subscription = push_service.subscribe(screen.device_name)
    script = FAKE_PUSH_MANAGER.replace("__SUBSCRIPTION__", json.dumps(subscription))
    screen.context.add_init_script(script=script)
    return subscription


def recorded(page, name: str):
    return page.evaluate(f"JSON.parse(localStorage.getItem({json.dumps(name)}) || 'null')")


def book_for_customer(clinic) -> tuple[int, datetime]:
    """Casey books a follow-up with Ana at 10:00 on a weekday at least two days ahead
    (the server runs on the real clock, so the booking must be ahead of it)."""
    now = datetime.now(UTC)
    day = now.astimezone(LONDON).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    made = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["follow_up"].id,
        start=datetime.combine(day, time(10), LONDON),
        now=now,
        provider_id=clinic["ana"].id,
        dispatch=Dispatch(),  # nobody delivers these: the confirmation email is not the subject
    )
    return made.id, now


def tap_notify_me(page) -> None:
    """Tap the offer on the notifications page and wait for the reload that lists the device."""
    button = page.get_by_role("button", name="Notify me on this device")
    expect(button).to_be_visible()
    with page.expect_navigation():
        with page.expect_response(lambda r: r.url.endswith("/account/devices")) as answer:
            button.tap()
        assert answer.value.status == 201, answer.value.text()


def test_nothing_is_asked_until_the_tap(screen, e2e_server, clinic, browser_push):
    posts = []
    screen.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    sign_in(screen, e2e_server, "casey@example.com", "/account/notifications")

    button = screen.get_by_role("button", name="Notify me on this device")
    expect(button).to_be_visible()
    assert screen.evaluate("Notification.permission") == "default"
    assert recorded(screen, "test-push:asked") is None
    assert recorded(screen, "test-push:subscribe-calls") is None
    expect(screen.get_by_text("No device gets push notifications yet.")).to_be_visible()
    assert not [url for url in posts if url.endswith("/account/devices")]
    box = button.bounding_box()
    assert box["height"] >= 44
    check_page(screen)
    screenshot(screen, "notifications-before")
    assert PushSubscription.select().count() == 0


def test_notify_me_subscribes_this_device_and_lists_it(
    screen, e2e_server, clinic, browser_push, server_vapid
):
    screen.context.grant_permissions(["notifications"], origin=e2e_server)
    sign_in(screen, e2e_server, "casey@example.com", "/account/notifications")
    offer = screen.locator("[data-push-offer]")
    assert offer.get_attribute("data-key") == server_vapid.public_key
    assert recorded(screen, "test-push:asked") is None  # granted, but still not asked

    screen.evaluate("window.stillTheSamePage = true")
    tap_notify_me(screen)
    assert screen.evaluate("window.stillTheSamePage === undefined")  # reloaded

    assert recorded(screen, "test-push:asked") == 1
    assert recorded(screen, "test-push:options") == {
        "userVisibleOnly": True,
        "applicationServerKey": server_vapid.public_key,
    }
    devices = screen.locator(".device-list .device")
    expect(devices).to_have_count(1)
    expect(devices.first).to_contain_text("Chrome on Android")
    expect(screen.get_by_role("button", name="Remove Chrome on Android")).to_be_visible()
    expect(screen.get_by_text("No device gets push notifications yet.")).to_have_count(0)
    # This device is known now: nothing more to offer on it.
    expect(offer).to_be_hidden()

    (row,) = PushSubscription.select()
    assert row.user_id == clinic["customer"].id
    assert (row.endpoint, row.p256dh, row.auth, row.label) == (
        browser_push["endpoint"],
        browser_push["keys"]["p256dh"],
        browser_push["keys"]["auth"],
        "Chrome on Android",
    )
    # The device's time zone came along.
    customer = User.get_by_id(clinic["customer"].id)
    assert customer.timezone == DEVICES[screen.device_name]["timezone_id"]
    check_page(screen)
    screenshot(screen, "notifications-after")


@pytest.mark.parametrize("device", ["phone"], indirect=True)
def test_a_cancellation_by_the_business_reaches_the_device(
    screen, e2e_server, clinic, browser_push, push_service, server_vapid, tmp_path
):
    booking_id, now = book_for_customer(clinic)
    screen.context.grant_permissions(["notifications"], origin=e2e_server)
    sign_in(screen, e2e_server, "casey@example.com", "/account/notifications")
    tap_notify_me(screen)
    expect(screen.locator(".device-list .device")).to_have_count(1)

    cancelled = Dispatch()
    bookings.cancel(
        booking_id=booking_id,
        actor_id=clinic["owner"].id,
        now=now,
        reason="Ana is ill",
        dispatch=cancelled,
    )
    queued = cancelled.ids
    pushes = [
        n.id
        for n in Notification.select().where(Notification.id.in_(queued))
        if n.channel == "push"
    ]
    assert len(pushes) == 1
    settings = Settings(secret_key="x", base_url=e2e_server, env="testing")
    channels = delivery.Channels(
        mail=MailConfig(settings, tmp_path / "outbox"),
        sms=ConsoleSms(),
        vapid=server_vapid,
        push_allow_hosts=("127.0.0.1",),
        base_url=e2e_server,
    )
    assert delivery.deliver(pushes[0], channels, now) == "sent"

    (received,) = push_service.wait_for(1)
    assert received.name == "phone"
    assert received.topic == f"booking-{booking_id}"
    assert received.urgency == "high"
    message = received.json()
    assert message["url"] == f"{e2e_server}/appointments/{booking_id}"
    assert message["title"].startswith("Cancelled:")
    assert "Follow-up" in message["body"]


def test_the_confirmation_offers_a_reminder_and_a_device_can_be_removed(
    screen, e2e_server, clinic, browser_push
):
    booking_id, _ = book_for_customer(clinic)
    screen.context.grant_permissions(["notifications"], origin=e2e_server)
    sign_in(screen, e2e_server, "casey@example.com", f"/appointments/{booking_id}/confirmed")

    card = screen.locator(".reminder-offer")
    expect(card.get_by_role("heading", name="A reminder on this phone?")).to_be_visible()
    button = card.get_by_role("button", name="Notify me on this device")
    expect(button).to_be_visible()
    assert recorded(screen, "test-push:asked") is None  # never on page load
    check_page(screen)
    screenshot(screen, "confirmed-push-offer")

    # Here the page stays put and says what happened.
    button.tap()
    expect(card.get_by_role("status")).to_have_text(
        "Done: Chrome on Android will get notifications."
    )
    tapped = card.locator("[data-push-enable]")  # a role query no longer finds it once hidden
    expect(tapped).to_have_attribute("hidden", "")
    expect(tapped).to_be_hidden()
    (row,) = PushSubscription.select()
    assert row.endpoint == browser_push["endpoint"]
    screenshot(screen, "confirmed-push-done")

    screen.goto(f"{e2e_server}/account/notifications")
    screen.get_by_role("button", name="Remove Chrome on Android").tap()
    expect(screen.get_by_text("That device will no longer get notifications.")).to_be_visible()
    expect(screen.get_by_text("No device gets push notifications yet.")).to_be_visible()
    assert PushSubscription.select().count() == 0
    # The browser still holds its subscription, but the server no longer knows it: offered again.
    expect(screen.get_by_role("button", name="Notify me on this device")).to_be_visible()


@pytest.mark.parametrize("device", ["phone"], indirect=True)
def test_a_device_someone_else_added_stays_theirs_and_the_page_says_why(
    screen, e2e_server, clinic, browser_push
):
    """Ana added this browser for her account; Casey signs in on it and taps "Notify me"."""
    PushSubscription.create(
        user=clinic["ana_user"],
        endpoint=browser_push["endpoint"],
        p256dh=browser_push["keys"]["p256dh"],
        auth=browser_push["keys"]["auth"],
        label="Chrome on Android",
    )
    screen.context.grant_permissions(["notifications"], origin=e2e_server)
    sign_in(screen, e2e_server, "casey@example.com", "/account/notifications")
    button = screen.get_by_role("button", name="Notify me on this device")
    with screen.expect_response(lambda r: r.url.endswith("/account/devices")) as answer:
        button.tap()
    assert answer.value.status == 409
    expect(screen.locator("[data-push-status]")).to_contain_text(
        "This device already gets notifications for another account."
    )
    expect(button).to_be_enabled()
    (row,) = PushSubscription.select()
    assert row.user_id == clinic["ana_user"].id
    check_page(screen)

"""The pages around notifications: a person's choices and devices, the offer after a
booking, the provider's delivery log, and the owner's reminder setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config import Settings
from models import Notification, NotificationPrefs, Organisation, PushSubscription, User
from services.booking import appointments as bookings
from services.mail import MailConfig
from services.notifications import delivery, push
from services.notifications.outbox import Dispatch
from services.notifications.sms import ConsoleSms
from tests.integration.webpages import csrf_token, parse, text_of
from tests.standins.push_service import PushService

PAGE = "/account/notifications"
DEVICE = {
    "endpoint": "https://fcm.googleapis.com/fcm/send/abc123",
    "expirationTime": None,
    "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0", "auth": "tBHI"},
}
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def post(client, url, data=None, **kw):
    token = csrf_token(client.get(PAGE))
    return client.post(url, data=data, headers={"X-CSRFToken": token} | kw.pop("headers", {}), **kw)


def checked(response) -> set[str]:
    return {i.attrs["name"] for i in parse(response).find_all("input") if "checked" in i.attrs}


def test_signed_out_people_are_sent_to_sign_in(signed_in):
    assert signed_in(None).get(PAGE).status_code == 302


def test_the_defaults_email_reminders_and_push_not_texts(signed_in, clinic):
    page = signed_in(clinic["customer"]).get(PAGE)
    assert page.status_code == 200
    assert checked(page) == {"email_reminders", "push"}
    assert "Your bookings, as a provider" not in text_of(page)  # a customer only
    assert "No device gets push notifications yet." in text_of(page)


def test_choices_are_saved(signed_in, clinic):
    customer = clinic["customer"]
    customer.phone = "+447700900123"
    customer.save()
    client = signed_in(customer)
    response = post(client, PAGE, {"sms": "on"})
    assert response.status_code == 303
    prefs = NotificationPrefs.get(NotificationPrefs.user == customer.id)
    assert (prefs.email_reminders, prefs.push, prefs.sms) == (False, False, True)
    assert checked(client.get(PAGE)) == {"sms"}


def test_texts_without_a_phone_number_are_refused_and_the_choices_kept(signed_in, clinic):
    client = signed_in(clinic["customer"])
    response = post(client, PAGE, {"sms": "on", "email_reminders": "on"})
    assert response.status_code == 422
    assert "Add your mobile number" in text_of(response)
    assert checked(response) == {"sms", "email_reminders"}  # what was ticked stays ticked
    assert NotificationPrefs.select().count() == 0


def test_providers_choose_what_they_hear(signed_in, clinic):
    client = signed_in(clinic["ana_user"])
    page = client.get(PAGE)
    assert "Your bookings, as a provider" in text_of(page)
    choices = {"email_reminders": "on", "push": "on", "staff_email_cancelled": "on"}
    assert post(client, PAGE, choices).status_code == 303
    prefs = NotificationPrefs.get(NotificationPrefs.user == clinic["ana_user"].id)
    assert prefs.staff_email_cancelled
    assert not prefs.staff_email_new
    assert not prefs.staff_push_new


def test_a_customer_cannot_set_provider_choices(signed_in, clinic):
    client = signed_in(clinic["customer"])
    assert post(client, PAGE, {"push": "on"}).status_code == 303
    prefs = NotificationPrefs.get(NotificationPrefs.user == clinic["customer"].id)
    assert (prefs.email_reminders, prefs.push) == (False, True)  # their own choices, saved
    assert prefs.staff_email_new  # untouched default: not theirs to choose


# --- devices -----------------------------------------------------------------------------


def test_a_device_is_added_named_and_listed(signed_in, clinic):
    client = signed_in(clinic["customer"])
    body = {"subscription": DEVICE, "timezone": "Europe/Paris"}
    response = post(client, "/account/devices", json=body, headers={"User-Agent": CHROME_ANDROID})
    assert response.status_code == 201
    assert response.json["label"] == "Chrome on Android"
    (device,) = PushSubscription.select()
    assert device.user_id == clinic["customer"].id
    assert device.p256dh == DEVICE["keys"]["p256dh"]
    assert User.get_by_id(clinic["customer"].id).timezone == "Europe/Paris"
    page = client.get(PAGE)
    assert "Chrome on Android" in text_of(page)
    # The same device again is the same row.
    again = post(client, "/account/devices", json=body, headers={"User-Agent": CHROME_ANDROID})
    assert again.json["id"] == device.id
    assert PushSubscription.select().count() == 1


def test_adding_a_device_needs_the_csrf_token(signed_in, clinic):
    client = signed_in(clinic["customer"])
    response = client.post("/account/devices", json={"subscription": DEVICE})
    assert response.status_code in (400, 403)
    assert PushSubscription.select().count() == 0


@pytest.mark.parametrize(
    "subscription",
    [None, "nonsense", {"endpoint": "https://x.test/1"}, {"endpoint": 5, "keys": {}}],
)
def test_an_unusable_subscription_is_422(signed_in, clinic, subscription):
    client = signed_in(clinic["customer"])
    response = post(client, "/account/devices", json={"subscription": subscription})
    assert response.status_code == 422
    assert "subscription" in response.json["errors"]
    assert PushSubscription.select().count() == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:6379/push/abc",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
    ],
)
def test_a_device_at_an_internal_address_is_refused_in_development(
    app, signed_in, clinic, endpoint
):
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(env="development")
    client = signed_in(clinic["customer"])
    subscription = {**DEVICE, "endpoint": endpoint}
    response = post(client, "/account/devices", json={"subscription": subscription})
    assert response.status_code == 422
    assert "not one Kairos can send to" in response.json["errors"]["subscription"]
    assert PushSubscription.select().count() == 0


def test_another_persons_device_stays_theirs(signed_in, clinic):
    casey, ana = signed_in(clinic["customer"]), signed_in(clinic["ana_user"])
    assert post(casey, "/account/devices", json={"subscription": DEVICE}).status_code == 201
    (device,) = PushSubscription.select()
    other_keys = {"p256dh": "BOtherKey", "auth": "other"}
    response = post(ana, "/account/devices", json={"subscription": {**DEVICE, "keys": other_keys}})
    assert response.status_code == 409
    assert "another account" in response.json["errors"]["subscription"]
    (still,) = PushSubscription.select()
    assert (still.user_id, still.p256dh, still.auth) == (
        clinic["customer"].id,
        device.p256dh,
        device.auth,
    )
    # Its owner sending it again is fine: the same device.
    again = post(casey, "/account/devices", json={"subscription": DEVICE})
    assert (again.status_code, again.json["id"]) == (201, device.id)


def test_a_device_is_removed_only_by_its_owner(signed_in, clinic):
    mine = PushSubscription.create(
        user=clinic["customer"], endpoint="https://p.test/1", p256dh="k", auth="a"
    )
    theirs = PushSubscription.create(
        user=clinic["ana_user"], endpoint="https://p.test/2", p256dh="k", auth="a"
    )
    client = signed_in(clinic["customer"])
    assert post(client, f"/account/devices/{theirs.id}/delete").status_code == 303
    assert PushSubscription.get_or_none(id=theirs.id) is not None
    assert post(client, f"/account/devices/{mine.id}/delete").status_code == 303
    assert PushSubscription.get_or_none(id=mine.id) is None


# --- the offer after booking ---------------------------------------------------------------


def confirmed_page(signed_in, clinic, clock):
    from datetime import UTC, datetime

    made = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["follow_up"].id,
        start=datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
        now=clock(),
        dispatch=Dispatch(),
    )
    return signed_in(clinic["customer"]).get(f"/appointments/{made.id}/confirmed")


def test_the_confirmation_offers_push_without_asking(signed_in, clinic, clock):
    page = confirmed_page(signed_in, clinic, clock)
    offer = parse(page).one("div", class_="push-offer")
    assert "hidden" in offer.attrs  # push.js shows it only where push works
    assert offer.attrs["data-key"]  # the VAPID public key
    assert "A reminder on this phone?" in text_of(page)


def test_no_offer_when_push_is_turned_off(signed_in, clinic, clock):
    NotificationPrefs.create(user=clinic["customer"], push=False)
    page = confirmed_page(signed_in, clinic, clock)
    assert parse(page).find("div", class_="push-offer") is None


# --- the provider's delivery log ------------------------------------------------------------


def test_the_panel_shows_what_was_sent_and_what_failed(signed_in, world, clock):
    booking_id = world["ana's booking"]
    rows = {n.kind: n for n in Notification.select().where(Notification.booking == booking_id)}
    Notification.update(status="sent", sent_at=clock(), attempts=1).where(
        Notification.id == rows["confirmed"].id
    ).execute()
    Notification.update(
        status="failed", attempts=12, last_error="The mail server refused the address (550)."
    ).where(Notification.id == rows["staff_new"].id).execute()
    panel = signed_in(world["provider"]).get(f"/w/clinic/bookings/{booking_id}")
    log = text_of(panel)
    assert "Booking confirmed to Casey Morgan by email" in log
    assert "Sent Wed 25 Nov 12:00" in log
    assert "New booking to Ana Silva by email" in log
    assert "The mail server refused the address (550)." in log


def test_the_log_shows_no_push_service_answer(signed_in, clinic, clock, tmp_path):
    """Only its status code: what a push service (or anything posing as one) says in its
    reply never reaches staff."""
    settings = Settings(secret_key="x", base_url="https://kairos.example", env="testing")
    channels = delivery.Channels(
        mail=MailConfig(settings, tmp_path / "outbox"),
        sms=ConsoleSms(),
        vapid=push.vapid(settings, tmp_path),
        push_allow_hosts=("127.0.0.1",),
    )
    with PushService(application_server_key=channels.vapid.public_key) as service:
        info = service.subscribe("phone")
        push.subscribe(clinic["customer"].id, info, "", clock(), allow_hosts=("127.0.0.1",))
        made = bookings.book(
            customer_id=clinic["customer"].id,
            service_id=clinic["follow_up"].id,
            start=datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
            now=clock(),
            dispatch=Dispatch(),
        )
        bookings.cancel(
            booking_id=made.id, actor_id=clinic["owner"].id, now=clock(), dispatch=Dispatch()
        )
        (row,) = Notification.select().where(Notification.channel == "push")
        service.fail_next(400)
        assert delivery.deliver(row.id, channels, clock()) == "failed"
        assert service.attempts == [("phone", 400)]
    owner = signed_in(clinic["owner"])
    log = text_of(owner.get(f"/w/clinic/bookings/{made.id}"))
    assert "Cancelled to Casey Morgan by push" in log
    assert "The push service answered 400." in log
    assert "injected failure" not in log  # the stand-in's words with its 400
    # A row recorded before errors were kept in our words shows only the code, too.
    Notification.update(
        last_error="PushError: Push service 502: Push failed: 502 Bad Gateway\n"
        "Response body:<h1>redis_version:7.2.4</h1>"
    ).where(Notification.id == row.id).execute()
    log = text_of(owner.get(f"/w/clinic/bookings/{made.id}"))
    assert "The push service answered 502." in log
    assert "redis_version" not in log
    assert "Bad Gateway" not in log


# --- the owner's reminder hours --------------------------------------------------------------


def test_the_owner_sets_when_customers_are_reminded(signed_in, world):
    from tests.integration.test_ws_settings import GOOD

    client = signed_in(world["owner"])
    token = csrf_token(client.get("/w/clinic/settings"))
    bad = client.post(
        "/w/clinic/settings",
        data=GOOD | {"reminder_hours": "tomorrow"},
        headers={"X-CSRFToken": token},
    )
    assert bad.status_code == 422
    assert "up to three numbers of hours" in text_of(bad)
    assert parse(bad).one("input", id="reminder_hours").attrs["value"] == "tomorrow"
    good = client.post(
        "/w/clinic/settings",
        data=GOOD | {"reminder_hours": "48, 3"},
        headers={"X-CSRFToken": token},
    )
    assert good.status_code == 303
    assert Organisation.get(slug="clinic").reminder_hours == "48,3"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("America/New_York", "America/New_York"),
        ("Mars/Olympus", None),
        ("", None),
        ("localtime", None),
        ("Factory", None),
    ],
)
def test_a_booking_remembers_the_device_time_zone(signed_in, clinic, sent, kept):
    from datetime import UTC, datetime

    from tests.integration.test_journey import review_url

    client = signed_in(clinic["customer"])
    start = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    token = csrf_token(client.get(review_url(clinic["follow_up"], start, "any")))
    response = client.post(
        f"/clinic/book/{clinic['follow_up'].id}/confirm",
        data={"csrf_token": token, "start": start.isoformat(), "provider": "any", "tz": sent},
    )
    assert response.status_code == 303
    assert User.get_by_id(clinic["customer"].id).timezone == kept


def test_the_refused_choice_says_why_beside_it(signed_in, clinic):
    """The problem is on the texts checkbox, linked to it, as on every other form."""
    client = signed_in(clinic["customer"])
    response = post(client, PAGE, {"sms": "on"})
    assert response.status_code == 422
    sms = parse(response).one("input", id="sms")
    assert sms.attrs.get("aria-invalid") == "true"
    described = sms.attrs["aria-describedby"].split()
    assert "sms-error" in described
    error = parse(response).one("p", id="sms-error")
    assert "Add your mobile number" in error.text

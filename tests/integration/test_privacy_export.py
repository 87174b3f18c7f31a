"""Downloading everything about oneself: from Account (JSON and .ics) and from the API
(GET /api/v1/me/export), with nothing in it about anybody else.

The clock stands at Wed 25 Nov 2026, 12:00 in London (GMT); see tests/conftest.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from models import ApiToken, Booking, NotificationPrefs, PushSubscription, SignIn, User
from services import access
from services.accounts.auth import issue_token
from services.booking import appointments as bookings
from services.booking.calendar_links import uid
from services.notifications.outbox import Dispatch
from services.workspace import bookings as desk_bookings
from services.workspace import customers
from tests import factories
from tests.conftest import api_client_for
from tests.integration.webpages import parse, sign_in_url
from tests.integration.workspace import MON_10

JSON_URL = "/account/my-data.json"
ICS_URL = "/account/my-bookings.ics"
API_URL = "/api/v1/me/export"
TUE_10 = MON_10 + timedelta(days=1)
WED_15 = datetime(2026, 12, 2, 15, tzinfo=UTC)  # 10:00 in New York
NOTE_ON_BOOKING = "Nervous about needles; talk her through it"
NOTE_ON_CUSTOMER = "Knee surgery in 2019, left side"
REASON = "Ana is ill, sorry"


@pytest.fixture
def casey(world, clinic, clock):
    """Casey (the clinic's customer in ``world``) with a booking the clinic moved, one it
    cancelled with a reason, one in New York, the staff's notes about her, a push
    device, an API token and her notification choices."""
    casey = clinic["customer"]
    owner = access.staff_of(clinic["owner"].id, "clinic")
    ana = access.staff_of(clinic["ana_user"].id, "clinic")
    moved = bookings.reschedule(
        booking_id=world["ana's booking"],
        actor_id=clinic["owner"].id,
        start=TUE_10,
        now=clock(),
        dispatch=Dispatch(),
    )
    cancelled = bookings.book(
        customer_id=casey.id,
        service_id=clinic["follow_up"].id,
        start=MON_10 + timedelta(hours=4),
        now=clock(),
        dispatch=Dispatch(),
    )
    bookings.cancel(
        booking_id=cancelled.id,
        actor_id=clinic["owner"].id,
        reason=REASON,
        now=clock(),
        dispatch=Dispatch(),
    )
    nyc = factories.make_org("nyc", "America/New_York", "USD")
    nyc_provider = factories.make_provider(nyc, "Nia Young")
    nyc_service = factories.make_service(nyc, [nyc_provider], "Haircut", 45)
    far = bookings.book(
        customer_id=casey.id,
        service_id=nyc_service.id,
        start=WED_15,
        now=clock(),
        dispatch=Dispatch(),
    )
    desk_bookings.add_note(owner, moved.id, NOTE_ON_BOOKING, clock())
    customers.add_note(ana, casey.id, NOTE_ON_CUSTOMER, clock())
    PushSubscription.create(
        user=casey,
        endpoint="https://fcm.googleapis.com/fcm/send/secret-device-path",
        p256dh="P256DH-PUBLIC-KEY",
        auth="AUTH-SECRET",
        label="Chrome on Android",
    )
    NotificationPrefs.create(user=casey, sms=True, email_reminders=False)
    token, _ = issue_token(casey, clock())
    return {"user": casey, "moved": moved, "cancelled": cancelled, "far": far, "token": token}


def _download(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return response


def test_json_has_the_account_and_every_booking(signed_in, casey, clinic):
    response = _download(signed_in(casey["user"]), JSON_URL)

    assert response.mimetype == "application/json"
    assert 'filename="kairos-data-2026-11-25.json"' in response.headers["Content-Disposition"]
    data = response.json
    assert data["email"] == "casey@example.com"
    assert data["name"] == "Casey Morgan"
    assert data["exported_at"] == "2026-11-25T12:00:00Z"
    mine = Booking.select().where(Booking.customer == casey["user"].id)
    assert sorted(b["id"] for b in data["bookings"]) == sorted(b.id for b in mine)
    assert len(data["bookings"]) == 4  # the moved one's first time, its new time, cancelled, NYC
    assert {b["organisation"]["slug"] for b in data["bookings"]} == {"clinic", "nyc"}


def test_a_booking_reads_in_utc_and_on_the_business_clock(signed_in, casey):
    data = _download(signed_in(casey["user"]), JSON_URL).json
    far = next(b for b in data["bookings"] if b["id"] == casey["far"].id)

    assert far["start_utc"] == "2026-12-02T15:00:00Z"
    assert far["start_local"] == "2026-12-02T10:00:00-05:00"
    assert far["end_local"] == "2026-12-02T10:45:00-05:00"
    assert far["organisation"] == {"name": "Nyc", "slug": "nyc", "time_zone": "America/New_York"}
    assert far["service"] == "Haircut"
    assert far["provider"] == "Nia Young"
    assert far["status"] == "confirmed"
    assert far["price"] == {"amount_cents": 5000, "currency": "USD"}
    assert [event["action"] for event in far["history"]] == ["booked"]
    assert far["history"][0]["by"] == "you"
    assert {m["kind"] for m in far["messages_sent"]} == {"confirmed"}


def test_history_says_the_business_did_it_and_why_but_not_who(signed_in, casey):
    data = _download(signed_in(casey["user"]), JSON_URL).json
    cancelled = next(b for b in data["bookings"] if b["id"] == casey["cancelled"].id)
    moved = next(b for b in data["bookings"] if b["id"] == casey["moved"].id)

    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == REASON
    assert cancelled["history"][-1] == {
        "action": "cancelled",
        "at": "2026-11-25T12:00:00Z",
        "by": "the business",
        "reason": REASON,
    }
    assert moved["rescheduled_from"] is not None
    assert moved["history"][0]["by"] == "the business"


def test_nothing_about_anyone_else(signed_in, casey):
    """The staff's notes about her, other customers, and which member of staff acted
    are not hers to take."""
    text = _download(signed_in(casey["user"]), JSON_URL).get_data(as_text=True)

    for foreign in (
        NOTE_ON_BOOKING,
        NOTE_ON_CUSTOMER,
        "Olive Owner",
        "owner@clinic.test",
        "Sam Lee",
        "sam@example.com",
        "Otto Other",
        "otto@example.com",
    ):
        assert foreign not in text


def test_devices_and_tokens_without_their_secrets(signed_in, casey):
    response = _download(signed_in(casey["user"]), JSON_URL)
    data, text = response.json, response.get_data(as_text=True)

    assert data["push_devices"] == [
        {
            "label": "Chrome on Android",
            "push_service": "fcm.googleapis.com",
            "created_at": data["push_devices"][0]["created_at"],
            "last_delivered_at": None,
        }
    ]
    assert data["api_tokens"] == [
        {
            "created_at": "2026-11-25T12:00:00Z",
            "expires_at": "2026-12-25T12:00:00Z",
            "revoked_at": None,
        }
    ]
    (sign_in,) = data["sign_ins"]  # the one this download was made with
    assert sign_in["device"]
    assert sign_in["ended_at"] is None
    assert set(sign_in) == {
        "device",
        "network",
        "kept_signed_in",
        "signed_in_with",
        "signed_in_at",
        "last_seen_at",
        "ended_at",
    }
    stored = ApiToken.get(ApiToken.user == casey["user"].id)
    for secret in (
        SignIn.get(SignIn.user == casey["user"].id).key_hash,
        "secret-device-path",
        "P256DH-PUBLIC-KEY",
        "AUTH-SECRET",
        casey["token"],
        stored.token_hash,
        User.get_by_id(casey["user"].id).password_hash,
    ):
        assert secret not in text
    assert "password_hash" not in text
    # How they sign in: the password is named, never shown.
    assert [m["method"] for m in data["sign_in_methods"]] == ["password", "link"]
    assert data["sign_in_methods"][1]["detail"] == casey["user"].email


def test_notification_choices_are_a_customers_only(signed_in, casey):
    data = _download(signed_in(casey["user"]), JSON_URL).json

    assert data["notification_preferences"] == {"email_reminders": False, "push": True, "sms": True}
    assert data["staff_roles"] == []


def test_staff_get_their_roles_and_not_their_customers(signed_in, casey, clinic):
    """Ana's own export: where she works; not the notes she wrote about Casey, nor
    Casey's bookings with her."""
    data = _download(signed_in(clinic["ana_user"]), JSON_URL).json
    text = json.dumps(data)

    assert data["email"] == "ana@clinic.test"
    assert data["staff_roles"] == [{"organisation": "Clinic", "role": "provider"}]
    assert data["bookings"] == []
    assert "staff_email_new" in data["notification_preferences"]
    for foreign in (NOTE_ON_CUSTOMER, "Casey", "casey@example.com"):
        assert foreign not in text


def test_another_customer_gets_only_their_own(signed_in, casey, world):
    data = _download(signed_in(User.by_email("sam@example.com")), JSON_URL).json

    assert data["email"] == "sam@example.com"
    assert [b["id"] for b in data["bookings"]] == [world["tom's booking"]]
    assert "casey" not in json.dumps(data).lower()


def test_calendar_has_each_appointment_once(signed_in, casey):
    response = _download(signed_in(casey["user"]), ICS_URL)

    assert response.mimetype == "text/calendar"
    assert 'filename="kairos-bookings-2026-11-25.ics"' in response.headers["Content-Disposition"]
    cal = Calendar.from_ical(response.data)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    # The moved appointment once, at its new time, under the UID its invitations carried.
    moved = casey["moved"]
    assert set(events) == {uid(moved), uid(casey["cancelled"]), uid(casey["far"])}
    assert events[uid(moved)].decoded("DTSTART") == TUE_10
    assert events[uid(moved)]["SEQUENCE"] == 1
    assert str(events[uid(casey["cancelled"])]["STATUS"]) == "CANCELLED"
    far = events[uid(casey["far"])]
    assert far["DTSTART"].params["TZID"] == "America/New_York"
    assert far.decoded("DTSTART") == WED_15
    assert f"/appointments/{casey['far'].id}" in str(far["URL"])
    assert str(cal["METHOD"]) == "PUBLISH"
    zones = {str(z["TZID"]) for z in cal.walk("VTIMEZONE")}
    assert zones == {"Europe/London", "America/New_York"}


def test_calendar_of_someone_without_bookings_is_an_empty_calendar(signed_in, clinic):
    response = _download(signed_in(clinic["owner"]), ICS_URL)

    cal = Calendar.from_ical(response.data)
    assert cal.walk("VEVENT") == []


def test_downloads_need_signing_in(client, app, clinic):
    for url in (JSON_URL, ICS_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response.location.startswith(sign_in_url(app))


def test_account_page_offers_both_downloads(signed_in, clinic):
    page = parse(signed_in(clinic["customer"]).get("/account/profile"))

    section = page.one("section", aria_labelledby="data-heading")
    links = {a.attrs["href"]: a for a in section.find_all("a")}
    for url in (JSON_URL, ICS_URL):
        assert "download" in links[url].attrs
    assert "/privacy" in links


# The API ------------------------------------------------------------------------------


def test_api_export_is_the_same_json(app, client, signed_in, casey, clock):
    api = api_client_for(app, casey["user"], clock)
    browser = signed_in(casey["user"])  # a sign-in of theirs, in both

    response = api.get(API_URL)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == browser.get(JSON_URL).json
    assert len(response.json["sign_ins"]) == 1
    assert response.json["email"] == "casey@example.com"
    assert len(response.json["bookings"]) == 4


def test_api_calendar(app, casey, clock):
    api = api_client_for(app, casey["user"], clock)

    response = api.get("/api/v1/me/export.ics")

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert len(Calendar.from_ical(response.data).walk("VEVENT")) == 3


@pytest.mark.parametrize("path", [API_URL, "/api/v1/me/export.ics"])
def test_api_export_needs_a_token(anonymous_api, clinic, path):
    response = anonymous_api.get(path)

    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_api_export_refuses_a_revoked_token(app, clinic, clock, customer_api):
    assert customer_api.delete("/api/v1/tokens/current").status_code == 204

    assert customer_api.get(API_URL).status_code == 401


def test_a_providers_linked_calendars_without_their_secrets(signed_in, clinic, clock):
    from models import ExternalCalendar

    ExternalCalendar.create(
        provider=clinic["ana"],
        kind="caldav",
        url="https://caldav.example.com/dav/ana/private-7f3a/",
        username="ana",
        secret="app-password-xyz",
        next_try_at=clock(),
        created_at=clock(),
    )

    data = _download(signed_in(clinic["ana_user"]), JSON_URL).json
    text = json.dumps(data)

    assert data["linked_calendars"] == [
        {
            "organisation": "Clinic",
            "kind": "caldav",
            "host": "caldav.example.com",
            "username": "ana",
            "show_names": False,
            "status": "new",
            "connected_at": "2026-11-25T12:00:00Z",
            "last_synced_at": None,
        }
    ]
    assert "app-password-xyz" not in text
    assert "private-7f3a" not in text

"""Sign-ins end when they should (issue 12, finding 4): signing out, a new password, a
reset and leaving end the session cookie, the remember cookie and the API tokens they
should, on every device; Account → Security lists the devices and signs them out.

Each "device" is a test client of its own, with its own cookies, User-Agent and address,
signed in through the sign-in form."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from models import ApiToken, Booking, SignIn, User
from services.accounts import sessions
from services.booking import appointments as booking
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.test_accounts import (
    NEW_PASSWORD,
    body,
    csrf_token,
    link_path,
    mails,
    post_sign_in,
    submit,
    use_outbox,
)
from tests.integration.webpages import parse

PROFILE, SECURITY = "/account/profile", "/account/security"
CASEY = "casey@example.com"
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
MON_10 = datetime(2026, 11, 30, 10, tzinfo=UTC)
UNAUTHORIZED = {
    "error": "unauthorized",
    "message": "Send a valid API token: Authorization: Bearer <token>.",
}


@pytest.fixture
def casey(clinic):
    return clinic["customer"]


@pytest.fixture
def outbox(app, tmp_path):
    return use_outbox(app, tmp_path)


def link_about(outbox, subject: str) -> str:
    """The link in the (one) email with this subject."""
    (message,) = [m for m in mails(outbox) if m["Subject"] == subject]
    return link_path(message)


@pytest.fixture
def device(app):
    """``device(user_agent, address)``: a browser of its own."""

    def make(user_agent: str = ANDROID_CHROME, address: str = "203.0.113.7"):
        client = app.test_client()
        client.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
        return client

    return make


def signed_in_device(device, email: str = CASEY, remember: bool = False, **kw):
    client = device(**kw)
    extra = {"remember": "y"} if remember else {}
    assert post_sign_in(client, email, **extra).status_code == 303
    return client


def is_signed_in(client) -> bool:
    response = client.get(PROFILE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def sign_out(client):
    return client.post("/account/sign-out", data={"csrf_token": csrf_token(client, PROFILE)})


def cookie(client, name: str) -> str:
    return client.get_cookie(name).value


def only_cookie(app, name: str, value: str, **environ):
    """A browser holding just this one cookie (copied, or kept from before)."""
    client = app.test_client()
    client.environ_base.update(environ)
    client.set_cookie(name, value)
    return client


def api_token(client, email: str = CASEY, password: str = factories.PASSWORD) -> str:
    response = client.post("/api/v1/tokens", json={"email": email, "password": password})
    assert response.status_code == 201
    return response.json["token"]


def api_get(client, token: str, path: str = "/api/v1/bookings"):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def change_password(client, new: str = NEW_PASSWORD):
    return submit(
        client,
        "/account/profile/password",
        {"current_password": factories.PASSWORD, "new_password": new},
        page=PROFILE,
    )


# Signing out ------------------------------------------------------------------------


def test_a_session_cookie_replayed_after_sign_out_signs_nobody_in(app, casey, device):
    phone = signed_in_device(device)
    kept = cookie(phone, "session")
    assert sign_out(phone).status_code == 303
    assert not is_signed_in(phone)

    replayed = only_cookie(app, "session", kept)
    response = replayed.get(PROFILE)
    assert response.status_code == 302
    with replayed.session_transaction() as session:
        assert "_user_id" not in session  # the dead session is dropped from the browser too


def test_a_remember_cookie_replayed_after_sign_out_signs_nobody_in(app, casey, device):
    phone = signed_in_device(device, remember=True)
    kept = cookie(phone, "remember_token")
    sign_out(phone)
    replayed = only_cookie(app, "remember_token", kept)
    response = replayed.get(PROFILE)
    assert response.status_code == 302
    assert any(c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie"))


def test_each_sign_in_has_a_remember_cookie_of_its_own(app, casey, device):
    phone = signed_in_device(device, remember=True)
    laptop = signed_in_device(device, remember=True, user_agent=WINDOWS_FIREFOX)
    assert cookie(phone, "remember_token") != cookie(laptop, "remember_token")
    # The session carries the sign-in's key, not the user's id.
    with phone.session_transaction() as session:
        assert session["_user_id"] != str(casey.id)
        assert len(session["_user_id"]) >= 40


def test_only_the_hash_of_a_sign_in_key_is_stored(app, casey, device):
    phone = signed_in_device(device)
    with phone.session_transaction() as session:
        key = session["_user_id"]
    (row,) = SignIn.select()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (row.key_hash, row.device, row.network)


def test_a_sign_in_without_remember_me_drops_an_older_remember_cookie(app, casey, device):
    phone = signed_in_device(device, remember=True)
    old = cookie(phone, "remember_token")
    phone.delete_cookie("session")  # the browser closed; the remember cookie signs in again
    assert is_signed_in(phone)
    sign_out(phone)
    assert post_sign_in(phone, CASEY).status_code == 303
    assert phone.get_cookie("remember_token") is None
    assert not is_signed_in(only_cookie(app, "remember_token", old))


# A new password ---------------------------------------------------------------------


def test_a_password_change_signs_out_every_other_device_and_keeps_this_one(app, casey, device):
    phone = signed_in_device(device, remember=True)
    laptop = signed_in_device(device, remember=True, user_agent=WINDOWS_FIREFOX)
    tablet = signed_in_device(device, user_agent=IPHONE_SAFARI)
    laptop_remember = cookie(laptop, "remember_token")
    phone_session, phone_remember = cookie(phone, "session"), cookie(phone, "remember_token")

    response = change_password(phone)
    assert response.status_code == 303
    assert "signed out everywhere else" in body(phone.get(PROFILE))

    assert is_signed_in(phone)  # this device goes on, with new cookies
    assert not is_signed_in(laptop)
    assert not is_signed_in(tablet)
    for name, value in [
        ("remember_token", laptop_remember),
        ("session", phone_session),
        ("remember_token", phone_remember),
    ]:
        assert not is_signed_in(only_cookie(app, name, value)), name
    # This device is still kept signed in: its new remember cookie works alone.
    assert is_signed_in(only_cookie(app, "remember_token", cookie(phone, "remember_token")))


def test_a_password_change_revokes_every_api_token(app, casey, device):
    phone = signed_in_device(device)
    tokens = [api_token(app.test_client()) for _ in range(2)]
    assert all(api_get(phone, token).status_code == 200 for token in tokens)
    change_password(phone)
    for token in tokens:
        response = api_get(app.test_client(), token)
        assert (response.status_code, response.json) == (401, UNAUTHORIZED)
    assert api_get(phone, api_token(phone, password=NEW_PASSWORD)).status_code == 200


def test_a_failed_password_change_ends_nothing(app, casey, device):
    phone = signed_in_device(device)
    laptop = signed_in_device(device, user_agent=WINDOWS_FIREFOX)
    token = api_token(app.test_client())
    assert change_password(phone, "short").status_code == 422
    assert is_signed_in(phone)
    assert is_signed_in(laptop)
    assert api_get(phone, token).status_code == 200


def test_a_password_reset_signs_out_everywhere(app, casey, device, outbox):
    phone = signed_in_device(device, remember=True)
    laptop = signed_in_device(device, user_agent=WINDOWS_FIREFOX)
    remembered = cookie(phone, "remember_token")
    token = api_token(app.test_client())

    submit(laptop, "/account/reset", {"email": CASEY})
    link = link_about(outbox, "Reset your Kairos password")
    assert submit(laptop, link, {"password": NEW_PASSWORD}).status_code == 303

    assert not is_signed_in(phone)
    assert not is_signed_in(laptop)  # the device that reset it too: it signs in anew
    assert not is_signed_in(only_cookie(app, "remember_token", remembered))
    assert api_get(app.test_client(), token).status_code == 401

    # Signing in after the reset works: with the new password, or an emailed link.
    assert post_sign_in(laptop, CASEY, NEW_PASSWORD).status_code == 303
    assert is_signed_in(laptop)
    submit(phone, "/account/magic", {"email": CASEY})
    magic = link_about(outbox, "Your Kairos sign-in link")
    assert submit(phone, magic, {}, page=magic).status_code == 303
    assert is_signed_in(phone)


def test_a_magic_link_sent_before_a_reset_signs_nobody_in_after_it(app, casey, device, outbox):
    phone = device()
    submit(phone, "/account/magic", {"email": CASEY})
    submit(phone, "/account/reset", {"email": CASEY})
    magic = link_about(outbox, "Your Kairos sign-in link")
    reset = link_about(outbox, "Reset your Kairos password")
    assert submit(phone, reset, {"password": NEW_PASSWORD}).status_code == 303
    assert submit(phone, magic, {}, page="/account/sign-in").status_code == 410
    assert not is_signed_in(phone)


# Leaving ----------------------------------------------------------------------------


def test_deleting_the_account_signs_out_every_device_and_app(app, casey, device):
    phone = signed_in_device(device)
    laptop = signed_in_device(device, remember=True, user_agent=WINDOWS_FIREFOX)
    remembered = cookie(laptop, "remember_token")
    token = api_token(app.test_client())

    response = submit(phone, "/account/delete", {"password": factories.PASSWORD})
    assert response.status_code == 303
    assert not is_signed_in(phone)
    assert not is_signed_in(laptop)
    assert not is_signed_in(only_cookie(app, "remember_token", remembered))
    assert api_get(app.test_client(), token).status_code == 401
    assert SignIn.select().count() == 0  # what they said of the devices is gone too


# DELETE /api/v1/me ------------------------------------------------------------------


def test_delete_me_deletes_the_account_and_ends_every_sign_in(app, clinic, casey, device, clock):
    upcoming = booking.book(
        customer_id=casey.id,
        service_id=clinic["follow_up"].id,
        start=MON_10,
        provider_id=clinic["tom"].id,
        now=clock(),
        dispatch=Dispatch(),
    )
    phone = signed_in_device(device)
    api = app.test_client()
    token, other = api_token(api), api_token(api)

    response = api.delete("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    assert response.get_data() == b""

    for used in (token, other):
        gone = api_get(api, used, "/api/v1/bookings")
        assert (gone.status_code, gone.json) == (401, UNAUTHORIZED)
        again = api.delete("/api/v1/me", headers={"Authorization": f"Bearer {used}"})
        assert again.status_code == 401
    assert not is_signed_in(phone)
    user = User.get_by_id(casey.id)
    assert user.email.endswith("@deleted.invalid")
    assert user.password_hash is None
    assert Booking.get_by_id(upcoming.id).status == "cancelled"
    assert ApiToken.select().count() == SignIn.select().count() == 0
    assert post_sign_in(app.test_client(), CASEY).status_code == 422


def test_delete_me_needs_a_token(app, casey):
    response = app.test_client().delete("/api/v1/me")
    assert response.status_code == 401
    assert response.json == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    bad = app.test_client().delete("/api/v1/me", headers={"Authorization": "Bearer made-up"})
    assert bad.status_code == 401
    assert User.get_by_id(casey.id).email == CASEY


def test_delete_me_refuses_staff_and_changes_nothing(app, clinic, device):
    ana = clinic["ana_user"]
    token = api_token(app.test_client(), ana.email)
    laptop = signed_in_device(device, ana.email)
    response = app.test_client().delete("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json == {
        "error": "forbidden",
        "message": "Staff accounts are closed by the business owner, not here.",
    }
    assert User.get_by_id(ana.id).email == ana.email
    assert api_get(app.test_client(), token).status_code == 200
    assert is_signed_in(laptop)


# Account → Security -----------------------------------------------------------------


def devices_on(page) -> list[str]:
    return [item.text for item in parse(page).one("ul", class_="sign-ins").find_all("li")]


def test_the_security_page_lists_the_signed_in_devices(app, casey, device, clock):
    laptop = signed_in_device(device, user_agent=WINDOWS_FIREFOX, address="198.51.100.20")
    clock.advance(hours=2)
    phone = signed_in_device(device, remember=True, address="2001:db8:1234:5678::1")
    clock.advance(minutes=30)

    response = phone.get(SECURITY)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    first, second = devices_on(response)
    assert first.startswith("Chrome on Android This device")
    assert "Signed in Wed 25 Nov, 14:00 UTC" in first
    assert "Active now · Kept signed in" in first
    assert "Network 2001:db8:1234::/48" in first
    assert second.startswith("Firefox on Windows")
    assert "This device" not in second
    assert "Kept signed in" not in second
    assert "Last active Wed 25 Nov, 12:00 UTC" in second
    assert "Network 198.51.100.0/24" in second
    assert "Sign out all other devices" in body(response)
    # The account page leads here.
    assert parse(phone.get(PROFILE)).find("a", href=SECURITY) is not None

    # In the person's own time zone, when their browser told it.
    User.update(timezone="America/New_York").where(User.id == casey.id).execute()
    this = devices_on(laptop.get(SECURITY))[0]
    assert this.startswith("Firefox on Windows This device Signed in Wed 25 Nov, 07:00 Active")
    assert "UTC" not in this


def test_signing_out_another_device_from_the_security_page(app, casey, device):
    phone = signed_in_device(device)
    laptop = signed_in_device(device, remember=True, user_agent=WINDOWS_FIREFOX)
    remembered = cookie(laptop, "remember_token")
    (other,) = SignIn.select().where(SignIn.device == "Firefox on Windows")

    path = f"{SECURITY}/devices/{other.id}/sign-out"
    response = phone.post(path, data={"csrf_token": csrf_token(phone, SECURITY)})
    assert (response.status_code, response.headers["Location"]) == (303, SECURITY)
    page = phone.get(SECURITY)
    assert "That device is signed out." in body(page)
    assert [d.split(" ")[0:3] for d in devices_on(page)] == [["Chrome", "on", "Android"]]
    assert "You are signed in on this device only." in body(page)
    assert not is_signed_in(laptop)
    assert not is_signed_in(only_cookie(app, "remember_token", remembered))
    assert is_signed_in(phone)


def test_signing_out_all_other_devices(app, casey, device):
    phone = signed_in_device(device)
    others = [
        signed_in_device(device, user_agent=WINDOWS_FIREFOX),
        signed_in_device(device, remember=True, user_agent=IPHONE_SAFARI),
    ]
    token = api_token(app.test_client())
    response = phone.post(
        f"{SECURITY}/devices/sign-out", data={"csrf_token": csrf_token(phone, SECURITY)}
    )
    assert response.status_code == 303
    assert "Every other device is signed out." in body(phone.get(SECURITY))
    assert [is_signed_in(c) for c in [phone, *others]] == [True, False, False]
    assert api_get(phone, token).status_code == 200  # apps have their own button


def test_the_security_page_lists_apps_and_signs_them_out(app, casey, device, clock):
    phone = signed_in_device(device, remember=True)
    assert "No app is signed in." in body(phone.get(SECURITY))
    first = api_token(app.test_client())
    clock.advance(days=1)
    second, third = api_token(app.test_client()), api_token(app.test_client())

    page = parse(phone.get(SECURITY))
    apps = page.one("ul", class_="app-tokens").find_all("li")
    assert len(apps) == 3
    assert "Signed in Wed 25 Nov, 12:00 UTC" in apps[-1].text
    assert "Until Fri 25 Dec" in apps[-1].text

    (oldest,) = ApiToken.select().where(ApiToken.created_at < clock())
    path = f"{SECURITY}/apps/{oldest.id}/sign-out"
    phone.post(path, data={"csrf_token": csrf_token(phone, SECURITY)})
    assert "That app is signed out." in body(phone.get(SECURITY))
    assert [api_get(phone, t).status_code for t in (first, second, third)] == [401, 200, 200]

    phone.post(f"{SECURITY}/apps/sign-out", data={"csrf_token": csrf_token(phone, SECURITY)})
    assert [api_get(phone, t).status_code for t in (second, third)] == [401, 401]
    assert "No app is signed in." in body(phone.get(SECURITY))
    assert is_signed_in(phone)


def test_nobody_can_sign_out_another_persons_device_or_app(app, clinic, casey, device):
    sam = factories.make_user("sam@example.com", "Sam Lee")
    sams_laptop = signed_in_device(device, "sam@example.com", user_agent=WINDOWS_FIREFOX)
    sams_token = api_token(app.test_client(), "sam@example.com")
    (sams_sign_in,) = SignIn.select().where(SignIn.user == sam.id)
    (sams_app,) = ApiToken.select().where(ApiToken.user == sam.id)

    phone = signed_in_device(device)
    token = csrf_token(phone, SECURITY)
    answers = {
        path: phone.post(path, data={"csrf_token": token})
        for path in [
            f"{SECURITY}/devices/{sams_sign_in.id}/sign-out",
            f"{SECURITY}/devices/{sams_sign_in.id + 1000}/sign-out",  # nobody's
            f"{SECURITY}/apps/{sams_app.id}/sign-out",
            f"{SECURITY}/apps/{sams_app.id + 1000}/sign-out",
        ]
    }
    # The same answer as for an id nobody has: nothing tells Casey the others exist.
    assert {(r.status_code, r.headers["Location"]) for r in answers.values()} == {(303, SECURITY)}
    assert is_signed_in(sams_laptop)
    assert api_get(app.test_client(), sams_token).status_code == 200
    # Casey signing out "all other devices" and "all apps" leaves Sam's alone too.
    phone.post(f"{SECURITY}/devices/sign-out", data={"csrf_token": token})
    phone.post(f"{SECURITY}/apps/sign-out", data={"csrf_token": token})
    assert is_signed_in(sams_laptop)
    assert api_get(app.test_client(), sams_token).status_code == 200


def test_the_security_page_and_its_buttons_need_a_signed_in_person(app, casey, device):
    stranger = device()
    assert stranger.get(SECURITY).status_code == 302
    token = csrf_token(stranger, "/account/sign-in")
    for path in [f"{SECURITY}/devices/sign-out", f"{SECURITY}/apps/sign-out"]:
        response = stranger.post(path, data={"csrf_token": token})
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/sign-in")


def test_the_security_buttons_need_the_csrf_token(app, casey, device):
    phone = signed_in_device(device)
    signed_in_device(device, user_agent=WINDOWS_FIREFOX)
    assert phone.post(f"{SECURITY}/devices/sign-out").status_code == 400
    assert SignIn.select().where(SignIn.ended_at.is_null()).count() == 2


# How long a sign-in lasts -------------------------------------------------------------


def test_a_sign_in_not_kept_ends_after_twelve_idle_hours(app, casey, device, clock):
    phone = signed_in_device(device)
    clock.advance(hours=11, minutes=59)
    assert is_signed_in(phone)  # seen again: another twelve hours from now
    clock.advance(hours=11, minutes=59)
    assert is_signed_in(phone)
    clock.advance(hours=12)
    assert not is_signed_in(phone)


def test_a_kept_sign_in_lasts_thirty_days_and_no_longer(app, casey, device, clock):
    phone = signed_in_device(device, remember=True)
    remembered = cookie(phone, "remember_token")
    clock.advance(days=29, hours=23)
    assert is_signed_in(only_cookie(app, "remember_token", remembered))
    clock.advance(hours=1)
    assert not is_signed_in(phone)
    assert not is_signed_in(only_cookie(app, "remember_token", remembered))


def test_when_a_device_was_last_seen_is_written_every_few_minutes(app, casey, device, clock):
    phone = signed_in_device(device)
    signed_in_at = clock()
    clock.advance(minutes=4)
    assert is_signed_in(phone)
    assert SignIn.get().last_seen_at == signed_in_at  # not on every request
    clock.advance(minutes=1)
    assert is_signed_in(phone)
    assert SignIn.get().last_seen_at == clock()


def test_ended_and_expired_sign_ins_are_purged_after_a_week(app, casey, device, clock):
    phone, laptop = (signed_in_device(device, remember=True) for _ in range(2))
    signed_in_device(device)  # not kept: it expires after twelve hours
    sign_out(phone)
    clock.advance(days=3)
    sign_out(laptop)
    clock.advance(days=4, seconds=1)  # the phone's ended a week ago, the third expired 6.5 days ago
    assert sessions.purge(clock()) == 1
    assert SignIn.select().count() == 2
    clock.advance(days=4)
    assert sessions.purge(clock()) == 2
    assert SignIn.select().count() == 0


def test_a_session_from_before_sign_ins_were_kept_signs_nobody_in(app, casey):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = str(casey.id), True
    assert not is_signed_in(client)

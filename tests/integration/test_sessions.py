"""Sign-ins end when they should (issue 12, finding 4): signing out, a new password, a
reset and leaving end the session cookie, the remember cookie and the API tokens they
should, on every device; DELETE /api/v1/me. (Account → Security, which lists the
devices and signs them out: test_account_security.py.)

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


def devices_of(app):
    """``make(user_agent, address)``: a browser of its own, as a test client."""

    def make(user_agent: str = ANDROID_CHROME, address: str = "203.0.113.7"):
        client = app.test_client()
        client.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
        return client

    return make


@pytest.fixture
def device(app):
    return devices_of(app)


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

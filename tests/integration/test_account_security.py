"""Account → Security (issue 12, finding 4): the signed-in devices and the apps of the
signed-in person, each of which they can sign out, and nobody else's.

Each "device" is a test client of its own (see test_sessions.py), signed in through the
sign-in form."""

from __future__ import annotations

import pytest

from models import ApiToken, SignIn, User
from tests import factories
from tests.integration.test_accounts import body, csrf_token
from tests.integration.test_sessions import (
    IPHONE_SAFARI,
    PROFILE,
    SECURITY,
    WINDOWS_FIREFOX,
    api_get,
    api_token,
    cookie,
    devices_of,
    is_signed_in,
    only_cookie,
    signed_in_device,
)
from tests.integration.webpages import parse


@pytest.fixture
def casey(clinic):
    return clinic["customer"]


@pytest.fixture
def device(app):
    return devices_of(app)


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
    assert "Signed in Wed 25 Nov, 14:00 UTC with a password" in first
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
    assert this.startswith(
        "Firefox on Windows This device Signed in Wed 25 Nov, 07:00 with a password Active"
    )
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

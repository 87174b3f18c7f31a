"""The customer side's access matrix: the appointment pages, the account pages and the
API's bookings, for each kind of person. A customer's things are theirs alone: staff
act on bookings through the workspace, whose own matrices are in the test_ws_* files."""

from __future__ import annotations

import pytest

from models import ApiToken, Identity, Passkey, PushSubscription, SignIn, User
from services.accounts import sessions
from services.accounts.auth import issue_token
from tests.conftest import api_client_for
from tests.integration.workspace import expect

WHO = ("anonymous", "customer", "sam", "provider", "owner")  # sam: another customer
TOMORROW_10 = "2026-12-01T10:00:00Z"

PAGES = {
    # route: (anonymous, customer (Casey, whose booking with Ana it is), sam, Ana, owner)
    "/appointments": (302, 200, 200, 200, 200),
    "/appointments/{ana's booking}": (302, 200, 404, 404, 404),
    "/appointments/{ana's booking}/calendar.ics": (302, 200, 404, 404, 404),
    "/appointments/{ana's booking}/confirmed": (302, 200, 404, 404, 404),
    "/appointments/{ana's booking}/cancel": (302, 200, 404, 404, 404),
    "/appointments/{ana's booking}/move": (302, 200, 404, 404, 404),
    # Nothing to pay for a booking already confirmed: its customer goes to its page.
    "/appointments/{ana's booking}/pay": (302, 302, 404, 404, 404),
    f"/appointments/{{ana's booking}}/move/confirm?start={TOMORROW_10}": (302, 200, 404, 404, 404),
    "/appointments/{other's booking}": (302, 404, 404, 404, 404),
    "/appointments/999999": (302, 404, 404, 404, 404),
    "/account/profile": (302, 200, 200, 200, 200),
    "/account/notifications": (302, 200, 200, 200, 200),
    "/account/delete": (302, 200, 200, 200, 200),
    "/account/security": (302, 200, 200, 200, 200),
    "/account/sign-in-methods": (302, 200, 200, 200, 200),
    # Adding a phone number: signed in only; 404 here, where no texts can be sent (with
    # Twilio: tests/integration/test_phone_sign_in.py).
    "/account/sign-in-methods/phone": (302, 404, 404, 404, 404),
    # Not configured in these tests, so a signed-in account gets 404 rather than the
    # redirect to Google (test_social_sign_in.py).
    "/account/sign-in-methods/add/google": (302, 404, 404, 404, 404),
    "/account/my-data.json": (302, 200, 200, 200, 200),  # each their own
    "/account/my-bookings.ics": (302, 200, 200, 200, 200),
}

ACTIONS = {
    # route, form: answers as above, asked in that order (so the customer acts first).
    ("/appointments/{other's booking}/cancel", ""): (302, 404, 404, 404, 404),
    ("/appointments/{ana's booking}/move/confirm", f"start={TOMORROW_10}"): (
        302,
        303,
        404,
        404,
        404,
    ),
    # Paying: only its customer, and there is nothing to pay (409) or check (404) here.
    ("/appointments/{ana's booking}/pay", ""): (302, 409, 404, 404, 404),
    ("/appointments/{ana's booking}/pay/check", ""): (302, 404, 404, 404, 404),
    ("/appointments/{ana's booking}/pay/cancel", ""): (302, 303, 404, 404, 404),
    ("/appointments/{ana's booking}/cancel", "reason=Ill"): (302, 303, 404, 404, 404),
    ("/account/devices", ""): (302, 422, 422, 422, 422),  # signed in: then what was sent
    # Removing a device that is not (or no longer) yours removes nothing, quietly.
    ("/account/devices/{sam's device}/delete", ""): (302, 303, 303, 303, 303),
    ("/account/notifications", "confirmation-email=y"): (302, 303, 303, 303, 303),
    ("/account/profile", "name=New Name"): (302, 303, 303, 303, 303),
    ("/account/profile/email", "email=x@example.com"): (302, 422, 422, 422, 422),
    ("/account/profile/password", "current=x"): (302, 422, 422, 422, 422),
    ("/account/delete", "password=x"): (302, 422, 422, 422, 422),
    # Signing out a sign-in or an app that is not yours ends nothing, quietly (below).
    ("/account/security/devices/{sam's sign-in}/sign-out", ""): (302, 303, 303, 303, 303),
    ("/account/security/apps/{sam's app}/sign-out", ""): (302, 303, 303, 303, 303),
    ("/account/security/devices/sign-out", ""): (302, 303, 303, 303, 303),
    ("/account/security/apps/sign-out", ""): (302, 303, 303, 303, 303),
    # Sign-in methods: each removes their own password (the emailed link remains);
    # Sam's identity and passkey are his alone, whoever else asks (after him: gone).
    ("/account/sign-in-methods/password/remove", ""): (302, 303, 303, 303, 303),
    ("/account/sign-in-methods/identities/{sam's identity}/remove", ""): (302, 404, 303, 404, 404),
    ("/account/sign-in-methods/passkeys/{sam's passkey}/remove", ""): (302, 404, 303, 404, 404),
    ("/account/sign-in-methods/phone", "phone=07911 123456"): (302, 404, 404, 404, 404),
    ("/account/sign-out", ""): (303, 303, 303, 303, 303),
    # Adding a passkey: each to their own account. The world's BASE_URL is an IP address,
    # where there are no passkeys (404); test_passkeys.py adds them on localhost.
    ("/account/passkeys/options", ""): (302, 404, 404, 404, 404),
    ("/account/passkeys", ""): (302, 404, 404, 404, 404),
}

API = {
    # method, route, JSON body: (no token, Casey's token, Sam's, Ana's, the owner's)
    ("GET", "/api/v1/bookings", None): (401, 200, 200, 200, 200),
    ("GET", "/api/v1/bookings/{ana's booking}", None): (401, 200, 404, 404, 404),
    ("GET", "/api/v1/bookings/{other's booking}", None): (401, 404, 404, 404, 404),
    ("GET", "/api/v1/me/export", None): (401, 200, 200, 200, 200),  # each their own
    ("GET", "/api/v1/me/export.ics", None): (401, 200, 200, 200, 200),
    # Only providers have a calendar feed (Ana); anyone else is refused (403).
    ("GET", "/api/v1/me/calendar-feed", None): (401, 403, 403, 200, 403),
    ("POST", "/api/v1/bookings", "{}"): (401, 422, 422, 422, 422),
    ("POST", "/api/v1/bookings/{ana's booking}/reschedule", f'{{"start": "{TOMORROW_10}"}}'): (
        401,
        200,
        404,
        404,
        404,
    ),
    ("POST", "/api/v1/bookings/{ana's booking}/payment", '{"token": "tok_x"}'): (
        401,
        409,  # already confirmed: nothing to pay
        404,
        404,
        404,
    ),
    ("POST", "/api/v1/bookings/{ana's booking}/payment/check", "{}"): (401, 404, 404, 404, 404),
    ("POST", "/api/v1/bookings/{ana's booking}/cancel", "{}"): (401, 200, 404, 404, 404),
    ("DELETE", "/api/v1/tokens/current", None): (401, 204, 204, 204, 204),
    ("DELETE", "/api/v1/me", None): (401, 204, 204, 403, 403),  # staff close theirs elsewhere
    # Imported calendars are a provider's own (the owner here keeps no schedule).
    ("GET", "/api/v1/me/calendars", None): (401, 403, 403, 200, 403),
    ("POST", "/api/v1/me/calendars", '{"url": "http://10.0.0.1/c.ics"}'): (401, 403, 403, 422, 403),
    ("DELETE", "/api/v1/me/calendars/404", None): (401, 403, 403, 404, 403),
    ("POST", "/api/v1/me/calendars/404/sync", "{}"): (401, 403, 403, 404, 403),
    ("PATCH", "/api/v1/me/calendars/404", '{"show_names": true}'): (401, 403, 403, 404, 403),
}


@pytest.fixture
def people(world, clock):
    """The workspace world, with Sam (Tom's customer) as a person, with a push device, a
    browser signed in and an app signed in through the API."""
    sam = User.get_by_id(world["tom's customer"])
    device = PushSubscription.create(
        user=sam, endpoint="https://fcm.googleapis.com/fcm/send/sam", p256dh="BKey", auth="a"
    )
    sessions.start(sam.id, remember=False, user_agent="", address=None, now=clock())
    issue_token(sam, clock())
    identity = Identity.create(user=sam, provider="google", subject="sam", created_at=clock())
    passkey = Passkey.create(
        user=sam, credential_id=b"sam", public_key=b"k", name="Sam's phone", created_at=clock()
    )
    return world | {
        "sam's identity": identity.id,
        "sam's passkey": passkey.id,
        "sam": sam,
        "sam's device": device.id,
        "sam's sign-in": SignIn.get(SignIn.user == sam.id).id,
        "sam's app": ApiToken.get(ApiToken.user == sam.id).id,
    }


@pytest.mark.parametrize("route", PAGES)
def test_pages(signed_in, people, route):
    expect(signed_in, people, route, PAGES[route], who=WHO)


@pytest.mark.parametrize(("route", "form"), ACTIONS)
def test_actions(signed_in, people, route, form):
    data = dict(pair.split("=", 1) for pair in form.split("&") if pair)
    expect(signed_in, people, route, ACTIONS[route, form], method="POST", data=data, who=WHO)


def test_only_its_owner_removes_a_device(signed_in, people):
    for who in ("customer", "provider", "owner"):
        expect(
            signed_in, people, "/account/devices/{sam's device}/delete", (303,), "POST", {}, (who,)
        )
    assert PushSubscription.get_or_none(id=people["sam's device"]) is not None
    expect(
        signed_in, people, "/account/devices/{sam's device}/delete", (303,), "POST", {}, ("sam",)
    )
    assert PushSubscription.get_or_none(id=people["sam's device"]) is None


def test_only_its_owner_signs_out_a_sign_in_or_an_app(signed_in, people):
    for route in (
        "/account/security/devices/{sam's sign-in}/sign-out",
        "/account/security/apps/{sam's app}/sign-out",
    ):
        for who in ("customer", "provider", "owner"):
            expect(signed_in, people, route, (303,), "POST", {}, (who,))
    assert SignIn.get_by_id(people["sam's sign-in"]).ended_at is None
    assert ApiToken.get_by_id(people["sam's app"]).revoked_at is None


@pytest.mark.parametrize(("method", "route", "body"), API)
def test_api(app, people, clock, method, route, body):
    got = {}
    for who in WHO:
        api = api_client_for(app, people[who], clock) if people[who] else None
        headers = {"Authorization": f"Bearer {api.token}"} if api else {}
        response = app.test_client().open(
            route.format(**people),
            method=method,
            data=body,
            headers=headers | {"Content-Type": "application/json"},
        )
        got[who] = response.status_code
    assert got == dict(zip(WHO, API[method, route, body], strict=True)), got

"""Every route of the ways in without a password (views/identity/), sent junk by someone
signed in and by someone not: a clear 4xx (or a 503 when the provider cannot be
reached), never a 500, and nothing written. Every provider is configured but
unreachable (a closed port), so that no route stops at "not configured"."""

from __future__ import annotations

import socket

import pytest

from models import Identity, Passkey, User
from tests.integration.test_accounts import csrf_token
from tests.integration.test_sessions import devices_of, signed_in_device


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NOWHERE = f"http://127.0.0.1:{closed_port()}"


@pytest.fixture
def app_settings():
    return {
        "base_url": "http://localhost:5000",
        "google_client_id": "g",
        "google_client_secret": "s",
        "google_metadata_url": f"{NOWHERE}/.well-known/openid-configuration",
        "apple_client_id": "a",
        "apple_client_secret": "s",
        "apple_metadata_url": f"{NOWHERE}/.well-known/openid-configuration",
        "facebook_client_id": "f",
        "facebook_client_secret": "s",
        "facebook_authorize_url": f"{NOWHERE}/dialog/oauth",
        "facebook_token_url": f"{NOWHERE}/oauth/access_token",
        "facebook_graph_url": NOWHERE,
        "twilio_sid": "AC" + "0" * 32,
        "twilio_token": "t",
        "twilio_from": "+15005550006",
        "twilio_api_url": NOWHERE,
    }


JUNK_FORMS = [
    {},
    {"phone": "x" * 5000},
    {"phone": "\x00\x01"},
    {"code": "abcdef", "phone": "+447911123456"},
    {"name": "\u202e" * 300, "email": "not an email"},
]
JUNK_JSON = [None, [], "text", {"id": 1}, {"response": {"clientDataJSON": "!!"}}, {"name": 7}]
JUNK_QUERIES = [
    "",
    "?state=x&code=y",
    "?error=access_denied&state=x",
    "?code=" + "y" * 5000,
    "?next=https://evil.example/",
]


def identity_routes(app) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in ("social", "phone", "passkeys", "methods"):
            continue
        path = rule.rule.replace("<provider>", "google")
        path = path.replace("<id:identity_id>", "1").replace("<id:passkey_id>", "1")
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((method, path))
    return found


def test_junk_gets_a_clear_answer_never_a_500(app, clinic):
    client = signed_in_device(devices_of(app))
    anonymous = app.test_client()
    routes = identity_routes(app)
    assert len(routes) >= 15
    accounts = User.select().count()
    for method, path in routes:
        for who in (anonymous, client):
            if method == "GET":
                for query in JUNK_QUERIES:
                    answer = who.get(path + query)
                    assert answer.status_code < 500 or answer.status_code == 503, (path, query)
                continue
            token = csrf_token(client, "/account/profile")
            for form in JUNK_FORMS:
                answer = who.post(path, data={**form, "csrf_token": token})
                assert answer.status_code < 500 or answer.status_code == 503, (path, form)
            for body in JUNK_JSON:
                answer = who.post(path, json=body, headers={"X-CSRFToken": token})
                assert answer.status_code < 500 or answer.status_code == 503, (path, body)
    # The only change junk may make: the signed-in person removed their own password
    # (the route needs no more than the token), leaving the emailed link.
    assert User.select().count() == accounts
    assert not Identity.select().exists()
    assert not Passkey.select().exists()

"""POST/DELETE /api/v1/tokens and bearer authentication."""

from __future__ import annotations

import pytest

from models import ApiToken
from tests import factories

INVALID_CREDENTIALS = {"error": "invalid_credentials", "message": "Email or password is not right."}


def request_token(client, email: str, password: str = factories.PASSWORD):
    return client.post("/api/v1/tokens", json={"email": email, "password": password})


def test_token_is_issued_for_thirty_days(client, clinic):
    response = request_token(client, "casey@example.com")

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert set(response.json) == {"token", "expires_at"}
    assert response.json["expires_at"] == "2026-12-25T12:00:00+00:00"
    assert len(response.json["token"]) >= 32


def test_token_is_stored_hashed(client, clinic):
    token = request_token(client, "casey@example.com").json["token"]

    stored = ApiToken.get(ApiToken.user == clinic["customer"].id)
    assert stored.token_hash != token
    assert token not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_each_sign_in_gets_a_new_token(client, clinic):
    first = request_token(client, "casey@example.com").json["token"]
    second = request_token(client, "casey@example.com").json["token"]

    assert first != second
    assert ApiToken.select().where(ApiToken.user == clinic["customer"].id).count() == 2


def test_wrong_password_and_unknown_email_look_the_same(client, clinic):
    wrong_password = request_token(client, "casey@example.com", "not the password")
    unknown_email = request_token(client, "nobody@example.com")

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json == unknown_email.json == INVALID_CREDENTIALS
    assert wrong_password.get_data() == unknown_email.get_data()
    assert ApiToken.select().count() == 0


def test_user_without_a_password_cannot_get_a_token(client, clinic):
    clinic["customer"].password_hash = None
    clinic["customer"].save()

    response = request_token(client, "casey@example.com", "")

    assert response.status_code == 401
    assert response.json == INVALID_CREDENTIALS


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"email": "Required.", "password": "Required."}),
        ({"email": "casey@example.com"}, {"password": "Required."}),
        ({"password": factories.PASSWORD}, {"email": "Required."}),
        ({"email": "casey@example.com", "password": 1234}, {"password": "Required."}),
        ({"email": None, "password": factories.PASSWORD}, {"email": "Required."}),
    ],
)
def test_missing_fields_are_422(client, clinic, body, fields):
    response = client.post("/api/v1/tokens", json=body)

    assert response.status_code == 422
    assert response.json["error"] == "invalid"
    assert response.json["fields"] == fields
    assert isinstance(response.json["message"], str)
    assert response.json["message"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("email=casey@example.com&password=x", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
        ('["casey@example.com", "x"]', "application/json"),
        ("", "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_422(client, clinic, data, content_type):
    response = client.post("/api/v1/tokens", data=data, content_type=content_type)

    assert response.status_code == 422
    assert response.json["error"] == "invalid"
    assert list(response.json["fields"]) == ["body"]


def test_email_is_case_insensitive(client, clinic):
    response = request_token(client, "  Casey@EXAMPLE.com ")

    assert response.status_code == 201
    assert ApiToken.get().user_id == clinic["customer"].id


def test_token_works_as_bearer(client, clinic):
    token = request_token(client, "casey@example.com").json["token"]

    response = client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json == []


def test_bearer_scheme_is_case_insensitive(client, clinic):
    token = request_token(client, "casey@example.com").json["token"]

    response = client.get("/api/v1/bookings", headers={"Authorization": f"bearer {token}"})

    assert response.status_code == 200


def test_token_expires_after_thirty_days(client, clinic, clock):
    token = request_token(client, "casey@example.com").json["token"]
    headers = {"Authorization": f"Bearer {token}"}

    clock.advance(days=29, hours=23)
    assert client.get("/api/v1/bookings", headers=headers).status_code == 200
    clock.advance(hours=1)  # exactly 30 days: expired
    assert client.get("/api/v1/bookings", headers=headers).status_code == 401
    clock.advance(days=1)
    expired = client.get("/api/v1/bookings", headers=headers)
    assert expired.status_code == 401
    assert expired.json["error"] == "unauthorized"


def test_revoked_token_no_longer_works(client, clinic):
    token = request_token(client, "casey@example.com").json["token"]
    other = request_token(client, "casey@example.com").json["token"]
    headers = {"Authorization": f"Bearer {token}"}

    revoked = client.delete("/api/v1/tokens/current", headers=headers)

    assert revoked.status_code == 204
    assert revoked.get_data() == b""
    assert client.get("/api/v1/bookings", headers=headers).status_code == 401
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 401
    # Only the token that was sent is revoked.
    other_headers = {"Authorization": f"Bearer {other}"}
    assert client.get("/api/v1/bookings", headers=other_headers).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer not-a-real-token",
        "Basic Y2FzZXlAZXhhbXBsZS5jb206eA==",
        "Token abc",
        "garbage",
    ],
)
def test_missing_or_bad_authorization_is_401_json(client, clinic, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.get("/api/v1/bookings", headers=headers)

    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json["error"] == "unauthorized"
    assert "Bearer" in response.json["message"]
    assert set(response.json) == {"error", "message"}


def test_another_users_token_cannot_be_revoked_without_it(client, clinic):
    mine = request_token(client, "casey@example.com").json["token"]
    factories.make_user("dana@example.com")
    theirs = request_token(client, "dana@example.com").json["token"]

    client.delete("/api/v1/tokens/current", headers={"Authorization": f"Bearer {mine}"})

    still = client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {theirs}"})
    assert still.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/bookings"),
        ("post", "/api/v1/bookings"),
        ("get", "/api/v1/bookings/1"),
        ("post", "/api/v1/bookings/1/cancel"),
        ("post", "/api/v1/bookings/1/reschedule"),
        ("delete", "/api/v1/tokens/current"),
    ],
)
def test_every_private_endpoint_needs_a_token(anonymous_api, clinic, method, path):
    response = getattr(anonymous_api, method)(path)

    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"

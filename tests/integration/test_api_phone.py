"""API v1: a token for a code texted to a phone (issue 17). POST /api/v1/auth/phone-code
texts the code and answers 202 {} for every number; POST /api/v1/tokens with the number
and the code gives a token (making a customer on first use), 401 for a wrong, expired
or used-up code. Email and password are unchanged (test_api_tokens.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from models import Identity, User
from services.ratelimits import LIMITS
from tests.conftest import ApiClient
from tests.integration.test_phone_sign_in import NUMBER, app_settings, code_in, twilio
from tests.server import gunicorn

__all__ = ["app_settings", "twilio"]  # the fixtures: Twilio is the stand-in

PHONE_CODE = "/api/v1/auth/phone-code"
TOKENS = "/api/v1/tokens"


@pytest.fixture
def api(anonymous_api) -> ApiClient:
    return anonymous_api


def texted(api, twilio, number: str = NUMBER) -> str:
    answer = api.post(PHONE_CODE, json={"phone": number})
    assert answer.status_code == 202, answer.json
    return code_in(twilio.messages[-1])


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_asking_for_a_code_answers_the_same_for_every_number(api, twilio, clinic, clock):
    Identity.create(user=clinic["customer"], provider="phone", subject=NUMBER, created_at=clock.now)
    known = api.post(PHONE_CODE, json={"phone": NUMBER})
    unknown = api.post(PHONE_CODE, json={"phone": "+447911123457"})
    assert (known.status_code, known.data) == (unknown.status_code, unknown.data)
    assert known.status_code == 202
    assert known.json == {}
    assert [m.to for m in twilio.messages] == [NUMBER, "+447911123457"]


def test_the_issues_example_number_works_though_its_range_is_for_drama(api, twilio):
    """+44 7700 900123 is in Ofcom's range kept for fiction: possible, not "valid" to
    phonenumbers. Signing in lets the text service say whether it reaches anyone."""
    code = texted(api, twilio, "+447700900123")
    answer = api.post(TOKENS, json={"phone": "+447700900123", "code": code})
    assert answer.status_code == 201
    assert Identity.get(Identity.user == User.get(User.phone == "+447700900123")).subject == (
        "+447700900123"
    )
    assert api.post(PHONE_CODE, json={"phone": "+44 77"}).status_code == 422  # too short


def test_a_known_number_gets_a_token_for_its_account(api, twilio, clinic, clock):
    casey = clinic["customer"]
    Identity.create(user=casey, provider="phone", subject=NUMBER, created_at=clock.now)
    code = texted(api, twilio, "+44 7911 123456")
    answer = api.post(TOKENS, json={"phone": "07911 123456", "code": code})
    assert answer.status_code == 201
    assert set(answer.json) == {"token", "expires_at"}
    me = ApiClient(api.client, answer.json["token"]).get("/api/v1/me/export")
    assert me.status_code == 200
    assert me.json["email"] == casey.email
    assert Identity.get(Identity.subject == NUMBER).last_used_at == clock.now


def test_a_new_number_makes_a_customer_on_first_use(api, twilio):
    code = texted(api, twilio)
    answer = api.post(TOKENS, json={"phone": NUMBER, "code": code, "name": "Robin Vale"})
    assert answer.status_code == 201
    user = User.get(User.phone == NUMBER)
    assert (user.name, user.email, user.password_hash) == ("Robin Vale", None, None)
    assert Identity.get(Identity.user == user.id).subject == NUMBER
    code = texted(api, twilio)  # the next time, the same account
    again = api.post(TOKENS, json={"phone": NUMBER, "code": code})
    assert again.status_code == 201
    assert User.select().where(User.phone == NUMBER).count() == 1


def test_a_new_number_without_a_name_is_named_by_the_number(api, twilio):
    code = texted(api, twilio)
    assert api.post(TOKENS, json={"phone": NUMBER, "code": code}).status_code == 201
    assert User.get(User.phone == NUMBER).name == "+44 7911 123456"


def test_a_wrong_code_is_a_401_and_five_kill_the_code(api, twilio):
    code = texted(api, twilio)
    for left in (4, 3, 2, 1, 0):
        answer = api.post(TOKENS, json={"phone": NUMBER, "code": wrong(code)})
        assert answer.status_code == 401
        assert answer.json["error"] == "invalid_credentials"
        assert "That code isn't right." in answer.json["message"]
        if left:
            assert f"{left} tr" in answer.json["message"]
    dead = api.post(TOKENS, json={"phone": NUMBER, "code": code})
    assert dead.status_code == 401
    assert "expired or has been used up" in dead.json["message"]
    assert User.select().where(User.phone == NUMBER).count() == 0


def test_an_expired_or_used_code_is_a_401(api, twilio, clock):
    code = texted(api, twilio)
    clock.advance(minutes=10, seconds=1)
    assert api.post(TOKENS, json={"phone": NUMBER, "code": code}).status_code == 401
    code = texted(api, twilio)
    assert api.post(TOKENS, json={"phone": NUMBER, "code": code}).status_code == 201
    assert api.post(TOKENS, json={"phone": NUMBER, "code": code}).status_code == 401


def test_a_code_for_a_number_never_texted_is_a_401(api, twilio):
    answer = api.post(TOKENS, json={"phone": NUMBER, "code": "123456"})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "0770 09"}, "phone"),
        ({"phone": 447911123456}, "phone"),
        ({}, "phone"),
    ],
)
def test_bad_numbers_are_a_422_on_the_field(api, twilio, body, field):
    answer = api.post(PHONE_CODE, json=body)
    assert answer.status_code == 422
    assert field in answer.json["fields"]
    missing_code = api.post(TOKENS, json={**body, "phone": body.get("phone", "")})
    assert missing_code.status_code == 422
    assert twilio.messages == []


@pytest.mark.parametrize("name", [42, ["Robin"], "", "Robin\x00"])
def test_a_bad_name_is_a_422_and_leaves_the_code_alive(api, twilio, name):
    code = texted(api, twilio)
    answer = api.post(TOKENS, json={"phone": NUMBER, "code": code, "name": name})
    assert answer.status_code == 422
    assert "name" in answer.json["fields"]
    assert api.post(TOKENS, json={"phone": NUMBER, "code": code}).status_code == 201


def test_texts_to_one_number_are_limited(api, twilio):
    for _ in range(LIMITS["texts_per_number"].count):
        texted(api, twilio)
    refused = api.post(PHONE_CODE, json={"phone": "07911 123456"})
    assert refused.status_code == 429
    assert refused.json["error"] == "rate_limited"
    assert refused.json["retry_after"] > 0


def test_wrong_codes_for_one_number_are_limited(api, twilio):
    allowed = LIMITS["phone_codes_per_number"].count
    tried = 0
    while tried < allowed:
        code = texted(api, twilio)
        for _ in range(min(4, allowed - tried)):
            assert api.post(TOKENS, json={"phone": NUMBER, "code": wrong(code)}).status_code == 401
            tried += 1
    refused = api.post(TOKENS, json={"phone": NUMBER, "code": code})
    assert refused.status_code == 429


def test_twilio_refusing_the_number_is_a_422_and_twilio_down_a_503(api, twilio):
    twilio.unsubscribe(NUMBER)
    stopped = api.post(PHONE_CODE, json={"phone": NUMBER})
    assert stopped.status_code == 422
    assert "replied STOP" in stopped.json["fields"]["phone"]
    twilio.fail_next(503)
    down = api.post(PHONE_CODE, json={"phone": "+447911123457"})
    assert down.status_code == 503
    assert down.json["error"] == "sms_unavailable"
    assert down.headers["Retry-After"] == "60"


def test_email_and_password_still_get_a_token(api, clinic):
    from tests.factories import PASSWORD

    answer = api.post(TOKENS, json={"email": clinic["customer"].email, "password": PASSWORD})
    assert answer.status_code == 201


def test_one_code_sent_by_many_at_once_gives_one_token_and_one_account(app, database_url, twilio):
    with gunicorn(database_url, env=twilio.env()) as base:
        asked = requests.post(f"{base}{PHONE_CODE}", json={"phone": NUMBER}, timeout=20)
        assert asked.status_code == 202
        body = {"phone": NUMBER, "code": code_in(twilio.messages[-1])}

        def use(_: int) -> int:
            return requests.post(f"{base}{TOKENS}", json=body, timeout=20).status_code

        with ThreadPoolExecutor(8) as pool:
            answers = sorted(pool.map(use, range(8)))
    assert answers == [201] + [401] * 7
    assert User.select().where(User.phone == NUMBER).count() == 1

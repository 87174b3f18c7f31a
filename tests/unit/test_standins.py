"""The test stand-ins behave like the real services: real clients get through, bad requests fail."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid01, Vapid02
from pywebpush import WebPusher, WebPushException, webpush

from tests.standins.push_service import PushService, b64url_encode
from tests.standins.twilio import TwilioStandIn, num_segments

CONTACT = {"sub": "mailto:ops@kairos.test"}


def _new_vapid() -> Vapid02:
    vapid = Vapid02()
    vapid.generate_keys()
    return vapid


@pytest.fixture(scope="module")
def vapid() -> Vapid02:
    return _new_vapid()


def _public_key(vapid: Vapid02) -> str:
    """The applicationServerKey a page would pass to pushManager.subscribe()."""
    return b64url_encode(
        vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )


def _raw_private_key(vapid: Vapid02) -> str:
    """The key as a string webpush() takes: raw or DER base64, not PEM armour (from_string)."""
    return b64url_encode(vapid.private_key.private_numbers().private_value.to_bytes(32, "big"))


@pytest.fixture
def push(vapid):
    with PushService(application_server_key=_public_key(vapid)) as service:
        yield service


@pytest.fixture
def twilio():
    with TwilioStandIn() as standin:
        yield standin


def _send(sub, data="{}", *, key, claims=None, **kwargs):
    return webpush(sub, data, vapid_private_key=key, vapid_claims=claims or dict(CONTACT), **kwargs)


def _raw_push(sub, body: bytes, authorization: str) -> requests.Response:
    headers = {"Authorization": authorization, "Content-Encoding": "aes128gcm", "TTL": "60"}
    return requests.post(sub["endpoint"], data=body, headers=headers, timeout=5)


def _authorization(vapid, push: PushService) -> str:
    claims = {**CONTACT, "aud": push.origin, "exp": int(time.time()) + 60}
    return vapid.sign(claims)["Authorization"]


@pytest.mark.parametrize("key_form", ["Vapid instance", "raw key string"])
def test_pywebpush_message_arrives_decrypted_with_its_headers(push, vapid, key_form):
    sub = push.subscribe("phone")
    message = {"title": "Booked", "url": "/appointments/1"}
    response = _send(
        sub,
        json.dumps(message),
        key=vapid if key_form == "Vapid instance" else _raw_private_key(vapid),
        ttl=60,
        headers={"Urgency": "high", "Topic": "booking-1"},
    )
    assert response.status_code == 201
    assert response.headers["Location"].startswith(push.base_url)
    [delivery] = push.wait_for(1, timeout=5)
    assert delivery.name == "phone"
    assert delivery.json() == message
    assert (delivery.ttl, delivery.urgency, delivery.topic) == (60, "high", "booking-1")
    assert delivery.claims["aud"] == push.origin
    assert delivery.claims["sub"] == CONTACT["sub"]


def test_subscription_looks_like_a_browsers(push):
    sub = push.subscribe("tablet")
    assert sub["endpoint"].startswith(f"{push.base_url}/push/")
    assert sub["expirationTime"] is None
    assert len(sub["keys"]["p256dh"]) == 87  # 65-byte uncompressed point, unpadded base64url
    assert len(sub["keys"]["auth"]) == 22  # 16 bytes
    assert "=" not in sub["keys"]["p256dh"] + sub["keys"]["auth"]


def test_a_push_signed_with_another_key_is_forbidden(push):
    with pytest.raises(WebPushException) as caught:
        _send(push.subscribe("phone"), key=_new_vapid())
    assert caught.value.response.status_code == 403
    assert push.deliveries == []


def test_a_tampered_jwt_is_unauthorized(push, vapid):
    sub = push.subscribe("phone")
    body = WebPusher(sub).encode(b"{}")["body"]
    scheme_and_token, key = _authorization(vapid, push).split(",k=")
    header, claims, signature = scheme_and_token.split(".")
    valid_but_not_signed = {"sub": "mailto:someone@else.test", "aud": push.origin}
    valid_but_not_signed["exp"] = int(time.time()) + 60
    forged = b64url_encode(json.dumps(valid_but_not_signed).encode())
    assert _raw_push(sub, body, f"{header}.{forged}.{signature},k={key}").status_code == 401
    assert _raw_push(sub, body, f"{header}.{claims}.{signature},k={key}").status_code == 201


def test_the_draft_vapid_scheme_is_unauthorized(push, vapid):
    legacy = Vapid01(private_key=vapid.private_key)  # "Authorization: WebPush <jwt>" + Crypto-Key
    with pytest.raises(WebPushException) as caught:
        _send(push.subscribe("phone"), key=legacy)
    assert caught.value.response.status_code == 401


def test_claims_reused_for_another_push_service_carry_the_wrong_audience(vapid):
    claims = dict(CONTACT)  # pywebpush writes "aud" into the dict it is given
    with PushService() as first, PushService() as second:
        assert _send(first.subscribe("a"), key=vapid, claims=claims).status_code == 201
        with pytest.raises(WebPushException) as caught:
            _send(second.subscribe("b"), key=vapid, claims=claims)
    assert caught.value.response.status_code == 401


def test_a_body_encrypted_for_another_subscription_is_rejected(push, vapid):
    sub, other = push.subscribe("phone"), push.subscribe("laptop")
    body = WebPusher(other).encode(b'{"title": "x"}')["body"]
    response = _raw_push(sub, body, _authorization(vapid, push))
    assert response.status_code == 400
    assert "decrypt" in response.text


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"TTL": None}, 400),
        ({"TTL": "-1"}, 400),
        ({"Content-Encoding": "aesgcm"}, 400),
        ({"Urgency": "urgent"}, 400),
        ({"Topic": "booking 1"}, 400),
        ({"Topic": "x" * 33}, 400),
        ({"Authorization": None}, 401),
    ],
)
def test_malformed_push_requests_are_refused(push, vapid, headers, status):
    sub = push.subscribe("phone")
    base = {"Authorization": _authorization(vapid, push), "Content-Encoding": "aes128gcm"}
    sent = {k: v for k, v in ({**base, "TTL": "60", **headers}).items() if v is not None}
    body = WebPusher(sub).encode(b"{}")["body"]
    response = requests.post(sub["endpoint"], data=body, headers=sent, timeout=5)
    assert response.status_code == status


def test_jwt_expiry_more_than_a_day_ahead_is_unauthorized(push, vapid):
    claims = {**CONTACT, "exp": int(time.time()) + 25 * 3600}
    with pytest.raises(WebPushException) as caught:
        _send(push.subscribe("phone"), key=vapid, claims=claims)
    assert caught.value.response.status_code == 401


def test_expired_subscription_is_gone(push, vapid):
    sub = push.subscribe("phone")
    push.expire(sub)
    with pytest.raises(WebPushException) as caught:
        _send(sub, key=vapid)
    assert caught.value.response.status_code == 410


def test_unknown_endpoint_is_not_found(push, vapid):
    sub = {**push.subscribe("phone"), "endpoint": f"{push.base_url}/push/nobody"}
    with pytest.raises(WebPushException) as caught:
        _send(sub, key=vapid)
    assert caught.value.response.status_code == 404


def test_injected_failures_pass_and_then_pushes_go_through(push, vapid):
    sub = push.subscribe("phone")
    push.fail_next(429)
    push.fail_next(500)
    with pytest.raises(WebPushException) as caught:
        _send(sub, key=vapid)
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"
    with pytest.raises(WebPushException):
        _send(sub, key=vapid)
    assert _send(sub, key=vapid).status_code == 201
    assert push.attempts == [("phone", 429), ("phone", 500), ("phone", 201)]


def test_wait_for_times_out_when_nothing_arrives(push):
    with pytest.raises(TimeoutError):
        push.wait_for(1, timeout=0.05)


def _sms(twilio: TwilioStandIn, **form) -> requests.Response:
    data = {"To": "+447700900123", "From": "+15005550006", "Body": "See you at 10:00", **form}
    auth = (twilio.account_sid, twilio.auth_token)
    return requests.post(twilio.messages_url, data=data, auth=auth, timeout=5)


def test_twilio_accepts_and_records_a_message(twilio):
    response = _sms(twilio)
    assert response.status_code == 201
    resource = response.json()
    assert resource["sid"].startswith("SM")
    assert len(resource["sid"]) == 34
    assert resource["account_sid"] == twilio.account_sid
    assert (resource["to"], resource["from"]) == ("+447700900123", "+15005550006")
    assert (resource["status"], resource["direction"]) == ("queued", "outbound-api")
    assert resource["date_created"].endswith("+0000")
    assert resource["num_segments"] == "1"
    assert resource["uri"].endswith(f"/Messages/{resource['sid']}.json")
    [message] = twilio.wait_for(1, timeout=5)
    assert (message.sid, message.body) == (resource["sid"], "See you at 10:00")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


OTHER_SID = "AC" + "f" * 32
BAD_CREDENTIALS = {  # case -> (Authorization header, URL) for a stand-in
    "wrong token": lambda t: (_basic(t.account_sid, "nope"), t.messages_url),
    "another account": lambda t: (_basic(OTHER_SID, t.auth_token), t.messages_url),
    "sid not in path": lambda t: (
        _basic(t.account_sid, t.auth_token),
        t.messages_url.replace(t.account_sid, OTHER_SID),
    ),
    "no auth": lambda t: (None, t.messages_url),
    "not basic": lambda t: (f"Bearer {t.auth_token}", t.messages_url),
}


@pytest.mark.parametrize("case", BAD_CREDENTIALS)
def test_twilio_refuses_bad_credentials(twilio, case):
    authorization, url = BAD_CREDENTIALS[case](twilio)
    headers = {"Authorization": authorization} if authorization else {}
    form = {"To": "+447700900123", "From": "+15005550006", "Body": "hi"}
    response = requests.post(url, data=form, headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert twilio.messages == []


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"To": "07700 900123"}, 21211),
        ({"To": "+0123456789"}, 21211),
        ({"Body": ""}, 21602),
        ({"From": ""}, 21603),
        ({"To": ""}, 21604),
        ({"From": "not a sender!"}, 21212),
        ({"Body": "x" * 1601}, 21617),
    ],
)
def test_twilio_refuses_bad_messages(twilio, form, code):
    response = _sms(twilio, **form)
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert twilio.messages == []


def test_twilio_refuses_an_unsubscribed_recipient(twilio):
    twilio.unsubscribe("+447700900123")
    response = _sms(twilio)
    assert response.status_code == 400
    assert response.json()["code"] == 21610
    assert _sms(twilio, To="+447700900124").status_code == 201


def test_twilio_injected_failures(twilio):
    twilio.fail_next(503)
    twilio.fail_next(429)
    first, second, third = _sms(twilio), _sms(twilio), _sms(twilio)
    assert (first.status_code, first.json()["code"]) == (503, 20503)
    assert (second.status_code, second.json()["code"]) == (429, 20429)
    assert third.status_code == 201
    assert len(twilio.messages) == 1


def test_segments_count_like_a_carrier():
    assert num_segments("a" * 160) == 1
    assert num_segments("a" * 161) == 2
    assert num_segments("€" * 80) == 1  # extension characters take two septets
    assert num_segments("Café ☕" * 12) == 2  # not GSM-7: UCS-2, 70 per message, 67 per part

"""Passkeys (issue 17), the server's half: the options, adding a passkey and signing in
with one, through the JSON endpoints that static/js/passkeys.js calls.

The browser's half is played by ``Authenticator``: a passkey held in Python (an ES256
key made with ``cryptography``) that answers the server's options exactly as a browser
and platform authenticator do on the wire (attestation "none", CBOR, COSE, a DER
signature over the authenticator data and the client data's hash).
(tests/e2e/test_passkeys_e2e.py does it all again in Chromium with its virtual
authenticator.)"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import struct
from dataclasses import replace

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from models import Passkey, PasskeyChallenge, SignIn
from services.identity import passkeys
from services.ratelimits import LIMITS
from tests.integration.test_sessions import ANDROID_CHROME, CASEY, devices_of
from tests.integration.webpages import csrf_token, parse

BASE_URL = "http://localhost"  # the test client's host
ORIGIN = "http://localhost"
METHODS = "/account/sign-in-methods"


@pytest.fixture
def app_settings() -> dict:
    return {"base_url": BASE_URL}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authenticator:
    """One passkey on one device, as the browser hands its answers to the page."""

    def __init__(self, origin: str = ORIGIN, user_verified: bool = True) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        self.origin = origin
        self.user_verified = user_verified
        self.count = 0  # 0: counts nothing, as synced passkeys do
        self.user_handle: bytes | None = None

    def _client_data(self, kind: str, options: dict) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": options["challenge"], "origin": self.origin}
        ).encode()

    def _auth_data(self, rp_id: str, attested: bytes = b"") -> bytes:
        flags = 0x01 | (0x04 if self.user_verified else 0) | (0x40 if attested else 0)
        rp_hash = hashlib.sha256(rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.count) + attested

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def create(self, options: dict) -> dict:
        """navigator.credentials.create(): a new credential, attestation "none"."""
        self.user_handle = unb64url(options["user"]["id"])
        attested = (
            bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id
        ) + self._cose_key()
        auth_data = self._auth_data(options["rp"]["id"], attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create", options)),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(self, options: dict) -> dict:
        """navigator.credentials.get(): an assertion signed with the passkey's key."""
        client_data = self._client_data("webauthn.get", options)
        auth_data = self._auth_data(options["rpId"])
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle or b""),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }


class Browser:
    """A test client that calls the passkey endpoints as static/js/passkeys.js does."""

    def __init__(self, client) -> None:
        self.client = client
        self.token = csrf_token(client.get("/privacy"))

    def post(self, path: str, body: dict | None = None):
        return self.client.post(path, json=body or {}, headers={"X-CSRFToken": self.token})

    def add(self, authenticator: Authenticator, name: str | None = None):
        options = self.post("/account/passkeys/options")
        assert options.status_code == 200, options.data
        credential = authenticator.create(options.json)
        return self.post("/account/passkeys", {"credential": credential, "name": name})

    def sign_in(self, authenticator: Authenticator, **extra):
        options = self.post("/account/passkeys/sign-in/options")
        assert options.status_code == 200, options.data
        credential = authenticator.get(options.json)
        answer = self.post("/account/passkeys/sign-in", {"credential": credential, **extra})
        if answer.status_code == 200:  # a new session: the page it leads to has a new token
            self.token = csrf_token(self.client.get("/privacy"))
        return answer


@pytest.fixture
def casey(clinic):
    return clinic["customer"]


@pytest.fixture
def device(app):
    return devices_of(app)


@pytest.fixture
def phone(device, signed_in, casey):
    return Browser(signed_in(casey, device(ANDROID_CHROME)))


@pytest.fixture
def stranger(device):
    return Browser(device(ANDROID_CHROME, "198.51.100.9"))


def signed_in_as(client) -> str | None:
    response = client.get("/account/profile")
    if response.status_code != 200:
        return None
    return response.text.split("Signed in as ", 1)[1].split("<", 1)[0].strip()


# Options ---------------------------------------------------------------------------------


def test_adding_asks_for_a_discoverable_verified_passkey_not_one_already_there(phone, casey):
    first = Authenticator()
    assert phone.add(first).status_code == 201
    options = phone.post("/account/passkeys/options")
    assert options.headers["Cache-Control"] == "no-store"
    body = options.json
    assert body["rp"] == {"id": "localhost", "name": "Kairos"}
    assert body["user"]["name"] == CASEY
    assert unb64url(body["user"]["id"]) == first.user_handle  # one handle per account
    assert str(casey.id).encode() not in unb64url(body["user"]["id"])
    assert body["authenticatorSelection"]["residentKey"] == "required"
    assert body["authenticatorSelection"]["userVerification"] == "required"
    assert body["attestation"] == "none"
    assert [c["id"] for c in body["excludeCredentials"]] == [b64url(first.credential_id)]
    assert body["excludeCredentials"][0]["transports"] == ["internal", "hybrid"]
    assert len(unb64url(body["challenge"])) == 32


def test_signing_in_asks_for_any_passkey_of_the_site(stranger):
    body = stranger.post("/account/passkeys/sign-in/options").json
    assert body["rpId"] == "localhost"
    assert body["allowCredentials"] == []
    assert body["userVerification"] == "required"
    challenge = unb64url(body["challenge"])
    row = PasskeyChallenge.get()
    assert row.digest == hashlib.sha256(challenge).hexdigest()  # only its hash is kept
    assert row.purpose == "sign_in"
    assert row.user_id is None


# Adding, then signing in -------------------------------------------------------------------


def test_add_a_passkey_then_sign_in_with_it(phone, stranger, casey, clock):
    authenticator = Authenticator()
    added = phone.add(authenticator)
    assert added.status_code == 201
    assert added.json["redirect"] == METHODS
    passkey = Passkey.get(Passkey.user == casey.id)
    assert passkey.name == "Chrome on Android"  # the device it was added on
    assert bytes(passkey.credential_id) == authenticator.credential_id
    assert passkey.transports == "internal,hybrid"
    page = phone.client.get(METHODS)
    assert "Passkey added: Chrome on Android now signs you in." in page.text
    assert "Chrome on Android" in parse(page).one("ul", class_="sign-in-methods").text

    clock.advance(hours=1)
    answer = stranger.sign_in(authenticator, next="/account/profile")
    assert answer.status_code == 200, answer.json
    assert answer.json == {"redirect": "/account/profile"}
    assert signed_in_as(stranger.client) == CASEY
    sign_in = SignIn.select().where(SignIn.user == casey.id).order_by(SignIn.id.desc()).get()
    assert sign_in.method == "passkey"
    passkey = Passkey.get_by_id(passkey.id)
    assert passkey.last_used_at == clock.now
    assert passkey.sign_count == 0


def test_a_named_passkey_and_a_name_with_control_characters(phone, casey):
    assert phone.add(Authenticator(), "  My   YubiKey ").status_code == 201
    assert Passkey.get(Passkey.user == casey.id).name == "My YubiKey"
    refused = phone.add(Authenticator(), "bad\x00name")
    assert refused.status_code == 422
    assert refused.json["fields"] == {
        "name": "Remove the invisible control characters from the name."
    }
    long = phone.add(Authenticator(), "x" * 81)
    assert long.status_code == 422
    assert Passkey.select().count() == 1


def test_the_same_passkey_twice_is_refused(phone):
    authenticator = Authenticator()
    assert phone.add(authenticator).status_code == 201
    again = phone.add(authenticator)
    assert again.status_code == 422
    assert again.json["fields"] == {"credential": "This passkey is already added."}


def test_a_staff_member_signs_in_with_a_passkey_to_their_workspace(clinic, signed_in, device):
    owner = Browser(signed_in(clinic["owner"], device()))
    authenticator = Authenticator()
    assert owner.add(authenticator).status_code == 201
    elsewhere = Browser(device(address="192.0.2.1"))
    answer = elsewhere.sign_in(authenticator)
    assert answer.status_code == 200
    assert answer.json["redirect"] == "/w/clinic"


def test_remember_me_is_passed_on(phone, stranger, casey):
    authenticator = Authenticator()
    phone.add(authenticator)
    assert stranger.sign_in(authenticator, remember=True).status_code == 200
    made = SignIn.get((SignIn.user == casey.id) & (SignIn.method == "passkey"))
    assert made.remember


# Refusals ------------------------------------------------------------------------------


def test_a_challenge_is_answered_once(phone, stranger):
    authenticator = Authenticator()
    phone.add(authenticator)
    options = stranger.post("/account/passkeys/sign-in/options").json
    credential = authenticator.get(options)
    first = stranger.post("/account/passkeys/sign-in", {"credential": credential})
    assert first.status_code == 200
    replayed = Browser(stranger.client.application.test_client()).post(
        "/account/passkeys/sign-in", {"credential": credential}
    )
    assert replayed.status_code == 422
    assert replayed.json["fields"] == {"credential": "That took too long. Please try again."}


def test_a_challenge_lasts_five_minutes(phone, stranger, clock):
    authenticator = Authenticator()
    phone.add(authenticator)
    options = stranger.post("/account/passkeys/sign-in/options").json
    clock.advance(minutes=5)
    late = stranger.post("/account/passkeys/sign-in", {"credential": authenticator.get(options)})
    assert late.status_code == 422
    assert signed_in_as(stranger.client) is None


def test_a_challenge_is_for_one_purpose_and_one_account(phone, stranger, signed_in, device, clinic):
    authenticator = Authenticator()
    phone.add(authenticator)
    # An adding challenge does not sign anyone in.
    adding = phone.post("/account/passkeys/options").json
    answer = stranger.post(
        "/account/passkeys/sign-in",
        {"credential": authenticator.get({"challenge": adding["challenge"], "rpId": "localhost"})},
    )
    assert answer.status_code == 422
    # Nor does one account's adding challenge add a passkey to another.
    sam = Browser(signed_in(clinic["ana_user"], device()))
    adding = phone.post("/account/passkeys/options").json
    answer = sam.post("/account/passkeys", {"credential": Authenticator().create(adding)})
    assert answer.status_code == 422
    assert Passkey.select().count() == 1


def test_the_user_must_be_verified(phone, stranger):
    unverified = Authenticator(user_verified=False)
    answer = phone.add(unverified)
    assert answer.status_code == 401
    assert Passkey.select().count() == 0
    authenticator = Authenticator()
    phone.add(authenticator)
    authenticator.user_verified = False
    answer = stranger.sign_in(authenticator)
    assert answer.status_code == 401
    assert answer.json["message"] == (
        "That passkey could not be checked. Try again, or sign in another way."
    )
    assert signed_in_as(stranger.client) is None


def test_another_origin_is_refused(phone, stranger):
    assert phone.add(Authenticator(origin="http://localhost:8000")).status_code == 401
    authenticator = Authenticator()
    phone.add(authenticator)
    authenticator.origin = "https://evil.example"
    assert stranger.sign_in(authenticator).status_code == 401


def test_a_forged_signature_is_refused(phone, stranger):
    authenticator = Authenticator()
    phone.add(authenticator)
    authenticator.key = ec.generate_private_key(ec.SECP256R1())  # not the registered key
    assert stranger.sign_in(authenticator).status_code == 401
    assert signed_in_as(stranger.client) is None


def test_the_counter_must_go_up(phone, stranger, casey, caplog):
    authenticator = Authenticator()
    authenticator.count = 1
    phone.add(authenticator)
    authenticator.count = 5
    assert stranger.sign_in(authenticator).status_code == 200
    assert Passkey.get(Passkey.user == casey.id).sign_count == 5
    other = Browser(stranger.client.application.test_client())
    authenticator.count = 5  # a copy of the authenticator, one step behind or level
    with caplog.at_level(logging.WARNING, logger="kairos.passkeys"):
        refused = other.sign_in(authenticator)
    assert refused.status_code == 401
    assert "passkey.counter_went_back" in caplog.text
    assert signed_in_as(other.client) is None
    authenticator.count = 6
    assert other.sign_in(authenticator).status_code == 200
    assert Passkey.get(Passkey.user == casey.id).sign_count == 6
    # One that stops counting (0) is let in; the count kept stays.
    authenticator.count = 0
    assert other.sign_in(authenticator).status_code == 200
    assert Passkey.get(Passkey.user == casey.id).sign_count == 6


def test_a_forged_answer_is_refused_before_its_counter_is_believed(phone, stranger, caplog):
    authenticator = Authenticator()
    authenticator.count = 9
    phone.add(authenticator)
    authenticator.key = ec.generate_private_key(ec.SECP256R1())
    authenticator.count = 3
    with caplog.at_level(logging.INFO, logger="kairos.passkeys"):
        assert stranger.sign_in(authenticator).status_code == 401
    assert "passkey.refused" in caplog.text
    assert "counter_went_back" not in caplog.text


def test_a_removed_passkey_is_not_registered_any_more(phone, stranger, casey):
    authenticator = Authenticator()
    phone.add(authenticator)
    passkey = Passkey.get(Passkey.user == casey.id)
    removed = phone.client.post(
        f"{METHODS}/passkeys/{passkey.id}/remove", data={"csrf_token": phone.token}
    )
    assert removed.status_code == 303
    answer = stranger.sign_in(authenticator)
    assert answer.status_code == 404
    assert answer.json["message"] == (
        "This passkey isn't registered here any more — sign in another way."
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"credential": "not an object"},
        {"credential": {}},
        {"credential": {"id": "x", "rawId": "x", "type": "public-key", "response": {}}},
        {
            "credential": {
                "id": "AA",
                "rawId": "AA",
                "type": "public-key",
                "response": {
                    "clientDataJSON": "!!",
                    "authenticatorData": "AA",
                    "signature": "AA",
                },
            }
        },
    ],
)
def test_nonsense_is_a_422_never_a_500(phone, stranger, body):
    assert stranger.post("/account/passkeys/sign-in", body).status_code == 422
    assert phone.post("/account/passkeys", body).status_code == 422


def test_without_a_csrf_token_nothing_happens(phone):
    answer = phone.client.post("/account/passkeys/options", json={})
    assert answer.status_code == 400
    assert PasskeyChallenge.select().count() == 0


def test_adding_needs_an_account(stranger):
    assert stranger.post("/account/passkeys/options").status_code == 302


def test_tries_from_one_address_are_limited(stranger):
    allowed = LIMITS["passkeys_per_ip"].count
    for _ in range(allowed):
        assert stranger.post("/account/passkeys/sign-in/options").status_code == 200
    refused = stranger.post("/account/passkeys/sign-in/options")
    assert refused.status_code == 429
    assert refused.json["error"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0


# Where passkeys cannot be ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "rp_id"),
    [
        ("http://localhost:5000", "localhost"),
        ("https://book.example.com", "book.example.com"),
        ("https://BOOK.example.com:8443/", "book.example.com"),
        ("http://127.0.0.1:5000", None),
        ("https://[2001:db8::1]", None),
        ("https://192.0.2.10", None),
        ("http://book.example.com", None),  # browsers want HTTPS away from localhost
        ("", None),
    ],
)
def test_the_relying_party_comes_from_base_url(base_url, rp_id):
    rp = passkeys.relying_party(base_url)
    assert (rp.id if rp else None) == rp_id


def test_the_buttons_start_hidden_and_need_a_host_name(app, client, phone):
    sign_in = parse(client.get("/account/sign-in"))
    button = sign_in.one("button", data_passkey_sign_in="")
    assert "hidden" in button.attrs
    assert sign_in.find("script", src="/static/js/passkeys.js") is not None
    email = sign_in.one("input", id="sign-in-email")
    assert email.attrs["autocomplete"] == "username webauthn"
    methods = parse(phone.client.get(METHODS))
    assert "hidden" in methods.one(data_passkey_add="").attrs

    app.config["SETTINGS"] = replace(app.config["SETTINGS"], base_url="http://127.0.0.1:5000")
    assert parse(client.get("/account/sign-in")).find(data_passkey_sign_in="") is None
    assert parse(phone.client.get(METHODS)).find(data_passkey_add="") is None
    assert phone.post("/account/passkeys/options").status_code == 404
    assert client.post("/account/passkeys/sign-in/options", json={}).status_code in (400, 404)


def test_a_passkey_sign_in_needs_no_password_on_the_account(phone, stranger, casey):
    authenticator = Authenticator()
    phone.add(authenticator)
    casey.password_hash = None
    casey.save()
    assert stranger.sign_in(authenticator).status_code == 200
    assert signed_in_as(stranger.client) == CASEY

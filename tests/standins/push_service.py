"""A local Web Push service that speaks the real wire format, for tests.

It does with a push message what a browser vendor's push service (FCM, Mozilla autopush, Apple)
does with one sent by an application server such as pywebpush:

* RFC 8030 (HTTP Web Push): ``POST`` to the subscription's endpoint with ``TTL`` (required),
  ``Urgency`` and ``Topic`` (optional); ``201 Created`` with a ``Location``; ``404`` for an unknown
  subscription and ``410 Gone`` for an expired one; ``413`` above 4096 bytes of body; ``429`` and
  ``5xx`` on overload (injected with :meth:`PushService.fail_next`).
* RFC 8292 (VAPID): ``Authorization: vapid t=<ES256 JWT>, k=<public key>``; ``401`` when it is
  missing or does not verify, ``403`` when ``k`` is not the application server key the
  subscription was made with.
* RFC 8291 (Message Encryption for Web Push, RFC 8188 ``aes128gcm``): the body is decrypted with
  the subscription's private key and auth secret, as the browser would; ``400`` if it cannot be.

:meth:`PushService.subscribe` plays the browser's part and returns what
``PushSubscription.toJSON()`` gives, so the app can store it exactly as it stores a real one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from email.message import Message
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.standins._http import LocalService

MAX_BODY = 4096  # RFC 8030 §7.2: services accept at least 4096 bytes and may refuse more with 413
MAX_JWT_LIFETIME = 24 * 60 * 60  # RFC 8292 §2: "exp" no further than 24 hours ahead
URGENCIES = frozenset({"very-low", "low", "normal", "high"})  # RFC 8030 §5.3
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")  # RFC 8030 §5.4: base64url alphabet, at most 32
TTL = re.compile(r"[0-9]+")


def b64url_encode(raw: bytes) -> str:
    """Unpadded base64url, as Web Push keys and JWT parts are written."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Delivery:
    """One push message the service accepted, decrypted as the browser's service worker sees it."""

    name: str
    token: str
    ttl: int
    urgency: str | None
    topic: str | None
    payload: bytes
    claims: dict[str, Any]  # the verified VAPID JWT claims: aud, exp, sub

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class _Subscription:
    name: str
    token: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: bytes | None
    gone: bool = False


class _Reject(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class PushService(LocalService):
    """A push service on ``http://127.0.0.1:<free port>``; use as a context manager.

    ``application_server_key`` (unpadded base64url of the uncompressed P-256 point) is the key
    pages pass to ``pushManager.subscribe()``; when given, a push signed with another key gets 403.
    """

    def __init__(self, application_server_key: str | None = None) -> None:
        super().__init__()
        self.application_server_key = application_server_key
        self.origin = self.base_url  # the JWT "aud" must be this
        self._subscriptions: dict[str, _Subscription] = {}
        self._deliveries: list[Delivery] = []
        self._attempts: list[tuple[str, int]] = []
        self._failures: list[int] = []
        self._redirects: list[str] = []

    def subscribe(self, name: str, application_server_key: str | None = None) -> dict[str, Any]:
        """Play the browser: make a P-256 key pair and auth secret, return ``toJSON()`` of it.

        ``application_server_key`` defaults to the service's; ``name`` labels the deliveries.
        """
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth_secret = secrets.token_bytes(16)
        token = secrets.token_urlsafe(16)
        server_key = application_server_key or self.application_server_key
        subscription = _Subscription(
            name, token, private_key, auth_secret, b64url_decode(server_key) if server_key else None
        )
        with self._changed:
            self._subscriptions[token] = subscription
        public_point = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{self.base_url}/push/{token}",
            "expirationTime": None,
            "keys": {"p256dh": b64url_encode(public_point), "auth": b64url_encode(auth_secret)},
        }

    def expire(self, subscription: dict[str, Any]) -> None:
        """The user unsubscribed or the browser dropped it: its endpoint answers 410 from now on."""
        token = subscription["endpoint"].rsplit("/", 1)[-1]
        with self._changed:
            self._subscriptions[token].gone = True

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` pushes with ``status`` (429 and 503 carry ``Retry-After``)."""
        with self._changed:
            self._failures.extend([status] * times)

    def redirect_next(self, location: str) -> None:
        """Answer the next push with ``307`` to ``location``: no real push service does, and
        an application server must not follow it (it would post where the service says)."""
        with self._changed:
            self._redirects.append(location)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._changed:
            return list(self._deliveries)

    @property
    def attempts(self) -> list[tuple[str, int]]:
        """Every push received, accepted or not, as (subscription name or token, status)."""
        with self._changed:
            return list(self._attempts)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """Block until ``count`` pushes were delivered; all deliveries so far, or TimeoutError."""
        return self._wait(self._deliveries, count, timeout, "push deliveries")

    def _answer(self, path: str, headers: Message, body: bytes) -> tuple[int, dict, bytes]:
        status, text, extra = self._receive(path, headers, body)
        return status, {**extra, "Content-Type": "text/plain; charset=utf-8"}, text.encode()

    def _receive(self, path: str, headers: Message, body: bytes) -> tuple[int, str, dict[str, str]]:
        token = path.removeprefix("/push/") if path.startswith("/push/") else path
        with self._changed:
            failure = self._failures.pop(0) if self._failures else None
            redirect = self._redirects.pop(0) if self._redirects else None
            subscription = self._subscriptions.get(token)
        label = subscription.name if subscription else token
        if redirect is not None:
            with self._changed:
                self._attempts.append((label, 307))
            return 307, "", {"Location": redirect}
        try:
            if failure is not None:
                raise _Reject(failure, "injected failure")
            if subscription is None:
                raise _Reject(404, "no such subscription")
            if subscription.gone:
                raise _Reject(410, "push subscription has unsubscribed or expired")
            claims = self._verify_vapid(headers.get("Authorization"), subscription)
            ttl, urgency, topic = _push_headers(headers)
            if len(body) > MAX_BODY:
                raise _Reject(413, f"payload over {MAX_BODY} bytes")
            payload = _decrypt(body, subscription)
        except _Reject as reject:
            with self._changed:
                self._attempts.append((label, reject.status))
            retry = {"Retry-After": "1"} if reject.status in (429, 503) else {}
            return reject.status, reject.reason, retry
        delivery = Delivery(label, token, ttl, urgency, topic, payload, claims)
        with self._changed:
            self._deliveries.append(delivery)
            self._attempts.append((label, 201))
            self._changed.notify_all()
        location = f"{self.base_url}/message/{uuid.uuid4().hex}"
        return 201, "", {"Location": location, "TTL": str(ttl)}

    def _verify_vapid(self, authorization: str | None, subscription: _Subscription) -> dict:
        scheme, _, params = (authorization or "").partition(" ")
        if scheme.lower() != "vapid":
            raise _Reject(401, "Authorization: vapid t=..., k=... required (RFC 8292)")
        fields = {}
        for part in params.split(","):
            key, _, value = part.strip().partition("=")
            fields[key] = value
        try:
            key_bytes = b64url_decode(fields["k"])
            public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key_bytes)
        except (KeyError, ValueError, binascii.Error) as exc:
            raise _Reject(401, "vapid k= is not a P-256 public key") from exc
        claims = _verify_jwt(fields.get("t", ""), public_key)
        expected = subscription.application_server_key
        if expected is not None and key_bytes != expected:
            raise _Reject(403, "vapid key is not the one this subscription was made with")
        now = time.time()
        if claims.get("aud") != self.origin:
            raise _Reject(401, f"JWT aud must be {self.origin}")
        exp = claims.get("exp")
        if not isinstance(exp, int) or not now < exp <= now + MAX_JWT_LIFETIME:
            raise _Reject(401, "JWT exp must be in the future and at most 24 hours ahead")
        contact = claims.get("sub")
        if not isinstance(contact, str) or not contact.startswith(("mailto:", "https:")):
            raise _Reject(401, "JWT sub must be a mailto: or https: contact")
        return claims


def _verify_jwt(token: str, public_key: ec.EllipticCurvePublicKey) -> dict:
    """Check an ES256 JWS (RFC 7515, signature as raw r||s) and return its claims."""
    try:
        header_part, claims_part, signature_part = token.split(".")
        header = json.loads(b64url_decode(header_part))
        claims = json.loads(b64url_decode(claims_part))
        signature = b64url_decode(signature_part)
        signed = f"{header_part}.{claims_part}".encode("ascii")
    except (ValueError, binascii.Error) as exc:
        raise _Reject(401, "malformed JWT") from exc
    if not isinstance(header, dict) or header.get("alg") != "ES256" or not isinstance(claims, dict):
        raise _Reject(401, "JWT must be ES256 with a claims object")
    if len(signature) != 64:
        raise _Reject(401, "ES256 signature must be 64 bytes")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise _Reject(401, "JWT signature does not verify") from exc
    return claims


def _push_headers(headers: Message) -> tuple[int, str | None, str | None]:
    if (headers.get("Content-Encoding") or "").lower() != "aes128gcm":
        raise _Reject(400, "Content-Encoding: aes128gcm required (RFC 8291)")
    ttl = headers.get("TTL")
    if ttl is None or not TTL.fullmatch(ttl.strip()):
        raise _Reject(400, "TTL header with a whole number of seconds required (RFC 8030 §5.2)")
    urgency = headers.get("Urgency")
    if urgency is not None and urgency not in URGENCIES:
        raise _Reject(400, "Urgency must be very-low, low, normal or high")
    topic = headers.get("Topic")
    if topic is not None and not TOPIC.fullmatch(topic):
        raise _Reject(400, "Topic must be at most 32 base64url characters")
    return int(ttl), urgency, topic


def _decrypt(body: bytes, subscription: _Subscription) -> bytes:
    try:
        return http_ece.decrypt(
            body,
            private_key=subscription.private_key,
            auth_secret=subscription.auth_secret,
            version="aes128gcm",
        )
    except Exception as exc:  # a bad body surfaces as ECEException, InvalidTag, struct.error...
        raise _Reject(400, "payload does not decrypt for this subscription (RFC 8291)") from exc

"""Which Stripe account a business is paid through, and talking to it.

A business's own keys (entered by its owner in Settings, the secret ones encrypted at
rest) come first; the environment's serve a single-business install and the demo.
Without either, online payment is off for that business.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import stripe

from config import Settings
from models import Organisation

# Webhooks signed longer ago than this are refused: a replayed old request.
SIGNATURE_TOLERANCE = 300

_settings = Settings()


def configure(settings: Settings) -> None:
    """The environment's keys and where Stripe is; called when the app or worker starts."""
    global _settings
    _settings = settings


@dataclass(frozen=True)
class Account:
    """The Stripe account one business is paid through."""

    secret_key: str
    publishable_key: str
    webhook_secret: str
    own: bool  # the business's own keys, not the environment's

    @property
    def fingerprint(self) -> str:
        """Names the account without its secret (kept with each payment): the publishable
        key's digest, which rolling the secret key leaves as it is."""
        return hashlib.sha256(self.publishable_key.encode()).hexdigest()[:32]

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            self.secret_key,
            base_addresses={"api": _settings.stripe_api_base},
            max_network_retries=2,
        )


def account_for(org: Organisation) -> Account | None:
    """The account ``org`` is paid through, or None: nothing is paid online there."""
    if org.stripe_secret_key and org.stripe_publishable_key:
        return Account(
            org.stripe_secret_key, org.stripe_publishable_key, org.stripe_webhook_secret or "", True
        )
    return _environment()


def account_of(payment) -> Account:
    """The account ``payment`` went through: the business's current one, or the
    environment's, whichever it was; AccountGone if the keys for it were replaced."""
    for account in (account_for(payment.organisation), _environment()):
        if account is not None and payment.account in (None, account.fingerprint):
            return account
    raise AccountGone(
        "This payment was taken through a Stripe account whose keys have since been"
        " replaced: refund it from that account's Stripe dashboard."
    )


class AccountGone(Exception):
    pass


def _environment() -> Account | None:
    if _settings.stripe_secret_key and _settings.stripe_publishable_key:
        return Account(
            _settings.stripe_secret_key,
            _settings.stripe_publishable_key,
            _settings.stripe_webhook_secret,
            False,
        )
    return None


def js_url() -> str:
    return _settings.stripe_js_url


def hold_minutes() -> int:
    return _settings.payment_hold_minutes


class BadSignature(Exception):
    pass


def verify(payload: bytes, header: str, secrets: list[str], now: float | None = None) -> dict:
    """The event in ``payload`` if ``header`` (Stripe-Signature: ``t=…,v1=…``) signs it
    with one of ``secrets`` within the tolerance; else BadSignature."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        signed_at = int(parts["t"][0])
    except (KeyError, ValueError) as exc:
        raise BadSignature("no timestamp") from exc
    if abs((now if now is not None else time.time()) - signed_at) > SIGNATURE_TOLERANCE:
        raise BadSignature("too old")
    signed = str(signed_at).encode() + b"." + payload
    expected = [
        hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        for secret in secrets
        if secret
    ]
    if not any(hmac.compare_digest(want, got) for want in expected for got in parts.get("v1", [])):
        raise BadSignature("no matching signature")
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # junk, or nested past the parser's depth
        raise BadSignature("not JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise BadSignature("not an event")
    return event


def env_webhook_secret() -> str:
    return _settings.stripe_webhook_secret


def plain(obj) -> dict:
    """A Stripe object as plain dicts and lists, as webhook events already are."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj

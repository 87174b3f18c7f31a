"""localstripe (from PyPI), the stateful Stripe stand-in the payment tests talk to: its
REST API for the server, its Stripe.js (/js.stripe.com/v3/) for the browser, and its
signed webhooks. One process per test process, started with --from-scratch."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message

import requests

from tests.server import free_port
from tests.standins._http import LocalService

SECRET_KEY = "sk_test_kairos"
PUBLISHABLE_KEY = "pk_test_kairos"
WEBHOOK_SECRET = "whsec_kairos_test"

# localstripe's test cards (numbers Stripe documents for the same cases).
CARD_OK = "4242424242424242"
CARD_3DS = "4000002500003155"  # asks for 3-D Secure
CARD_DECLINED = "4000000000000341"  # declined when charged


@dataclass
class LocalStripe:
    base_url: str
    process: subprocess.Popen

    @property
    def js_url(self) -> str:
        return f"{self.base_url}/js.stripe.com/v3/"

    def settings(self) -> dict[str, str]:
        """The environment the app needs to use it (as in the README's table)."""
        return {
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.base_url,
            "STRIPE_JS_URL": self.js_url,
        }

    def send_webhooks_to(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        """localstripe signs every event with ``secret`` and posts it to ``url`` (one
        registration, replaced by the next)."""
        requests.post(
            f"{self.base_url}/_config/webhooks/kairos",
            data={"url": url, "secret": secret},
            timeout=5,
        ).raise_for_status()

    def api(self, method: str, path: str, **data) -> dict:
        """Stripe's REST API, as a customer's browser or Stripe itself would use it."""
        asks = method == "GET"  # a GET's parameters go in its query string, as Stripe reads them
        response = requests.request(
            method,
            f"{self.base_url}{path}",
            params=data if asks else None,
            data=None if asks else data or None,
            auth=(SECRET_KEY, ""),
            timeout=5,
        )
        response.raise_for_status()
        return response.json()

    def card_token(self, number: str = CARD_OK) -> str:
        """What Stripe.js's createToken gives the browser for a card (sent with the
        publishable key, as the browser does)."""
        response = requests.post(
            f"{self.base_url}/v1/tokens",
            data={
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2031",
                "card[cvc]": "123",
                "key": PUBLISHABLE_KEY,
            },
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["id"]

    def authenticate(self, intent_id: str, client_secret: str, success: bool) -> dict:
        """The customer completes (or fails) 3-D Secure, as localstripe's Stripe.js does."""
        response = requests.post(
            f"{self.base_url}/v1/payment_intents/{intent_id}/_authenticate",
            params={"success": "true" if success else "false"},
            json={"key": PUBLISHABLE_KEY, "client_secret": client_secret},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()


@contextmanager
def localstripe() -> Iterator[LocalStripe]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{base}/js.stripe.com/v3/", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.1)
        yield LocalStripe(base, process)
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Delivery:
    body: bytes
    signature: str


@dataclass
class WebhookInbox(LocalService):
    """Where localstripe delivers its webhooks in tests that drive the app through
    Flask's test client: the signed deliveries, as they came, to be handed on."""

    deliveries: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        LocalService.__init__(self)

    def _answer(self, path: str, headers: Message, body: bytes) -> tuple[int, dict, bytes]:
        with self._changed:
            self.deliveries.append(Delivery(body, headers.get("Stripe-Signature", "")))
            self._changed.notify_all()
        return 200, {}, b""

    def wait(self, count: int, timeout: float = 10) -> list[Delivery]:
        return self._wait(self.deliveries, count, timeout, "webhook deliveries")

    def of_type(self, kind: str, about: str | None = None) -> list[Delivery]:
        """Deliveries of events of ``kind``, about the object ``about`` if given (events
        of earlier tests may still arrive: localstripe sends each a second late)."""
        found = []
        for delivery in list(self.deliveries):
            event = json.loads(delivery.body)
            subject = event.get("data", {}).get("object", {}).get("id")
            if event.get("type") == kind and about in (None, subject):
                found.append(delivery)
        return found

    def wait_for(self, kind: str, about: str | None = None, timeout: float = 10) -> Delivery:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of_type(kind, about)
            if found:
                return found[-1]
            with self._changed:
                self._changed.wait(0.1)
        raise TimeoutError(f"no {kind} webhook in {timeout}s")

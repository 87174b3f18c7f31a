"""Web push: the VAPID key, the devices people subscribe, and sending to them.

A browser subscribes with our public key (the ``applicationServerKey``) and gives us its
push service's endpoint and the keys to encrypt for it; pywebpush encrypts (aes128gcm)
and signs (VAPID) each message. A push service answering 404 or 410 means the device
unsubscribed: its row goes. Only the known push services' hosts are ever posted to
(plus PUSH_ALLOW_HOSTS, for tests' local push service), and nothing a push service
answers beyond its status code is kept.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from peewee import IntegrityError
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from config import INSTANCE, Settings
from models import PushSubscription, db
from services.addresses import named_in, web_address
from services.errors import DeviceTaken, Invalid, NotFound

log = logging.getLogger("kairos.push")

TIMEOUT = 10  # seconds
KEY_FILE = "vapid_private.pem"
# A subscription must point at a known push service, in every mode, so the worker never
# posts to an address a user made up (an internal host, say). A name matches itself and
# its subdomains (Windows hands out names like wns2-par02p.notify.windows.com).
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, most Chromium browsers
    "updates.push.services.mozilla.com",  # Firefox
    "web.push.apple.com",  # Safari
    "notify.windows.com",  # Edge on Windows
)


class PushError(Exception):
    def __init__(self, message: str, *, permanent: bool, gone: bool = False) -> None:
        super().__init__(message)
        self.permanent, self.gone = permanent, gone


@dataclass(frozen=True)
class Vapid:
    key: Vapid02
    subject: str

    @property
    def public_key(self) -> str:
        """The applicationServerKey: the uncompressed P-256 point, base64url."""
        raw = self.key.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def vapid(settings: Settings, instance: Path = INSTANCE) -> Vapid:
    """The key from VAPID_PRIVATE_KEY, else the one generated once into instance/."""
    if settings.vapid_private_key:
        text = settings.vapid_private_key.strip()
        key = Vapid02.from_pem(text.encode()) if "BEGIN" in text else Vapid02.from_string(text)
    else:
        path = instance / KEY_FILE
        if not path.exists():
            instance.mkdir(parents=True, exist_ok=True)
            fresh = Vapid02()
            fresh.generate_keys()
            # Written under a name of its own, then linked into place: if several
            # processes start at once, the first link wins and all load that one key.
            partial = instance / f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            partial.write_bytes(fresh.private_pem())
            partial.chmod(0o600)
            with contextlib.suppress(FileExistsError):
                os.link(partial, path)
            partial.unlink()
        key = Vapid02.from_file(str(path))
    subject = settings.vapid_subject or f"mailto:{parseaddr(settings.mail_from)[1]}"
    return Vapid(key, subject)


def send(
    device: PushSubscription,
    payload: str,
    keys: Vapid,
    *,
    ttl: int,
    urgency: str,
    topic: str,
    allow_hosts: Iterable[str] = (),
) -> None:
    """Encrypt and post one message; PushError says whether trying again can help.

    The endpoint is checked again here, whatever was accepted when it was saved. What
    the push service answers is logged, never kept: the row records its status code in
    our words, as that is what staff see in a booking's delivery log."""
    if not allowed(device.endpoint, allow_hosts):
        raise PushError("The device's address is not a known push service.", permanent=True)
    try:
        with _NoRedirects() as session:
            webpush(
                subscription_info=device.info(),
                data=payload,
                vapid_private_key=keys.key,
                vapid_claims={"sub": keys.subject},
                ttl=ttl,
                headers={"Urgency": urgency, "Topic": topic},
                timeout=TIMEOUT,
                requests_session=session,
            )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        log.info("push.refused subscription_id=%s status=%s", device.id, status)
        if status in (404, 410):
            raise PushError(
                f"The push service answered {status}: the device unsubscribed.",
                permanent=True,
                gone=True,
            ) from exc
        # 400 malformed, 413 too large: this message can never go; nor can one sent
        # elsewhere (3xx). 401/403 are our key, 429 and 5xx the service's state: those
        # can recover.
        permanent = status in (400, 413) or (status is not None and 300 <= status < 400)
        raise PushError(f"The push service answered {status}.", permanent=permanent) from exc
    except requests.RequestException as exc:
        log.info("push.unreachable subscription_id=%s error=%s", device.id, type(exc).__name__)
        raise PushError(
            f"The push service could not be reached ({type(exc).__name__}).", permanent=False
        ) from exc


class _NoRedirects(requests.Session):
    """A push service answers where it was asked: a redirect is not followed."""

    def request(self, *args, **kwargs):  # type: ignore[override]
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


def allowed(endpoint: str, allow_hosts: Iterable[str] = ()) -> bool:
    """Whether web push may post to ``endpoint``: https on a known push service (its
    usual port), or http or https on any port of a host in ``allow_hosts``
    (PUSH_ALLOW_HOSTS, for a local push service in tests)."""
    address = web_address(endpoint)
    if address is None:
        return False
    host, port = address.host, address.port
    if named_in(host, allow_hosts):
        return True
    known = any(host == h or host.endswith("." + h) for h in PUSH_SERVICE_HOSTS)
    return known and address.url.scheme == "https" and port in (None, 443)


# --- devices -------------------------------------------------------------------------


def subscribe(
    user_id: int, info: dict, label: str, now: datetime, *, allow_hosts: Iterable[str] = ()
) -> PushSubscription:
    """Keep the device a browser subscribed; the same endpoint again from the same person
    is the same device. A device belongs to whoever added it until they remove it (or
    the push service says it is gone): someone else sending its endpoint is refused."""
    endpoint, keys = _clean(info, allow_hosts)
    fields = {
        "user": user_id,
        "p256dh": keys["p256dh"],
        "auth": keys["auth"],
        "label": label[:120],
    }
    with db.atomic():
        found = PushSubscription.get_or_none(PushSubscription.endpoint == endpoint)
        if found is None:
            try:
                with db.atomic():
                    return PushSubscription.create(endpoint=endpoint, created_at=now, **fields)
            except IntegrityError:  # the same device, subscribed twice at once
                found = PushSubscription.get(PushSubscription.endpoint == endpoint)
        if found.user_id != user_id:
            raise DeviceTaken(
                "This device already gets notifications for another account. To get yours"
                " here, sign in to that account and remove the device under Notifications."
            )
        PushSubscription.update(**fields).where(PushSubscription.id == found.id).execute()
        return PushSubscription.get_by_id(found.id)


def _clean(info: object, allow_hosts: Iterable[str]) -> tuple[str, dict]:
    problem = Invalid({"subscription": "This browser gave an unusable push subscription."})
    if not isinstance(info, dict) or not isinstance(info.get("keys"), dict):
        raise problem
    endpoint, keys = info.get("endpoint"), info["keys"]
    if not isinstance(endpoint, str) or len(endpoint) > 1000:
        raise problem
    for name in ("p256dh", "auth"):
        if not isinstance(keys.get(name), str) or not 0 < len(keys[name]) <= 200:
            raise problem
    if not allowed(endpoint, allow_hosts):
        raise Invalid(
            {
                "subscription": "This browser's push service is not one Kairos can send to."
                " Notifications by email still reach you."
            }
        )
    return endpoint, keys


def devices(user_id: int) -> list[PushSubscription]:
    return list(
        PushSubscription.select()
        .where(PushSubscription.user == user_id)
        .order_by(PushSubscription.created_at.desc())
    )


def remove(user_id: int, device_id: int) -> None:
    gone = (
        PushSubscription.delete()
        .where((PushSubscription.id == device_id) & (PushSubscription.user == user_id))
        .execute()
    )
    if not gone:
        raise NotFound("No such device.")


def forget(device_id: int) -> None:
    """The push service says the device is gone."""
    PushSubscription.delete().where(PushSubscription.id == device_id).execute()
    log.info("push.device_gone subscription_id=%s", device_id)

"""Web push: the VAPID key, the devices people subscribe, and sending to them.

A browser subscribes with our public key (the ``applicationServerKey``) and gives us its
push service's endpoint and the keys to encrypt for it; pywebpush encrypts (aes128gcm)
and signs (VAPID) each message. A push service answering 404 or 410 means the device
unsubscribed: its row goes.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from peewee import IntegrityError
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from config import INSTANCE, Settings
from models import PushSubscription, db
from services.errors import Invalid, NotFound

log = logging.getLogger("kairos.push")

TIMEOUT = 10  # seconds
KEY_FILE = "vapid_private.pem"
# In production a subscription must point at a known push service, so the worker never
# posts to an address a user made up (an internal host, say).
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "web.push.apple.com",
    "notify.windows.com",
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
) -> None:
    """Encrypt and post one message; PushError says whether trying again can help."""
    try:
        webpush(
            subscription_info=device.info(),
            data=payload,
            vapid_private_key=keys.key,
            vapid_claims={"sub": keys.subject},
            ttl=ttl,
            headers={"Urgency": urgency, "Topic": topic},
            timeout=TIMEOUT,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            raise PushError(
                f"Push service {status}: the device unsubscribed.", permanent=True, gone=True
            ) from exc
        # 400 malformed, 413 too large: this message can never go. 401/403 are our key,
        # 429 and 5xx the service's state: those can recover.
        permanent = status in (400, 413)
        raise PushError(f"Push service {status}: {exc.message[:200]}", permanent=permanent) from exc
    except requests.RequestException as exc:
        raise PushError(f"Push service unreachable: {exc}", permanent=False) from exc


# --- devices -------------------------------------------------------------------------


def subscribe(
    user_id: int, info: dict, label: str, now: datetime, *, production: bool
) -> PushSubscription:
    """Keep the device a browser subscribed; the same endpoint again is the same device
    (a new sign-in on it moves it to this person)."""
    endpoint, keys = _clean(info, production)
    fields = {
        "user": user_id,
        "p256dh": keys["p256dh"],
        "auth": keys["auth"],
        "label": label[:120],
    }
    with db.atomic():
        found = PushSubscription.get_or_none(PushSubscription.endpoint == endpoint)
        if found is not None:
            PushSubscription.update(**fields).where(PushSubscription.id == found.id).execute()
            return PushSubscription.get_by_id(found.id)
        try:
            with db.atomic():
                return PushSubscription.create(endpoint=endpoint, created_at=now, **fields)
        except IntegrityError:  # the same device, subscribed twice at once
            return PushSubscription.get(PushSubscription.endpoint == endpoint)


def _clean(info: object, production: bool) -> tuple[str, dict]:
    problem = Invalid({"subscription": "This browser gave an unusable push subscription."})
    if not isinstance(info, dict) or not isinstance(info.get("keys"), dict):
        raise problem
    endpoint, keys = info.get("endpoint"), info["keys"]
    if not isinstance(endpoint, str) or len(endpoint) > 1000:
        raise problem
    for name in ("p256dh", "auth"):
        if not isinstance(keys.get(name), str) or not 0 < len(keys[name]) <= 200:
            raise problem
    url = urlsplit(endpoint)
    if url.scheme not in ("https", "http") or not url.hostname:
        raise problem
    if production:
        host = url.hostname
        known = any(host == h or host.endswith("." + h) for h in PUSH_SERVICE_HOSTS)
        if url.scheme != "https" or not known:
            raise problem
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


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("Linux", "Linux"),
)


def describe(user_agent: str) -> str:
    """'Chrome on Android': enough for a person to tell their devices apart."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "A browser")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return f"{browser} on {system}" if system else browser

"""A business's own Stripe account: the keys its owner enters in Settings → Payments.

The keys are checked for their shape (Stripe's prefixes; a test key never paired with
a live one) and kept on the organisation, the secret key and the webhook's signing
secret encrypted at rest (models/encrypted.py). They are never shown again: the page
says when they were saved and by whom, from the audit log, which records each connect,
replace and disconnect but never a key.

gateway.account_for decides which account a business is paid through (its own, else
the environment's); this module only changes what it reads. Keys are not changed while
a booking waits for its online payment: that payment's intent lives in the account in
use now, and the new keys could neither confirm nor cancel it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from models import AuditEntry, Booking, BookingStatus, Organisation, db
from services import audit
from services.errors import Invalid, NotChangeable
from services.payments import gateway
from services.validation import check_all

log = logging.getLogger("kairos.payments")

_BODY = r"[A-Za-z0-9_]{4,240}"
PUBLISHABLE = re.compile(rf"pk_(test|live)_{_BODY}")
SECRET = re.compile(rf"(?:sk|rk)_(test|live)_{_BODY}")
WEBHOOK = re.compile(rf"whsec_{_BODY}")
SAVED = ("settings.payments_connected", "settings.payments_replaced")


@dataclass(frozen=True)
class Keys:
    publishable_key: str
    secret_key: str
    webhook_secret: str

    @property
    def mode(self) -> str:
        return mode_of(self.publishable_key)


@dataclass(frozen=True)
class Connection:
    """What Settings → Payments says about a business's payments."""

    on: bool  # customers can pay online
    own: bool  # through the business's own keys (else the environment's)
    mode: str  # "test" or "live" ("" when off)
    publishable_key: str  # shortened; it is public anyway (every payment page has it)
    saved_at: datetime | None  # when its own keys were last saved, and by whom
    saved_by: str
    holds: int  # bookings waiting for their online payment now


def mode_of(publishable_key: str) -> str:
    return "live" if publishable_key.startswith("pk_live_") else "test"


def check_keys(publishable: str | None, secret: str | None, webhook: str | None) -> Keys:
    """The three keys as pasted (spaces around them dropped), or Invalid naming each
    one that is not what Stripe gives."""
    publishable_key, secret_key, webhook_secret = check_all(
        lambda: _match(
            publishable,
            "publishable_key",
            PUBLISHABLE,
            "Paste the publishable key: it starts with pk_test_ or pk_live_.",
        ),
        lambda: _match(
            secret,
            "secret_key",
            SECRET,
            "Paste the secret key: it starts with sk_test_ or sk_live_ (or rk_ for a"
            " restricted key).",
        ),
        lambda: _match(
            webhook,
            "webhook_secret",
            WEBHOOK,
            "Paste the webhook's signing secret: it starts with whsec_.",
        ),
    )
    keys = Keys(publishable_key, secret_key, webhook_secret)
    secret_mode = SECRET.fullmatch(secret_key).group(1)
    if secret_mode != keys.mode:
        raise Invalid(
            {
                "secret_key": f"This is a {secret_mode} key and the publishable key is a"
                f" {keys.mode} key: use both keys from the same mode (test or live)."
            }
        )
    return keys


def _match(value: str | None, field: str, pattern: re.Pattern, rule: str) -> str:
    text = (value or "").strip()
    if not pattern.fullmatch(text):
        raise Invalid({field: rule})
    return text


def connect(
    org: Organisation,
    publishable: str | None,
    secret: str | None,
    webhook: str | None,
    *,
    actor_id: int,
    now: datetime,
) -> Organisation:
    """Save the business's own keys (the first time, or replacing the ones saved)."""
    keys = check_keys(publishable, secret, webhook)
    _check_no_holds(org)
    replacing = bool(org.stripe_secret_key)
    with db.atomic():
        Organisation.update(
            stripe_publishable_key=keys.publishable_key,
            stripe_secret_key=keys.secret_key,
            stripe_webhook_secret=keys.webhook_secret,
        ).where(Organisation.id == org.id).execute()
        audit.record(
            org.id,
            actor_id,
            SAVED[1] if replacing else SAVED[0],
            f"{'Replaced' if replacing else 'Connected'} the Stripe keys ({keys.mode} mode).",
            now,
            detail={"mode": keys.mode, "publishable key ends": keys.publishable_key[-4:]},
        )
    log.info("payments.keys_saved organisation_id=%s mode=%s", org.id, keys.mode)
    return Organisation.get_by_id(org.id)


def disconnect(org: Organisation, *, actor_id: int, now: datetime) -> Organisation:
    """Forget the business's own keys. Payments then run on the environment's keys, if
    this installation has them, or are off."""
    if not (org.stripe_secret_key or org.stripe_publishable_key or org.stripe_webhook_secret):
        return org
    _check_no_holds(org)
    with db.atomic():
        Organisation.update(
            stripe_publishable_key=None, stripe_secret_key=None, stripe_webhook_secret=None
        ).where(Organisation.id == org.id).execute()
        audit.record(
            org.id, actor_id, "settings.payments_disconnected", "Disconnected Stripe.", now
        )
    log.info("payments.keys_removed organisation_id=%s", org.id)
    return Organisation.get_by_id(org.id)


def _check_no_holds(org: Organisation) -> None:
    waiting = open_holds(org)
    if waiting:
        raise NotChangeable(
            f"{waiting} booking{'s are' if waiting != 1 else ' is'} waiting for an online"
            " payment. Try again in a few minutes, once it is paid or released."
        )


def open_holds(org: Organisation) -> int:
    return (
        Booking.select()
        .where((Booking.organisation == org.id) & (Booking.status == BookingStatus.PENDING_PAYMENT))
        .count()
    )


def connection(org: Organisation) -> Connection:
    """Whether ``org`` takes payments online, through whose keys, and when its own keys
    were saved (by whom)."""
    account = gateway.account_for(org)
    saved = None
    if account is not None and account.own:
        saved = (
            AuditEntry.select(AuditEntry.actor_name, AuditEntry.created_at)
            .where((AuditEntry.organisation == org.id) & AuditEntry.action.in_(SAVED))
            .order_by(AuditEntry.id.desc())
            .first()
        )
    key = account.publishable_key if account else ""
    return Connection(
        on=account is not None,
        own=bool(account and account.own),
        mode=mode_of(key) if account else "",
        publishable_key=f"{key[:8]}…{key[-4:]}" if key else "",
        saved_at=saved.created_at if saved else None,
        saved_by=saved.actor_name if saved else "",
        holds=open_holds(org),
    )

"""Signing in with a code texted to a phone number (issue 17).

A number (E.164, cleaned with ``phonenumbers``) gets a six-digit code by text: good for
ten minutes, once, and for at most five tries, stored as a salted SHA-256
(models.PhoneCode; a new code for the number replaces the old one). Every number gets
a code, whether or not an account has it, so asking tells nobody anything; only the
code, once given back, says whose the number is. A proven number signs in to the
account whose identity it is (models.Identity, provider "phone"); a number nobody has
proven yet makes a new customer account. A number typed on a profile (User.phone) was
never proven, so it signs nobody in.

Sending is synchronous, with the SMS backend's timeout: the person is waiting for the
text. Twilio's refusals become plain words: a number that cannot get texts, or one
that replied STOP, is the number's problem (Invalid on ``phone``); anything else is
Twilio's or ours, and passes (TextNotSent, 503).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from peewee import IntegrityError

from models import Identity, NotificationPrefs, PhoneCode, User, db
from services import codes
from services.errors import DomainError, Invalid
from services.notifications.sms import SmsBackend, SmsError
from services.ratelimits import TryLater
from services.validation import DEFAULT_REGION, clean_name, clean_phone, phone_for_display

log = logging.getLogger("kairos.identity.phone")

LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
CODE_DIGITS = codes.DIGITS
# How long a proven new number may wait for its name before proving it again.
PROVEN_FOR = timedelta(minutes=30)

UNSUBSCRIBED = 21610  # Twilio's error code (twilio.com/docs/api/errors): the person replied STOP
NO_TEXTS = "We can't send texts to this number. Check it, or use a mobile number."
STOPPED = (
    "This number has asked us to stop texting it (it replied STOP). "
    "Text START to us from it, or use another way to sign in."
)


class CodeDead(DomainError):
    """No code for the number works any more: expired, used, or tried five times."""

    code = "code_expired"

    def __init__(self) -> None:
        super().__init__(
            "This code has expired or has been used up. Send a new code and use that one."
        )


class WrongCode(Invalid):
    """Not the code: ``left`` tries remain for it (0: send a new one)."""

    def __init__(self, message: str, left: int) -> None:
        super().__init__({"code": message})
        self.left = left


class TextNotSent(TryLater):
    """Twilio could not take the text just now (busy, down, unreachable)."""

    code = "sms_unavailable"
    status = 503

    def __init__(self) -> None:
        super().__init__("We couldn't send a text just now. Try again in a minute.", 60)


class NumberTaken(DomainError):
    """Adding a number that another account has already proven."""

    code = "number_taken"

    def __init__(self) -> None:
        super().__init__(
            "This number already signs in to another Kairos account. "
            "Remove it from that account first, or use another number."
        )


def clean_number(phone: str | None, region: str = DEFAULT_REGION) -> str:
    """The number typed, in E.164; Invalid on ``phone`` when it is none or not one."""
    number = clean_phone(phone, region, possible=True)
    if number is None:
        raise Invalid({"phone": "Enter your mobile number."})
    return number


def _message(code: str, base_url: str) -> str:
    """The text: the code first (it is what a phone shows in its notification), and the
    last line in the WebOTP format, so a browser on the phone can offer it for our site."""
    host = urlsplit(base_url).hostname or ""
    text = f"{code} is your Kairos code. It works for 10 minutes. Don't share it with anyone."
    return f"{text}\n\n@{host} #{code}" if host else text


def send_code(phone: str, now: datetime, *, sms: SmsBackend, base_url: str = "") -> None:
    """Text a new code to ``phone`` (E.164); the number's earlier code stops working.
    The same for every number, with an account or without."""
    made = codes.new_code()
    fresh = {
        PhoneCode.salt: made.salt,
        PhoneCode.code_hash: made.code_hash,
        PhoneCode.tries: 0,
        PhoneCode.created_at: now,
        PhoneCode.expires_at: now + LIFETIME,
        PhoneCode.used_at: None,
    }
    PhoneCode.insert({PhoneCode.phone: phone, PhoneCode.sends: 1, **fresh}).on_conflict(
        conflict_target=[PhoneCode.phone],
        update={**fresh, PhoneCode.sends: PhoneCode.sends + 1},
    ).execute()
    try:
        sms.send(phone, _message(made.code, base_url))
    except SmsError as exc:
        log.info("phone.code_not_sent permanent=%s error=%s", exc.permanent, exc)
        if not exc.permanent:
            raise TextNotSent() from exc
        said = _twilio_code(exc)
        if said == UNSUBSCRIBED:
            raise Invalid({"phone": STOPPED}) from exc
        raise Invalid({"phone": NO_TEXTS}) from exc
    log.info("phone.code_sent")


def _twilio_code(exc: SmsError) -> int | None:
    """Twilio's error code, which services/notifications/sms.py puts in its message."""
    found = re.search(r"\(error (\d+)\)", str(exc))
    return int(found[1]) if found else None


def verify(phone: str, code: str | None, now: datetime) -> None:
    """Use up the number's code if ``code`` is it. A wrong one raises Invalid on
    ``code`` saying how many tries are left; none left, expired or used: CodeDead.
    Call it outside a transaction: every try must count, even those that fail."""
    code = "".join((code or "").split())
    alive = (
        PhoneCode.used_at.is_null() & (PhoneCode.expires_at > now) & (PhoneCode.tries < MAX_TRIES)
    )
    tried = (
        PhoneCode.update(tries=PhoneCode.tries + 1)
        .where((PhoneCode.phone == phone) & alive)
        .execute()
    )
    if not tried:
        raise CodeDead()
    row = PhoneCode.get(PhoneCode.phone == phone)
    if not codes.matches(row.code_hash, row.salt, code):
        left = MAX_TRIES - row.tries
        if not code.isdigit() or len(code) != CODE_DIGITS:
            message = f"Enter the {CODE_DIGITS}-digit code from the text."
        else:
            message = "That code isn't right."
        if left:
            message += f" {left} {'try' if left == 1 else 'tries'} left."
        else:
            message += " It can't be tried again: send a new code."
        raise WrongCode(message, left)
    used = (
        PhoneCode.update(used_at=now)
        .where((PhoneCode.phone == phone) & (PhoneCode.salt == row.salt) & alive)
        .execute()
    )
    if not used:  # the same code, sent twice at once; or a new one meanwhile
        raise CodeDead()
    log.info("phone.code_used")


def account_of(phone: str, now: datetime) -> User | None:
    """The account a proven ``phone`` signs in to (its last use is now), or None."""
    identity = Identity.get_or_none((Identity.provider == "phone") & (Identity.subject == phone))
    if identity is None:
        return None
    Identity.update(last_used_at=now).where(Identity.id == identity.id).execute()
    log.info("phone.sign_in user_id=%s", identity.user_id)
    return User.get_by_id(identity.user_id)


@dataclass(frozen=True)
class NewAccount:
    user: User
    created: bool  # False: the number got an account meanwhile (another tab), this one


def create_account(phone: str, name: str | None, now: datetime) -> NewAccount:
    """A customer account for a proven ``phone`` that has none: the number is its way
    in and its number for texts (which it gets: the person chose the number to be
    reached at). ``name`` None: the number stands for it (the API without one)."""
    name = clean_name(name) if name is not None else phone_for_display(phone)
    try:
        with db.atomic():
            user = User.create(name=name, email=None, phone=phone, created_at=now)
            Identity.create(
                user=user, provider="phone", subject=phone, created_at=now, last_used_at=now
            )
            NotificationPrefs.create(user=user, sms=True)
    except IntegrityError:
        existing = account_of(phone, now)
        if existing is None:
            raise
        return NewAccount(existing, created=False)
    log.info("account.created user_id=%s way=phone", user.id)
    return NewAccount(user, created=True)


def add_to_account(user_id: int, phone: str, now: datetime) -> Identity:
    """A proven ``phone`` becomes a way in to the account (and its number for texts,
    when it has none). NumberTaken when another account has proven it."""
    found = Identity.get_or_none((Identity.provider == "phone") & (Identity.subject == phone))
    if found is not None and found.user_id != user_id:
        raise NumberTaken()
    if found is not None:
        return found
    try:
        with db.atomic():
            identity = Identity.create(
                user=user_id, provider="phone", subject=phone, created_at=now
            )
            User.update(phone=phone).where((User.id == user_id) & User.phone.is_null()).execute()
    except IntegrityError:  # proven by another account at the same moment
        raise NumberTaken() from None
    log.info("phone.added user_id=%s identity_id=%s", user_id, identity.id)
    return identity


def purge(now: datetime) -> int:
    """Forget codes a day after they expired (used or not): a row names a number."""
    return PhoneCode.delete().where(PhoneCode.expires_at < now - timedelta(days=1)).execute()

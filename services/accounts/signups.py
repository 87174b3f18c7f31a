"""A sign-up waits for the six-digit code emailed to its address.

The account (or the business and its owner) is created only when the code comes back,
so the form answers the same whether or not the address already has an account: for
one that has, its holder gets an email saying so (with a sign-in link) instead of a
code, and no code can finish that sign-up. Both paths hash the password and send one
email, so they take as long as each other too.

A code works within 30 minutes, for at most five tries; asking for a new one starts
again, at most five times per sign-up.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from models import PendingSignUp
from services import codes
from services import mail as mailer
from services.errors import DomainError, Invalid

log = logging.getLogger("kairos.signups")

LIFETIME = timedelta(minutes=30)
MAX_TRIES = 5
MAX_SENDS = 5
CODE_DIGITS = codes.DIGITS


class CodeExpired(DomainError):
    """The sign-up is gone: too old, tried too often, or already finished."""

    code = "code_expired"

    def __init__(self) -> None:
        super().__init__("This code has expired. Ask for a new one, or start again.")


def start(
    kind: str,
    email: str,
    details: dict,
    now: datetime,
    *,
    holder: bool,
    tell_holder,
    mail: mailer.MailConfig | None = None,
) -> int:
    """Keep a sign-up of ``kind`` ('customer' or 'business') for ``email`` (already
    cleaned, with ``details`` the cleaned form and its password hash) and email its code;
    or, when the address has an account (``holder``), call ``tell_holder(email, kind)``
    instead.
    Returns the sign-up's id, for the caller to keep in the person's session."""
    code, salt, code_hash = codes.new_code()
    pending = PendingSignUp.create(
        kind=kind,
        email=email,
        details="{}" if holder else json.dumps(details),
        holder=holder,
        salt=salt,
        code_hash=code_hash,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    _send(pending, code, now, tell_holder, mail)
    return pending.id


def _send(pending: PendingSignUp, code: str, now: datetime, tell_holder, mail) -> None:
    if pending.holder:
        tell_holder(pending.email, pending.kind)
        log.info("signup.code_sent signup_id=%s holder=yes", pending.id)
        return
    name = json.loads(pending.details).get("name", "")
    mailer.send(
        pending.email,
        f"{code} is your Kairos code",
        "sign_up_code",
        config=mail,
        now=now,
        name=name,
        code=code,
        valid_for="30 minutes",
        business=pending.kind == "business",
    )
    log.info("signup.code_sent signup_id=%s holder=no", pending.id)


def email_of(pending_id: int | None, now: datetime) -> str | None:
    """The address a sign-up's code went to, while the sign-up can still finish."""
    found = PendingSignUp.get_or_none(
        (PendingSignUp.id == (pending_id or 0))
        & PendingSignUp.used_at.is_null()
        & (PendingSignUp.expires_at > now)
    )
    return found.email if found else None


def resend(
    pending_id: int, now: datetime, *, tell_holder, mail: mailer.MailConfig | None = None
) -> None:
    """A new code (the old one stops working), with a fresh half hour and five tries."""
    code, salt, code_hash = codes.new_code()
    changed = (
        PendingSignUp.update(
            salt=salt,
            code_hash=code_hash,
            tries=0,
            sends=PendingSignUp.sends + 1,
            expires_at=now + LIFETIME,
        )
        .where(
            (PendingSignUp.id == pending_id)
            & PendingSignUp.used_at.is_null()
            & (PendingSignUp.sends < MAX_SENDS)
            & (PendingSignUp.created_at > now - timedelta(days=1))
        )
        .execute()
    )
    if not changed:
        raise CodeExpired()
    _send(PendingSignUp.get_by_id(pending_id), code, now, tell_holder, mail)


def verify(pending_id: int, code: str, now: datetime) -> tuple[str, dict]:
    """Use up the sign-up if ``code`` is its code: returns (email, details) for the caller
    to create the account with. A wrong code raises Invalid on ``code``. Call it outside
    a transaction: every try must count, even those that fail."""
    code = "".join((code or "").split())
    tried = (
        PendingSignUp.update(tries=PendingSignUp.tries + 1)
        .where(
            (PendingSignUp.id == pending_id)
            & PendingSignUp.used_at.is_null()
            & (PendingSignUp.expires_at > now)
            & (PendingSignUp.tries < MAX_TRIES)
        )
        .execute()
    )
    if not tried:
        raise CodeExpired()
    pending = PendingSignUp.get_by_id(pending_id)
    right = codes.matches(pending.code_hash, pending.salt, code)
    if pending.holder or not right:
        left = MAX_TRIES - pending.tries
        if not code.isdigit() or len(code) != CODE_DIGITS:
            message = f"Enter the {CODE_DIGITS}-digit code from the email."
        else:
            message = "That code is not right."
        if left:
            message += f" {left} {'try' if left == 1 else 'tries'} left."
        else:
            message += " Ask for a new code."
        raise Invalid({"code": message})
    used = (
        PendingSignUp.update(used_at=now)
        .where((PendingSignUp.id == pending_id) & PendingSignUp.used_at.is_null())
        .execute()
    )
    if not used:  # the same code, sent twice at once
        raise CodeExpired()
    return pending.email, json.loads(pending.details)


def purge(now: datetime) -> int:
    """Forget sign-ups a day after they expired (their details hold a password hash)."""
    return (
        PendingSignUp.delete().where(PendingSignUp.expires_at < now - timedelta(days=1)).execute()
    )

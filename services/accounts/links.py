"""Single-use links emailed to a user: password reset, magic sign-in, email change.

The token is random and stored only as its SHA-256, so the email holds the only copy.
A link expires after an hour and works once: a conditional UPDATE claims it, so two
clicks on the same link (or two tabs, or a retry) cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from models import AccountToken, User
from services.errors import DomainError

LIFETIME = timedelta(hours=1)
PURPOSES = ("reset", "magic", "email_change")


class LinkInvalid(DomainError):
    """An emailed link that is unknown, already used or expired."""

    code = "link_invalid"

    def __init__(self) -> None:
        super().__init__("This link has expired or was already used.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    user: User,
    purpose: str,
    now: datetime,
    new_email: str | None = None,
    token: str | None = None,
    lifetime: timedelta = LIFETIME,
) -> str:
    """A new token for ``user`` (``token``, or a random one); only its hash is stored."""
    token = token or secrets.token_urlsafe(32)
    AccountToken.create(
        user=user,
        purpose=purpose,
        token_hash=_digest(token),
        new_email=new_email,
        created_at=now,
        expires_at=now + lifetime,
    )
    return token


def _usable(token: str, purpose: str, now: datetime):
    return (
        (AccountToken.token_hash == _digest(token))
        & (AccountToken.purpose == purpose)
        & AccountToken.used_at.is_null()
        & (AccountToken.expires_at > now)
    )


def is_valid(token: str, purpose: str, now: datetime) -> bool:
    """Whether the link would work now, without using it up."""
    return AccountToken.select().where(_usable(token, purpose, now)).exists()


def holder(token: str, purpose: str, now: datetime) -> User | None:
    """Whose link this is, if it would work now."""
    return (
        User.select()
        .join(AccountToken, on=AccountToken.user == User.id)
        .where(_usable(token, purpose, now))
        .first()
    )


def consume(token: str, purpose: str, now: datetime) -> AccountToken:
    """Use the link up. Only one caller ever gets past this for a given token; call it
    inside the transaction that does what the link is for."""
    claimed = AccountToken.update(used_at=now).where(_usable(token, purpose, now)).execute()
    if not claimed:
        raise LinkInvalid()
    return AccountToken.get(AccountToken.token_hash == _digest(token))


def retire(user_id: int, purposes: tuple[str, ...], now: datetime) -> None:
    """Use up the user's other open links, e.g. every reset link once the password changed."""
    AccountToken.update(used_at=now).where(
        (AccountToken.user == user_id)
        & AccountToken.purpose.in_(purposes)
        & AccountToken.used_at.is_null()
    ).execute()


def forget(user_id: int) -> None:
    AccountToken.delete().where(AccountToken.user == user_id).execute()


def purge(now: datetime) -> int:
    """Forget links that expired more than a day ago."""
    return AccountToken.delete().where(AccountToken.expires_at < now - timedelta(days=1)).execute()

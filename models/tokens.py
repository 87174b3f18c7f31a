"""Secrets handed to people: API tokens, idempotency keys, emailed single-use links."""

from __future__ import annotations

from peewee import (
    SQL,
    CharField,
    Check,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.base import BaseModel, UTCDateTimeField, utcnow
from models.business import User


class ApiToken(BaseModel):
    user = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    token_hash = CharField(unique=True, max_length=64)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    revoked_at = UTCDateTimeField(null=True)


class IdempotencyKey(BaseModel):
    """The first response to a request sent with an Idempotency-Key, kept for replays."""

    user = ForeignKeyField(User, on_delete="CASCADE")
    key = CharField(max_length=200)
    request_hash = CharField(max_length=64)
    status_code = IntegerField()
    response_body = TextField()
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "key"), True),)


class AccountToken(BaseModel):
    """A single-use link emailed to a user: password reset, magic sign-in, email change.

    Only the token's SHA-256 is stored; the link in the email is the only copy of it.
    """

    user = ForeignKeyField(User, backref="account_tokens", on_delete="CASCADE")
    purpose = CharField(
        max_length=16, constraints=[Check("purpose IN ('reset', 'magic', 'email_change')")]
    )
    token_hash = CharField(unique=True, max_length=64)
    new_email = CharField(
        null=True, max_length=254, constraints=[Check("new_email = lower(new_email)")]
    )
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    used_at = UTCDateTimeField(null=True)

    class Meta:
        constraints = [SQL("CHECK ((purpose = 'email_change') = (new_email IS NOT NULL))")]
        indexes = ((("user", "purpose"), False),)

"""Sign-ups waiting for the code emailed to their address."""

from __future__ import annotations

from peewee import BooleanField, CharField, Check, IntegerField, TextField

from models.base import BaseModel, UTCDateTimeField, utcnow


class PendingSignUp(BaseModel):
    """What someone typed to sign up (a customer, or a business and its owner), kept until
    the six-digit code sent to ``email`` comes back. The account exists only then, so the
    sign-up form answers the same whether or not the address already has an account:
    for one that has, ``holder`` is set, its owner is emailed instead, and no code works.

    The code is stored as a salted SHA-256; ``details`` holds the password as its argon2
    hash, never as typed. Rows are forgotten a day after they expire."""

    kind = CharField(max_length=16, constraints=[Check("kind IN ('customer', 'business')")])
    email = CharField(max_length=254, constraints=[Check("email = lower(email)")])
    details = TextField()  # JSON: the cleaned form, with password_hash
    holder = BooleanField(default=False)
    salt = CharField(max_length=32)
    code_hash = CharField(max_length=64)
    tries = IntegerField(default=0, constraints=[Check("tries >= 0")])
    sends = IntegerField(default=1, constraints=[Check("sends >= 1")])
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField(index=True)
    used_at = UTCDateTimeField(null=True)

"""Sign-ins: each browser signed in to an account, server-side (services/accounts/sessions.py)."""

from __future__ import annotations

from peewee import BooleanField, CharField, ForeignKeyField

from models.base import BaseModel, UTCDateTimeField, utcnow
from models.business import User


class SignIn(BaseModel):
    """One browser signed in to an account. Its session cookie (and its remember cookie,
    when the person chose to stay signed in) carries a random key; only the key's SHA-256
    is stored. The sign-in lasts until ``expires_at`` or until it is ended (signing out,
    a new password, leaving): then the cookies that carry its key sign nobody in."""

    user = ForeignKeyField(User, backref="sign_ins", on_delete="CASCADE")
    key_hash = CharField(unique=True, max_length=64)
    device = CharField(max_length=80)  # "Chrome on Android", from the User-Agent
    network = CharField(null=True, max_length=64)  # "203.0.113.0/24": where from, roughly
    remember = BooleanField(default=False)  # "keep me signed in": the remember cookie
    created_at = UTCDateTimeField(default=utcnow)
    last_seen_at = UTCDateTimeField(default=utcnow)  # updated every few minutes, not always
    expires_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(null=True)
    # How: "password", "link", "code" (a sign-up's emailed code), "invite", "booking",
    # "google", "apple", "facebook", "phone", "passkey"; None before migration 0023.
    method = CharField(null=True, max_length=16)

    class Meta:
        indexes = ((("user", "ended_at"), False),)

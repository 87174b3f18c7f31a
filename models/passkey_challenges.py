"""The challenges handed to browsers for passkey ceremonies (services/identity/passkeys.py)."""

from __future__ import annotations

from peewee import CharField, Check, ForeignKeyField

from models.base import BaseModel, UTCDateTimeField
from models.business import User


class PasskeyChallenge(BaseModel):
    """A challenge issued for registering a passkey (to ``user``) or for signing in with
    one (to nobody yet), kept as its SHA-256. Answering it deletes the row, so it is good
    once; it is good until ``expires_at`` at the latest."""

    digest = CharField(max_length=64, unique=True)
    purpose = CharField(max_length=16, constraints=[Check("purpose IN ('register', 'sign_in')")])
    user = ForeignKeyField(User, null=True, on_delete="CASCADE")
    expires_at = UTCDateTimeField(index=True)

"""Ways to sign in other than a password and an emailed link (issue 17): an identity at
Google, Apple or Facebook, a phone number that a texted code proved, and passkeys.
Services: services/identity/."""

from __future__ import annotations

from peewee import BlobField, BooleanField, CharField, Check, ForeignKeyField, IntegerField

from models.base import BaseModel, UTCDateTimeField, utcnow
from models.business import User

PROVIDERS = ("google", "apple", "facebook", "phone")


class Identity(BaseModel):
    """An account's identity somewhere else: ``subject`` is the provider's stable id for
    the person (the ID token's ``sub``, Facebook's user id) or, for ``phone``, the E.164
    number that a texted code proved. One identity belongs to one account; an account
    may have several, one per provider and subject."""

    user = ForeignKeyField(User, backref="identities", on_delete="CASCADE")
    provider = CharField(
        max_length=16,
        constraints=[Check("provider IN ('google', 'apple', 'facebook', 'phone')")],
    )
    subject = CharField(max_length=255)
    email = CharField(null=True, max_length=254)  # what the provider said, for the list
    email_verified = BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)
    last_used_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = (
            (("provider", "subject"), True),
            (("user",), False),
        )


class Passkey(BaseModel):
    """A WebAuthn credential registered to an account: its id and public key (COSE),
    the signature counter last seen, and the name of the device it lives on."""

    user = ForeignKeyField(User, backref="passkeys", on_delete="CASCADE")
    credential_id = BlobField(unique=True)
    public_key = BlobField()
    sign_count = IntegerField(default=0, constraints=[Check("sign_count >= 0")])
    transports = CharField(default="", max_length=200)  # comma-separated, as the browser said
    name = CharField(max_length=80)
    created_at = UTCDateTimeField(default=utcnow)
    last_used_at = UTCDateTimeField(null=True)


class PhoneCode(BaseModel):
    """A six-digit code texted to ``phone`` (E.164), stored as a salted SHA-256. It is
    good for ten minutes, once, and for at most five tries; a new code for the number
    replaces the row's code."""

    phone = CharField(max_length=32, unique=True)
    salt = CharField(max_length=32)
    code_hash = CharField(max_length=64)
    tries = IntegerField(default=0, constraints=[Check("tries >= 0")])
    sends = IntegerField(default=1, constraints=[Check("sends >= 1")])
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField(index=True)
    used_at = UTCDateTimeField(null=True)

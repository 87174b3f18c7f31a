"""Secrets at rest: the one way the app keeps what it must read back later (payment
keys, calendar passwords, OAuth tokens), encrypted in the database.

Authenticated encryption with ``cryptography``'s Fernet (AES-128-CBC, with an
HMAC-SHA256 over the whole token): a token that was altered, cut short or made under a
key we no longer hold is refused (``SecretUnreadable``), never decrypted into garbage.

The keys come from KAIROS_ENCRYPTION_KEYS (config.py), newest first. The newest
encrypts; every key decrypts, so keys can be replaced without a moment when stored
secrets are unreadable: put a new key first, deploy, run ``flask --app app
rotate-secrets`` (every stored secret is re-encrypted under the newest key, see
``rotate``), then drop the old key. Models declare such columns as
``models.EncryptedTextField``.

Passwords people sign in with are not kept this way: they are hashed (argon2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_RULE = (
    "each key in KAIROS_ENCRYPTION_KEYS must be 32 random bytes in url-safe base64 (44"
    " characters), e.g. from python -c 'from cryptography.fernet import Fernet;"
    " print(Fernet.generate_key().decode())'"
)


class KeysMissing(RuntimeError):
    """Nothing can be encrypted or decrypted: no keys were configured."""


class SecretUnreadable(Exception):
    """A stored secret that no configured key can read: it was altered, or it was made
    under a key that has since been dropped."""


@dataclass(frozen=True)
class _Keyring:
    every: MultiFernet  # encrypts with the newest key, decrypts with any
    newest: Fernet


_keyring: _Keyring | None = None


def configure(keys: Sequence[str]) -> None:
    """Use ``keys`` (newest first) from now on; with none, encrypting and decrypting
    raise KeysMissing. ValueError (naming no key) when one is not a Fernet key."""
    global _keyring
    if not keys:
        _keyring = None
        return
    try:
        fernets = [Fernet(key) for key in keys]
    except (ValueError, TypeError):
        raise ValueError(KEY_RULE) from None
    _keyring = _Keyring(MultiFernet(fernets), fernets[0])


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _ring() -> _Keyring:
    if _keyring is None:
        raise KeysMissing("No encryption keys: set KAIROS_ENCRYPTION_KEYS.")
    return _keyring


def encrypt(text: str) -> str:
    """``text`` encrypted under the newest key, as ASCII (a Fernet token)."""
    return _ring().every.encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The text behind ``token``; SecretUnreadable if no key reads it."""
    try:
        return _ring().every.decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("A stored secret could not be decrypted with any key.") from None


def is_current(token: str) -> bool:
    """Whether ``token`` is already encrypted under the newest key."""
    try:
        _ring().newest.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """``token`` re-encrypted under the newest key (the same token when it already is);
    SecretUnreadable if no key reads it."""
    if is_current(token):
        return token
    try:
        return _ring().every.rotate(token.encode()).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable("A stored secret could not be decrypted with any key.") from None

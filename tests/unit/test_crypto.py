"""Secrets at rest (services/crypto.py): authenticated encryption under keys from
KAIROS_ENCRYPTION_KEYS, newest first, and replacing a key without losing a secret."""

from __future__ import annotations

import base64
import stat

import pytest
from cryptography.fernet import Fernet

import config
from config import Settings
from services import crypto

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture(autouse=True)
def keyring(monkeypatch):
    """Each test configures its own keys; whatever was configured comes back after."""
    monkeypatch.setattr(crypto, "_keyring", None)


def test_round_trip():
    crypto.configure([NEW])

    for text in ("sk_live_51H…", "", "pässwörd ✓ 日本", "x" * 10_000):
        token = crypto.encrypt(text)
        assert crypto.decrypt(token) == text
        assert text == "" or text not in token


def test_each_encryption_is_different():
    crypto.configure([NEW])

    assert crypto.encrypt("same") != crypto.encrypt("same")


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda raw: flip(raw, 0),  # the version
        lambda raw: flip(raw, 5),  # the timestamp
        lambda raw: flip(raw, 20),  # the IV
        lambda raw: flip(raw, 40),  # the ciphertext
        lambda raw: flip(raw, len(raw) - 1),  # the HMAC
        lambda raw: raw[:-1],  # cut short
        lambda raw: raw + b"\x00",  # extended
        lambda raw: b"",
    ],
    ids=["version", "timestamp", "iv", "ciphertext", "hmac", "cut", "extended", "empty"],
)
def test_a_tampered_token_is_refused(tamper):
    crypto.configure([NEW])
    raw = base64.urlsafe_b64decode(crypto.encrypt("calendar password"))

    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(base64.urlsafe_b64encode(tamper(raw)).decode())


def test_a_token_that_is_not_base64_is_refused():
    crypto.configure([NEW])

    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt("not a token at all!")


def test_a_token_made_under_an_unknown_key_is_refused():
    crypto.configure([OTHER])
    foreign = crypto.encrypt("theirs")
    crypto.configure([NEW, OLD])

    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(foreign)
    with pytest.raises(crypto.SecretUnreadable):
        crypto.rotate(foreign)


def test_rotation_keeps_old_secrets_readable_and_moves_them_to_the_new_key():
    crypto.configure([OLD])
    before = crypto.encrypt("oauth refresh token")

    crypto.configure([NEW, OLD])  # step 1: the new key first, the old one still there
    assert crypto.decrypt(before) == "oauth refresh token"
    assert not crypto.is_current(before)
    fresh = crypto.encrypt("a new secret")
    assert crypto.is_current(fresh)
    assert Fernet(NEW).decrypt(fresh.encode()) == b"a new secret"

    rotated = crypto.rotate(before)  # step 2: rotate-secrets
    assert rotated != before
    assert crypto.is_current(rotated)
    assert crypto.rotate(rotated) == rotated  # already under the newest key: left alone

    crypto.configure([NEW])  # step 3: the old key dropped
    assert crypto.decrypt(rotated) == "oauth refresh token"
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(before)  # what was not rotated is lost: rotate before dropping


def test_without_keys_nothing_is_encrypted_or_decrypted():
    crypto.configure([])

    with pytest.raises(crypto.KeysMissing):
        crypto.encrypt("x")
    with pytest.raises(crypto.KeysMissing):
        crypto.decrypt("gAAAAA")


@pytest.mark.parametrize(
    "bad",
    ["not a key", "c2hvcnQ=", NEW[:-4], NEW.replace("=", "!")],
    ids=["words", "too short", "cut off", "not base64"],  # the same ids in every xdist worker
)
def test_a_malformed_key_is_refused_without_repeating_it(bad):
    with pytest.raises(ValueError, match="32 random bytes") as refused:
        crypto.configure([NEW, bad])

    assert bad not in str(refused.value)


# Settings ---------------------------------------------------------------------------


def test_production_refuses_to_start_without_keys():
    with pytest.raises(RuntimeError, match="KAIROS_ENCRYPTION_KEYS must be set"):
        Settings.from_env({"KAIROS_ENV": "production", "SECRET_KEY": "s"})


def test_keys_are_read_newest_first():
    settings = Settings.from_env(
        {
            "KAIROS_ENV": "production",
            "SECRET_KEY": "s",
            "KAIROS_ENCRYPTION_KEYS": f" {NEW}, {OLD} ,",
        }
    )

    assert settings.encryption_keys == (NEW, OLD)
    assert NEW not in repr(settings)


def test_development_generates_a_key_once(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE", tmp_path)

    first = Settings.from_env({"SECRET_KEY": "s"})
    second = Settings.from_env({"SECRET_KEY": "s"})

    (key,) = first.encryption_keys
    assert second.encryption_keys == (key,)
    assert (tmp_path / "encryption_key").read_text() == key
    assert stat.S_IMODE((tmp_path / "encryption_key").stat().st_mode) == 0o600
    crypto.configure(first.encryption_keys)
    assert crypto.decrypt(crypto.encrypt("dev")) == "dev"

"""Six-digit codes sent to a person (a sign-up's by email, a sign-in's by text): made
here, kept only as a salted SHA-256, and checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import NamedTuple

DIGITS = 6


class NewCode(NamedTuple):
    code: str  # sent, never stored
    salt: str
    code_hash: str


def _digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def new_code() -> NewCode:
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    salt = secrets.token_hex(16)
    return NewCode(code, salt, _digest(salt, code))


def matches(code_hash: str, salt: str, code: str) -> bool:
    return hmac.compare_digest(code_hash, _digest(salt, code))

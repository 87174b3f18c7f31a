"""Replaying the first response to a request that carried an Idempotency-Key.

A key is claimed (a row with status 0) before the work starts, so two requests with
the same key cannot both do it; the response is stored when the work succeeds, and
the claim is dropped when it fails, so that a retry can try again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import IntegrityError

from models import IdempotencyKey, db
from services.errors import IdempotencyConflict, Invalid

PENDING = 0
ABANDONED_AFTER = timedelta(minutes=1)
KEPT_FOR = timedelta(hours=24)


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: str


def request_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def claim(user_id: int, key: str, fingerprint: str, now: datetime) -> Replay | None:
    """Claim ``key`` for this request, or the stored response if it was answered before."""
    if not key or len(key) > 200:
        raise Invalid({"Idempotency-Key": "Use a key of 1 to 200 characters."})
    for _ in range(2):
        try:
            with db.atomic():
                IdempotencyKey.create(
                    user=user_id,
                    key=key,
                    request_hash=fingerprint,
                    status_code=PENDING,
                    response_body="",
                    created_at=now,
                )
            return None
        except IntegrityError:
            row = IdempotencyKey.get_or_none(user=user_id, key=key)
        if row is None:  # released between our insert and our look
            continue
        if row.request_hash != fingerprint:
            raise IdempotencyConflict("This Idempotency-Key was used for a different request.")
        if row.status_code != PENDING:
            return Replay(row.status_code, row.response_body)
        if now - row.created_at < ABANDONED_AFTER:
            raise IdempotencyConflict("A request with this Idempotency-Key is still in progress.")
        release(user_id, key)  # its first try died half-way: let this one have it
    raise IdempotencyConflict("A request with this Idempotency-Key is still in progress.")


def complete(user_id: int, key: str, status_code: int, body: str) -> None:
    IdempotencyKey.update(status_code=status_code, response_body=body).where(
        (IdempotencyKey.user == user_id) & (IdempotencyKey.key == key)
    ).execute()


def release(user_id: int, key: str) -> None:
    IdempotencyKey.delete().where(
        (IdempotencyKey.user == user_id) & (IdempotencyKey.key == key)
    ).execute()


def purge(now: datetime) -> int:
    return IdempotencyKey.delete().where(IdempotencyKey.created_at < now - KEPT_FOR).execute()

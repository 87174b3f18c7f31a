"""Small pieces of the rate limits and the password-hashing pool, without a database."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from services.accounts import auth
from services.ratelimits import Busy, wait_phrase


@pytest.mark.parametrize(
    ("seconds", "phrase"),
    [
        (1, "in 1 second"),
        (30, "in 30 seconds"),
        (60, "in 1 minute"),
        (90, "in 2 minutes"),
        (720, "in 12 minutes"),
        (3600, "in 60 minutes"),
        (5400, "in 2 hours"),
    ],
)
def test_wait_phrase(seconds, phrase):
    assert wait_phrase(seconds) == phrase


def _niceness(thread: threading.Thread) -> int:
    stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])  # field 19 of stat: nice


def test_passwords_are_hashed_on_low_priority_threads_of_their_own():
    hashed = auth.hash_password("a long enough passphrase")
    assert auth._verify(hashed, "a long enough passphrase")
    (pool_thread,) = [t for t in threading.enumerate() if t.name.startswith("argon2")]
    assert pool_thread is not threading.current_thread()
    assert _niceness(pool_thread) == auth.HASH_NICENESS
    assert _niceness(threading.current_thread()) == 0
    assert max(2, os.cpu_count() or 1) > auth.HASH_SLOTS


def test_too_many_waiting_is_busy_not_a_longer_queue():
    held = 0
    while auth._admitted.acquire(blocking=False):
        held += 1
    try:
        assert held == auth.HASH_SLOTS + auth.HASH_WAITING
        with pytest.raises(Busy) as refused:
            auth.hash_password("a long enough passphrase")
    finally:
        for _ in range(held):
            auth._admitted.release()
    assert (refused.value.status, refused.value.retry_after) == (503, 2)

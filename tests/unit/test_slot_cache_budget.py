"""The process's LRU of free slots is bounded by the slots it holds, not by its entries
(services/booking/slot_cache.py): a soak grew each web process without end when 2048
entries of a week's slots each could be kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduling import Slot
from services.booking.slot_cache import _Local

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


def slots(n: int) -> tuple[Slot, ...]:
    return tuple(
        Slot(START + timedelta(minutes=15 * i), START + timedelta(minutes=15 * i + 60), 1)
        for i in range(n)
    )


def test_the_oldest_entries_go_when_the_slots_pass_the_budget():
    cache = _Local(budget=100)
    for key in range(5):
        cache.put(key, slots(30))  # 150 slots asked to be kept
    assert cache.size <= 100
    assert list(cache.entries) == [2, 3, 4]
    assert cache.get(0) is None
    assert cache.get(4) == slots(30)


def test_a_read_entry_is_kept_longest():
    cache = _Local(budget=60)
    cache.put("a", slots(30))
    cache.put("b", slots(30))
    assert cache.get("a") is not None
    cache.put("c", slots(30))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.hits == 2


def test_empty_answers_count_as_one_so_their_number_is_bounded_too():
    cache = _Local(budget=10)
    for key in range(50):
        cache.put(key, ())
    assert len(cache.entries) == 10
    assert cache.get(49) == ()


def test_an_answer_bigger_than_the_budget_is_not_kept_and_evicts_nothing():
    cache = _Local(budget=10)
    cache.put("small", slots(5))
    cache.put("huge", slots(11))
    assert cache.get("huge") is None
    assert cache.get("small") is not None


def test_putting_a_key_again_replaces_its_size():
    cache = _Local(budget=100)
    cache.put("a", slots(40))
    cache.put("a", slots(10))
    assert cache.size == 10

"""Saving hours at the same moment from several places: each save is whole or not at all.

Replacing the week is a delete and inserts; without holding the provider's calendar,
two saves at once on PostgreSQL can each delete only the rows the other had not yet
written, and leave both weeks mixed together.
"""

from __future__ import annotations

import threading
from datetime import time

from models import db
from services.notifications.outbox import Dispatch
from services.workspace import availability as hours
from services.workspace.orphans import Edit
from tests.integration.test_ws_availability import hours_of

THREADS = 8


def test_concurrent_saves_leave_exactly_one_of_the_weeks(world, clock, clinic):
    ana = clinic["ana"]
    weeks = {
        n: {
            day: [hours.TypedInterval(f"d{day}-0", "09:00", f"{12 + n % 6}:00")] for day in range(5)
        }
        for n in range(THREADS)
    }
    start, failures = threading.Barrier(THREADS), []

    def save(n: int) -> None:
        try:
            with db.connection_context():
                start.wait()
                hours.save_week(
                    ana, weeks[n], Edit(world["provider"].id, clock(), dispatch=Dispatch())
                )
        except Exception as exc:  # reported below, with the thread's number
            failures.append((n, exc))

    threads = [threading.Thread(target=save, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    saved = hours_of(ana.id)
    assert sorted(saved) == [0, 1, 2, 3, 4]
    assert all(len(rows) == 1 for rows in saved.values())  # one week, not two mixed
    assert len({rows[0] for rows in saved.values()}) == 1
    assert saved[0][0][0] == time(9)

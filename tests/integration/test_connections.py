"""Requests share pooled connections: a request takes one at its first query and gives it
back when it ends, a new connection is set up once (on SQLite: WAL, a busy timeout and
foreign keys, on every connection), and nothing of a transaction left open goes back to
the pool with it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import jsonify

from models import SQLITE_PRAGMAS, User, db, is_sqlite
from tests import factories


def in_thread(call):
    """``call()`` in a thread of its own (its own peewee connection state), as a
    server's threads run requests; returns what it returned, or raises what it raised."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the request did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_a_request_gives_its_connection_back_for_the_next_to_use(app, client):
    seen = []  # the raw connections themselves: kept alive, so no two can share an id

    def which():
        seen.append(db.connection())
        return jsonify(taken=True)

    app.add_url_rule("/test/which-connection", "which", which)

    statuses = [in_thread(lambda: client.get("/test/which-connection").status_code)]
    statuses += [in_thread(lambda: client.get("/test/which-connection").status_code)]
    statuses += [in_thread(lambda: client.get("/test/which-connection").status_code)]

    assert statuses == [200, 200, 200]
    assert seen[0] is seen[1] is seen[2]


def test_a_request_that_asks_nothing_of_the_database_takes_no_connection(app, client):
    taken = []
    app.add_url_rule("/test/nothing", "nothing", lambda: jsonify(open=not db.is_closed()))

    taken.append(in_thread(lambda: client.get("/test/nothing").json["open"]))

    assert taken == [False]


def test_every_connection_has_the_sqlite_pragmas(app, client, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the pragmas are SQLite's")
    together = threading.Barrier(4, timeout=10)  # four requests hold a connection at once

    def pragmas():
        together.wait()
        return jsonify({name: db.pragma(name) for name in SQLITE_PRAGMAS})

    app.add_url_rule("/test/pragmas", "pragmas", pragmas)

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: client.get("/test/pragmas").json, range(4)))

    assert answers == [{"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1}] * 4


def in_transaction_on_the_connection() -> bool:
    """Whether the driver's connection has a transaction open (not peewee's record)."""
    connection = db.connection()
    if is_sqlite():
        return connection.in_transaction
    return connection.info.transaction_status.name != "IDLE"


def test_a_transaction_left_open_by_a_failed_request_is_not_handed_on(app, client):
    def half_done():
        db.atomic().__enter__()  # never left: the request fails first
        factories.make_user("half@example.com")
        raise RuntimeError("cut short")

    def next_request():
        state = {
            "peewee": db.in_transaction(),
            "connection": in_transaction_on_the_connection(),
        }
        factories.make_user("next@example.com")  # committed at once, on its own
        return jsonify(state)

    app.add_url_rule("/test/half-done", "half_done", half_done)
    app.add_url_rule("/test/next", "next_request", next_request)

    failed = in_thread(lambda: client.get("/test/half-done").status_code)
    state = in_thread(lambda: client.get("/test/next").json)

    assert failed == 500
    assert state == {"peewee": False, "connection": False}
    emails = {user.email for user in User.select()}
    assert emails == {"next@example.com"}  # the half-done one was rolled back, not committed

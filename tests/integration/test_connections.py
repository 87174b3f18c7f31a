"""Requests share pooled connections: a request takes one at its first query and gives it
back when it ends, a new connection is set up once (on SQLite: WAL, a busy timeout and
foreign keys, on every connection), and nothing of a transaction left open goes back to
the pool with it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import jsonify

from app import create_app
from config import Settings
from models import SQLITE_PRAGMAS, User, db, is_sqlite, release_connection
from tests import factories
from tests.server import free_port


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


# --- a PostgreSQL restart --------------------------------------------------------------------

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)


class PrivatePostgreSQL:
    """A PostgreSQL server of the test's own on a free loopback port (never the shared
    one), which the test may restart. As root, the server runs as the postgres user."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, program: str, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        command = [*as_postgres, str(PG_BIN / program), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l", log, "-w", action)


@pytest.fixture
def private_postgresql():
    if PG_BIN is None:
        pytest.skip("PostgreSQL's programs are not installed")
    folder = Path(tempfile.mkdtemp(prefix="kairos-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PrivatePostgreSQL(folder)
    saved = db.obj  # create_app() points the global database proxy at the server: restore it
    try:
        server.run("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "-N")
        server.pg_ctl("start")
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.pg_ctl("stop")
        release_connection()
        if saved is not None:
            db.initialize(saved)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.live
def test_requests_go_on_after_postgresql_restarts(private_postgresql):
    """Connections the pool kept from before a restart are dead: none is handed to a
    request, which gets a new one and succeeds."""
    app = create_app(Settings(database_url=private_postgresql.url, secret_key="x", env="testing"))
    together = threading.Barrier(4, timeout=10)

    def backend(wait: bool):
        # A request's connection opens at its first query: asked before the wait, four
        # requests hold one each at once, and the pool keeps four.
        pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        if wait:
            together.wait()
        return jsonify(pid=pid)

    app.add_url_rule("/test/backend/<int:wait>", "backend", backend)

    def ask(wait: int) -> int:
        response = app.test_client().get(f"/test/backend/{wait}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["pid"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        before = set(pool.map(ask, [1] * 4))
    private_postgresql.pg_ctl("restart")
    with ThreadPoolExecutor(max_workers=4) as pool:
        after = set(pool.map(ask, [0] * 12))

    assert len(before) == 4
    assert not after & before  # all twelve answered (ask), on new backends

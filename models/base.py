"""The database proxy, the UTC instant field, the base model, and prepared queries.

Instants are stored in UTC (``UTCDateTimeField``): ``timestamptz`` on PostgreSQL and a
fixed-width ISO string on SQLite, so comparisons sort correctly on both.
"""

from __future__ import annotations

import select
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import cache

from peewee import DatabaseProxy, Field, Model, SqliteDatabase
from playhouse.db_url import connect, parse
from playhouse.pool import PooledPostgresqlDatabase

db = DatabaseProxy()

SQLITE_PRAGMAS = {"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1}
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def open_database(url: str):
    """The database for ``url``: a pool of connections, one per URL and process (so a
    second create_app() orphans no open connections). A request, task or command takes
    a connection when it first queries and gives it back when it ends
    (``release_connection``); a new connection gets its settings once (SQLite: WAL, a
    busy timeout, foreign keys), not once per use. On PostgreSQL the pool spares
    starting a backend per request, on SQLite opening the file and setting the pragmas."""
    return _pool(url)


@cache
def _pool(url: str):
    if url.startswith("sqlite"):
        path = url.split("://", 1)[1]
        # No limit: a process has as many connections as threads using one at once.
        return connect(f"sqlite+pool://{path}", pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    return PostgresPool(**parse(url), max_connections=32, stale_timeout=300, timeout=10)


class PostgresPool(PooledPostgresqlDatabase):
    """Peewee's pool, which before handing out an idle connection asks the server
    whether it is still there (``SELECT 1``): a round trip on every request. Here the
    socket is asked first. An idle connection has nothing to read, so one the server
    ended (a restart sends each client a notice and closes) is readable, and only then
    is the server asked, the connection dropped if it does not answer. A connection that
    died without a word (a cable cut) fails its request and is dropped when given back
    (the pool does not reuse one whose state is unknown)."""

    def _is_closed(self, conn) -> bool:
        if conn.closed:
            return True
        if select.select([conn.fileno()], [], [], 0)[0]:
            return super()._is_closed(conn)
        return False


def release_connection() -> None:
    """Give this thread's connection back to its pool, if it took one. Nothing of a
    transaction goes back with it: the pool rolls back what is still open on the
    connection, and peewee's own record of transactions left open (an ``atomic`` block
    never left) is dropped, as ``close`` refuses to close while it is there."""
    while db.transaction_depth():
        db.pop_transaction()
    if not db.is_closed():
        db.close()


@contextmanager
def writing():
    """A write transaction; on SQLite it takes the write lock first, so what it reads
    cannot change before it writes (and two at once wait for each other rather than
    fail on upgrading a read lock)."""
    with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
        yield


@contextmanager
def locked(model, row_id: int):
    """A write transaction that other writers to this row wait for (FOR UPDATE on
    PostgreSQL; it also waits for bookings being made for a provider row)."""
    with writing():
        if not is_sqlite():
            list(model.select(model.id).where(model.id == row_id).for_update())
        yield


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"

    def db_value(self, value):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given: store aware UTC instants")
        value = value.astimezone(UTC)
        if is_sqlite():
            return value.strftime(_SQLITE_FORMAT)
        return value

    def python_value(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def _other_sample(value: object, round_: int) -> object:
    """``value`` for the first build of a prepared query, a clearly different value of
    the same type for the second."""
    if not round_:
        return value
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value - 1_000_003
    if isinstance(value, str):
        return value + "\x00again"
    if isinstance(value, datetime | date):
        return value + timedelta(days=1000, seconds=1 if isinstance(value, datetime) else 0)
    if isinstance(value, tuple):
        return value  # replaced by the call's shape
    raise UnsafeSamples(f"No second sample for {value!r}: use an int, str, date or datetime.")


def _db_value(value: object) -> object:
    """What the database is given for a value; instants as UTCDateTimeField stores them."""
    return UTCDateTimeField.db_value(None, value) if isinstance(value, datetime) else value


class UnsafeSamples(Exception):
    """A prepared query's sample values cannot be told apart from the query's own
    values, so its compiled SQL could give wrong rows: choose other samples, or pass the
    value the query computes instead of computing it in the query."""


class Prepared:
    """A query on a hot path whose SQL is built once per kind of database.

    Peewee builds the SQL text of a query afresh on every execution, which measured as
    most of the cost of the slots and booking requests. ``build`` makes the query from
    sample values (one distinct value per parameter; a tuple for an IN list, whose
    length is then part of the shape compiled); executions reuse its SQL with the real
    values in the same places. They return model instances, or plain row tuples with
    ``rows=True`` (for unions and partial selects, converted by the caller).

    Which parameter is which value is found by building the query twice, from two
    different sets of samples: a parameter that follows its sample both times is that
    value, one that stays the same is a constant of the query. Anything else (a
    constant equal to a sample, a value the query computes from a sample, a sample that
    never reaches the SQL) raises UnsafeSamples when the query is first compiled.
    """

    def __init__(self, build, *, rows: bool = False, **samples: object) -> None:
        self.build, self.rows, self.samples = build, rows, samples
        self._compiled: dict[tuple, tuple] = {}

    def _samples(self, shape: tuple, round_: int) -> dict[str, object]:
        samples = {name: _other_sample(value, round_) for name, value in self.samples.items()}
        for i, (name, length) in enumerate(shape):
            base = 9_000_000 + 10_000_000 * round_ + 1000 * i
            samples[name] = tuple(-(base + j) for j in range(length))
        return samples

    def _compile(self, shape: tuple) -> tuple:
        first, second = self._samples(shape, 0), self._samples(shape, 1)
        query = self.build(**first)
        sql, params = query.sql()
        sql_again, params_again = self.build(**second).sql()
        if sql_again != sql or len(params_again) != len(params):
            self._unsafe("its SQL changes with the sample values", sql)
        slots, slots_again = self._slots(first, sql), self._slots(second, sql)
        # Each parameter is a sample, filled in per call as (name, index in its tuple or
        # None), or a constant of the query, kept as it is.
        order: list[tuple[str, object]] = []
        for i, (value, again) in enumerate(zip(params, params_again, strict=True)):
            slot = slots.get(value)
            if slot != slots_again.get(again):
                problem = "a constant of the query equals a sample, or samples are mixed up"
                self._unsafe(f"parameter {i + 1} ({value!r}): {problem}", sql)
            if slot is None and value != again:
                self._unsafe(f"parameter {i + 1} ({value!r}) is computed from a sample", sql)
            order.append(slot or ("", value))
        unused = set(slots.values()) - {slot for slot in order if slot[0]}
        if unused:
            self._unsafe(f"samples {sorted(unused, key=str)} never reach the SQL", sql)
        if self.rows:
            return sql, order, None, None
        fields = [getattr(query.model, column.name) for column in query._returning]
        return sql, order, query.model, fields

    def _slots(self, samples: dict[str, object], sql: str) -> dict[object, tuple]:
        """Each sample's database value → (name, index in its tuple or None)."""
        slots: dict[object, tuple] = {}
        for name, value in samples.items():
            places = enumerate(value) if isinstance(value, tuple) else [(None, value)]
            for index, sample in places:
                key = _db_value(sample)
                if key in slots:
                    self._unsafe(f"samples {slots[key]} and {(name, index)} are equal", sql)
                slots[key] = (name, index)
        return slots

    def _unsafe(self, problem: str, sql: str) -> None:
        where = f"{self.build.__module__}.{self.build.__qualname__}"
        raise UnsafeSamples(f"Prepared query from {where}: {problem}. SQL: {sql}")

    def __call__(self, **values: object) -> list:
        shape = tuple((k, len(v)) for k, v in values.items() if isinstance(v, tuple))
        key = (type(db.obj), shape)
        if key not in self._compiled:
            self._compiled[key] = self._compile(shape)
        sql, order, model, fields = self._compiled[key]
        params = []
        for name, where in order:
            if not name:
                params.append(where)  # a constant
            else:
                value = values[name] if where is None else values[name][where]
                params.append(_db_value(value))
        rows = db.execute_sql(sql, params).fetchall()
        if model is None:
            return rows
        return [
            model(**{f.name: f.python_value(v) for f, v in zip(fields, row, strict=True)})
            for row in rows
        ]

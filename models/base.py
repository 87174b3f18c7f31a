"""The database proxy, the UTC instant field, the base model, and prepared queries.

Instants are stored in UTC (``UTCDateTimeField``): ``timestamptz`` on PostgreSQL and a
fixed-width ISO string on SQLite, so comparisons sort correctly on both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from peewee import DatabaseProxy, Field, Model, SqliteDatabase
from playhouse.db_url import connect

db = DatabaseProxy()

SQLITE_PRAGMAS = {"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1}
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def open_database(url: str):
    """A database for ``url``; SQLite gets WAL, a busy timeout and foreign keys,
    PostgreSQL a connection pool."""
    if url.startswith("sqlite"):
        return connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    return _postgres_pool(url)


@cache
def _postgres_pool(url: str):
    # Requests still connect and close (app.py), but closing hands the connection back
    # instead of ending a PostgreSQL backend, which takes milliseconds to start again.
    # One pool per URL and process, so a second create_app() orphans no open connections.
    scheme, rest = url.split("://", 1)
    if not scheme.endswith("+pool"):
        scheme += "+pool"
    return connect(f"{scheme}://{rest}", max_connections=32, stale_timeout=300, timeout=10)


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


def _db_value(value: object) -> object:
    """What the database is given for a value; instants as UTCDateTimeField stores them."""
    return UTCDateTimeField.db_value(None, value) if isinstance(value, datetime) else value


class Prepared:
    """A query on a hot path whose SQL is built once per kind of database.

    Peewee builds the SQL text of a query afresh on every execution, which measured as
    most of the cost of the slots and booking requests. ``build`` makes the query from
    sample values (one distinct value per parameter; a tuple for an IN list, whose
    length is then part of the shape compiled); executions reuse its SQL with the real
    values in the same places. They return model instances, or plain row tuples with
    ``rows=True`` (for unions and partial selects, converted by the caller).
    """

    def __init__(self, build, *, rows: bool = False, **samples: object) -> None:
        self.build, self.rows, self.samples = build, rows, samples
        self._compiled: dict[tuple, tuple] = {}

    def _compile(self, shape: tuple) -> tuple:
        samples = dict(self.samples)
        for i, (name, length) in enumerate(shape):
            samples[name] = tuple(-(9_000_000 + 1000 * i + j) for j in range(length))
        query = self.build(**samples)
        sql, params = query.sql()
        slots: dict[object, tuple[str, int | None]] = {}
        for name, value in samples.items():
            if isinstance(value, tuple):
                slots.update({_db_value(v): (name, j) for j, v in enumerate(value)})
            else:
                slots[_db_value(value)] = (name, None)
        # Each parameter is a sample, filled in per call as (name, index in its tuple or
        # None), or a constant of the query, kept as it is.
        order = [slots.get(value, ("", value)) for value in params]
        if self.rows:
            return sql, order, None, None
        fields = [getattr(query.model, column.name) for column in query._returning]
        return sql, order, query.model, fields

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

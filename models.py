"""Peewee models, the database proxy, and small query helpers.

Instants are stored in UTC (``UTCDateTimeField``): ``timestamptz`` on PostgreSQL and a
fixed-width ISO string on SQLite, so comparisons sort correctly on both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from flask_login import UserMixin
from peewee import (
    SQL,
    BigIntegerField,
    BooleanField,
    CharField,
    Check,
    CompositeKey,
    DatabaseProxy,
    DateField,
    Field,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
    TimeField,
)
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


class Organisation(BaseModel):
    slug = CharField(unique=True, max_length=64)
    name = CharField(max_length=200)
    timezone = CharField(max_length=64)
    currency = CharField(max_length=3, constraints=[Check("length(currency) = 3")])
    created_at = UTCDateTimeField(default=utcnow)


class User(UserMixin, BaseModel):
    email = CharField(unique=True, max_length=254, constraints=[Check("email = lower(email)")])
    name = CharField(max_length=200)
    phone = CharField(null=True, max_length=32)
    password_hash = CharField(null=True, max_length=200)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "users"

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return cls.get_or_none(cls.email == cls.normalise_email(email))


ROLES = ("owner", "provider")


class Membership(BaseModel):
    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    organisation = ForeignKeyField(Organisation, backref="memberships", on_delete="CASCADE")
    role = CharField(max_length=16, constraints=[Check("role IN ('owner', 'provider')")])

    class Meta:
        indexes = ((("user", "organisation", "role"), True),)


class Provider(BaseModel):
    organisation = ForeignKeyField(Organisation, backref="providers", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, unique=True, on_delete="SET NULL")
    name = CharField(max_length=200)
    active = BooleanField(default=True)
    # Changed by database triggers when bookings, time off or hours change (migration 0004).
    calendar_version = BigIntegerField(default=0)


class Service(BaseModel):
    organisation = ForeignKeyField(Organisation, backref="services", on_delete="CASCADE")
    name = CharField(max_length=200)
    category = CharField(max_length=100, default="")
    description = TextField(default="")
    duration_minutes = IntegerField(constraints=[Check("duration_minutes > 0")])
    price_cents = IntegerField(constraints=[Check("price_cents >= 0")])
    buffer_before_minutes = IntegerField(
        default=0, constraints=[Check("buffer_before_minutes >= 0")]
    )
    buffer_after_minutes = IntegerField(default=0, constraints=[Check("buffer_after_minutes >= 0")])
    min_notice_minutes = IntegerField(default=0, constraints=[Check("min_notice_minutes >= 0")])
    max_days_ahead = IntegerField(default=90, constraints=[Check("max_days_ahead >= 0")])
    cancellation_window_hours = IntegerField(
        default=24, constraints=[Check("cancellation_window_hours >= 0")]
    )
    active = BooleanField(default=True)


class ServiceProvider(BaseModel):
    service = ForeignKeyField(Service, backref="offered_by", on_delete="CASCADE")
    provider = ForeignKeyField(Provider, backref="offers", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("service", "provider")


class WeeklyHours(BaseModel):
    """Working hours on a weekday (0 = Monday), in the organisation's wall-clock time."""

    provider = ForeignKeyField(Provider, backref="weekly_hours", on_delete="CASCADE")
    weekday = IntegerField(constraints=[Check("weekday BETWEEN 0 AND 6")])
    start_time = TimeField()
    end_time = TimeField(constraints=[Check("end_time > start_time")])


class DateOverride(BaseModel):
    """Hours on one local date that replace the weekly ones; a row without times closes the day."""

    provider = ForeignKeyField(Provider, backref="overrides", on_delete="CASCADE")
    day = DateField()
    start_time = TimeField(null=True)
    end_time = TimeField(
        null=True,
        constraints=[
            Check(
                "(start_time IS NULL AND end_time IS NULL) OR "
                "(start_time IS NOT NULL AND end_time IS NOT NULL AND end_time > start_time)"
            )
        ],
    )


class TimeOff(BaseModel):
    provider = ForeignKeyField(Provider, backref="time_off", on_delete="CASCADE")
    start_at = UTCDateTimeField()
    end_at = UTCDateTimeField(constraints=[Check("end_at > start_at")])
    reason = CharField(max_length=200, default="")


STATUSES = ("confirmed", "cancelled", "completed", "no_show")


class Booking(BaseModel):
    organisation = ForeignKeyField(Organisation, backref="bookings", on_delete="CASCADE")
    service = ForeignKeyField(Service, backref="bookings")
    provider = ForeignKeyField(Provider, backref="bookings")
    customer = ForeignKeyField(User, backref="bookings", null=True, on_delete="SET NULL")
    start_at = UTCDateTimeField()
    end_at = UTCDateTimeField()
    block_start = UTCDateTimeField()
    block_end = UTCDateTimeField()
    status = CharField(
        max_length=16,
        default="confirmed",
        constraints=[Check("status IN ('confirmed', 'cancelled', 'completed', 'no_show')")],
    )
    price_cents = IntegerField(constraints=[Check("price_cents >= 0")])
    currency = CharField(max_length=3)
    created_at = UTCDateTimeField(default=utcnow)
    cancelled_at = UTCDateTimeField(null=True)
    cancelled_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    cancel_reason = TextField(default="")
    rescheduled_from = ForeignKeyField("self", null=True, backref="rescheduled_to")

    class Meta:
        constraints = [
            SQL("CHECK (block_start <= start_at AND start_at < end_at AND end_at <= block_end)")
        ]
        indexes = ((("provider", "block_start"), False), (("customer", "start_at"), False))

    @classmethod
    def with_details(cls):
        """Bookings with their service, provider and organisation, in one query."""
        return (
            cls.select(cls, Service, Provider, Organisation)
            .join(Service)
            .switch(cls)
            .join(Provider)
            .switch(cls)
            .join(Organisation)
        )

    @classmethod
    def overlapping(cls, provider_id: int, start: datetime, end: datetime):
        """Bookings that keep ``provider_id`` busy at some moment of [start, end)."""
        return cls.select().where(
            (cls.provider == provider_id)
            & (cls.status != "cancelled")
            & (cls.block_start < end)
            & (cls.block_end > start)
        )


class BookingEvent(BaseModel):
    """Append-only history of a booking: who did what, when."""

    booking = ForeignKeyField(Booking, backref="events", on_delete="CASCADE")
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    action = CharField(max_length=32)
    detail = TextField(default="{}")
    created_at = UTCDateTimeField(default=utcnow)


class ApiToken(BaseModel):
    user = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    token_hash = CharField(unique=True, max_length=64)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    revoked_at = UTCDateTimeField(null=True)


class IdempotencyKey(BaseModel):
    """The first response to a request sent with an Idempotency-Key, kept for replays."""

    user = ForeignKeyField(User, on_delete="CASCADE")
    key = CharField(max_length=200)
    request_hash = CharField(max_length=64)
    status_code = IntegerField()
    response_body = TextField()
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "key"), True),)


class AccountToken(BaseModel):
    """A single-use link emailed to a user: password reset, magic sign-in, email change.

    Only the token's SHA-256 is stored; the link in the email is the only copy of it.
    """

    user = ForeignKeyField(User, backref="account_tokens", on_delete="CASCADE")
    purpose = CharField(
        max_length=16, constraints=[Check("purpose IN ('reset', 'magic', 'email_change')")]
    )
    token_hash = CharField(unique=True, max_length=64)
    new_email = CharField(
        null=True, max_length=254, constraints=[Check("new_email = lower(new_email)")]
    )
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    used_at = UTCDateTimeField(null=True)

    class Meta:
        constraints = [SQL("CHECK ((purpose = 'email_change') = (new_email IS NOT NULL))")]
        indexes = ((("user", "purpose"), False),)


ALL_MODELS = [
    Organisation,
    User,
    Membership,
    Provider,
    Service,
    ServiceProvider,
    WeeklyHours,
    DateOverride,
    TimeOff,
    Booking,
    BookingEvent,
    ApiToken,
    IdempotencyKey,
    AccountToken,
]


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

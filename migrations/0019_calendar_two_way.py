"""Two-way calendar sync (services/calendar/connections.py, push.py): CalDAV, Google
Calendar and Microsoft 365 calendars next to the ICS addresses of 0018.

external_calendar gains what a two-way connection keeps: a name to show, the CalDAV
username, the secret (a CalDAV app password or an OAuth refresh token) and the current
access token, both encrypted (models.EncryptedTextField), the provider's calendar id,
the incremental-read token (sync-token, syncToken or delta link) and when everything
was last read in full, whether the provider
must give consent again, and whether customers' names go into the events written.

calendar_push is the outbox of bookings to write to those calendars: a row is written
in the booking change's own transaction and removed once the calendar has the change,
so a calendar server being down loses nothing. One row per calendar and appointment
(the first booking of a reschedule chain: its UID), whatever happened to it since.

busy_block gets an index on (calendar, uid): incremental reads replace one event's
blocks at a time. On PostgreSQL its triggers (0018) bump the provider's versions once
per statement instead of once per row: a sync writing 400 blocks updated the provider
row 800 times.
"""

from peewee import (
    AutoField,
    Field,
    ForeignKeyField,
    IntegerField,
    Model,
    PostgresqlDatabase,
    TextField,
)

COLUMNS = {
    "name": "TEXT",
    "username": "TEXT",
    "secret": "TEXT",
    "access_token": "TEXT",
    "access_expires_at": "TIMESTAMPTZ",
    "remote_id": "TEXT",
    "sync_token": "TEXT",
    "reconnect": "BOOLEAN NOT NULL DEFAULT FALSE",
    "show_names": "BOOLEAN NOT NULL DEFAULT FALSE",
    "full_read_at": "TIMESTAMPTZ",
}


PG_RANDOM = "floor(random() * 9007199254740991)::bigint"  # as 0004 and 0006
VERSIONS = ("calendar_version", "hours_version")
# The changed rows, as a statement-level trigger sees them (a transition table).
STATEMENT_TRIGGERS = {
    "INSERT": "REFERENCING NEW TABLE AS changed_rows",
    "DELETE": "REFERENCING OLD TABLE AS changed_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS changed_rows",
}


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    for column, kind in COLUMNS.items():
        db.execute_sql(f"ALTER TABLE external_calendar ADD COLUMN {column} {kind}")
    db.execute_sql("CREATE INDEX busy_block_calendar_uid ON busy_block (calendar_id, uid)")

    class ExternalCalendar(Model):
        class Meta:
            database = db
            table_name = "external_calendar"

    class Booking(Model):
        class Meta:
            database = db
            table_name = "booking"

    class CalendarPush(Model):
        id = AutoField()
        calendar = ForeignKeyField(ExternalCalendar, on_delete="CASCADE", index=False)
        booking = ForeignKeyField(Booking, on_delete="CASCADE")
        changes = IntegerField(default=1)
        attempts = IntegerField(default=0)
        next_try_at = UTCDateTimeField(index=True)
        last_error = TextField(null=True)
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "calendar_push"
            indexes = ((("calendar", "booking"), True),)

    db.create_tables([CalendarPush])
    if isinstance(db, PostgresqlDatabase):
        _bump_per_statement(db)


def _bump_per_statement(db):
    bump = ", ".join(f"{version} = {PG_RANDOM}" for version in VERSIONS)
    db.execute_sql(
        "CREATE FUNCTION bump_busy_block_versions() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN UPDATE provider SET {bump} "
        "WHERE id IN (SELECT provider_id FROM changed_rows); "
        f"IF TG_OP = 'UPDATE' THEN UPDATE provider SET {bump} "
        "WHERE id IN (SELECT provider_id FROM old_rows); END IF; "
        "RETURN NULL; END $$"
    )
    for version in VERSIONS:
        db.execute_sql(f"DROP TRIGGER busy_block_{version} ON busy_block")
    for event, tables in STATEMENT_TRIGGERS.items():
        db.execute_sql(
            f"CREATE TRIGGER busy_block_versions_{event.lower()} AFTER {event} ON busy_block "
            f"{tables} FOR EACH STATEMENT EXECUTE FUNCTION bump_busy_block_versions()"
        )


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        for event in STATEMENT_TRIGGERS:
            db.execute_sql(f"DROP TRIGGER busy_block_versions_{event.lower()} ON busy_block")
        db.execute_sql("DROP FUNCTION bump_busy_block_versions()")
        for version in VERSIONS:
            db.execute_sql(
                f"CREATE TRIGGER busy_block_{version} AFTER INSERT OR UPDATE OR DELETE "
                f"ON busy_block FOR EACH ROW EXECUTE FUNCTION bump_{version}()"
            )
    db.execute_sql("DROP TABLE IF EXISTS calendar_push")
    db.execute_sql("DROP INDEX IF EXISTS busy_block_calendar_uid")
    db.execute_sql("DELETE FROM external_calendar WHERE kind <> 'ics'")
    for column in reversed(COLUMNS):
        db.execute_sql(f"ALTER TABLE external_calendar DROP COLUMN {column}")

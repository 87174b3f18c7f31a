"""Busy time imported from a provider's own calendars (services/calendar/imports.py):
external_calendar (an ICS address and how its last fetch went) and busy_block (the
times read from it, nothing else).

Busy blocks decide the provider's free time as time off does, so they change both
provider.calendar_version (0004: caches of computed availability) and hours_version
(0006: a booking looks at the hours again under the lock when it changed), with the
trigger functions those migrations made.
"""

from peewee import (
    AutoField,
    CharField,
    Check,
    Field,
    ForeignKeyField,
    IntegerField,
    Model,
    PostgresqlDatabase,
    TextField,
)

VERSIONS = ("calendar_version", "hours_version")
SQLITE_SHORT = {"calendar_version": "cv", "hours_version": "hv"}


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    class Provider(Model):
        class Meta:
            database = db
            table_name = "provider"

    class ExternalCalendar(Model):
        id = AutoField()
        provider = ForeignKeyField(Provider, on_delete="CASCADE")
        kind = CharField(
            max_length=16,
            default="ics",
            constraints=[Check("kind IN ('ics', 'caldav', 'google', 'microsoft')")],
        )
        url = TextField()
        etag = TextField(null=True)
        last_modified = TextField(null=True)
        status = CharField(
            max_length=8, default="new", constraints=[Check("status IN ('new', 'ok', 'error')")]
        )
        last_synced_at = UTCDateTimeField(null=True)
        last_error = TextField(null=True)
        failures = IntegerField(default=0)
        next_try_at = UTCDateTimeField(index=True)
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "external_calendar"

    class BusyBlock(Model):
        calendar = ForeignKeyField(ExternalCalendar, on_delete="CASCADE")
        provider = ForeignKeyField(Provider, on_delete="CASCADE", index=False)
        start_at = UTCDateTimeField()
        end_at = UTCDateTimeField(constraints=[Check("end_at > start_at")])
        uid = TextField(default="")

        class Meta:
            database = db
            table_name = "busy_block"
            indexes = ((("provider", "start_at"), False),)

    db.create_tables([ExternalCalendar, BusyBlock])
    if isinstance(db, PostgresqlDatabase):
        for version in VERSIONS:
            db.execute_sql(
                f"CREATE TRIGGER busy_block_{version} AFTER INSERT OR UPDATE OR DELETE "
                f"ON busy_block FOR EACH ROW EXECUTE FUNCTION bump_{version}()"
            )
        return
    for version in VERSIONS:
        bump = f"UPDATE provider SET {version} = random() WHERE id = {{}}.provider_id;"
        short = SQLITE_SHORT[version]
        db.execute_sql(
            f"CREATE TRIGGER busy_block_{short}_insert AFTER INSERT ON busy_block "
            f"BEGIN {bump.format('NEW')} END"
        )
        db.execute_sql(
            f"CREATE TRIGGER busy_block_{short}_delete AFTER DELETE ON busy_block "
            f"BEGIN {bump.format('OLD')} END"
        )
        db.execute_sql(
            f"CREATE TRIGGER busy_block_{short}_update AFTER UPDATE ON busy_block "
            f"BEGIN {bump.format('OLD')} {bump.format('NEW')} END"
        )


def down(migrator, db):
    db.execute_sql("DROP TABLE IF EXISTS busy_block")  # its triggers go with it
    db.execute_sql("DROP TABLE IF EXISTS external_calendar")

"""provider.calendar_version: changed by the database whenever anything that decides the
provider's free time changes (bookings, time off, weekly hours, date overrides), so that
computed availability can be cached under it and never served stale.

The new value is random rather than one more: a counter would start again after a table
is emptied or restored, and a cache could take the same number for different data.
"""

from peewee import BigIntegerField, PostgresqlDatabase

WATCHED = ("booking", "time_off", "weekly_hours", "date_override")
PG_RANDOM = "floor(random() * 9007199254740991)::bigint"


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("provider", "calendar_version", BigIntegerField(default=0))
    )
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(
            "CREATE FUNCTION bump_calendar_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP <> 'INSERT' THEN UPDATE provider SET calendar_version = " + PG_RANDOM + " "
            "WHERE id = OLD.provider_id; END IF; "
            "IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.provider_id <> OLD.provider_id) "
            "THEN UPDATE provider SET calendar_version = " + PG_RANDOM + " "
            "WHERE id = NEW.provider_id; END IF; "
            "RETURN NULL; END $$"
        )
        for table in WATCHED:
            db.execute_sql(
                f"CREATE TRIGGER {table}_calendar_version AFTER INSERT OR UPDATE OR DELETE "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION bump_calendar_version()"
            )
        return
    bump = "UPDATE provider SET calendar_version = random() WHERE id = {}.provider_id;"
    for table in WATCHED:
        db.execute_sql(
            f"CREATE TRIGGER {table}_cv_insert AFTER INSERT ON {table} "
            f"BEGIN {bump.format('NEW')} END"
        )
        db.execute_sql(
            f"CREATE TRIGGER {table}_cv_delete AFTER DELETE ON {table} "
            f"BEGIN {bump.format('OLD')} END"
        )
        db.execute_sql(
            f"CREATE TRIGGER {table}_cv_update AFTER UPDATE ON {table} "
            f"BEGIN {bump.format('OLD')} "
            f"UPDATE provider SET calendar_version = random() "
            f"WHERE id = NEW.provider_id AND NEW.provider_id <> OLD.provider_id; END"
        )


def down(migrator, db):
    for table in WATCHED:
        if isinstance(db, PostgresqlDatabase):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_calendar_version ON {table}")
        else:
            for op in ("insert", "delete", "update"):
                db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_cv_{op}")
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("DROP FUNCTION IF EXISTS bump_calendar_version()")
    migrator.migrate(migrator.drop_column("provider", "calendar_version"))

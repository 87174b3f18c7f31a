"""provider.hours_version: changed by the database whenever the provider's working time
changes (weekly hours, date overrides, time off), but not by bookings.

A booking is checked against the provider's hours before their lock is taken; under the
lock it is enough to see that this version is still the one the check saw. When it is
not, the booking looks at the hours again. (calendar_version also changes with every
booking, so under load it would almost never be the same.)
"""

from peewee import PostgresqlDatabase

WATCHED = ("time_off", "weekly_hours", "date_override")
PG_RANDOM = "floor(random() * 9007199254740991)::bigint"


def up(migrator, db):
    # Plain SQL: the migrator would rebuild the table on SQLite, which its triggers forbid.
    db.execute_sql("ALTER TABLE provider ADD COLUMN hours_version BIGINT NOT NULL DEFAULT 0")
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(
            "CREATE FUNCTION bump_hours_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP <> 'INSERT' THEN UPDATE provider SET hours_version = " + PG_RANDOM + " "
            "WHERE id = OLD.provider_id; END IF; "
            "IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.provider_id <> OLD.provider_id) "
            "THEN UPDATE provider SET hours_version = " + PG_RANDOM + " "
            "WHERE id = NEW.provider_id; END IF; "
            "RETURN NULL; END $$"
        )
        for table in WATCHED:
            db.execute_sql(
                f"CREATE TRIGGER {table}_hours_version AFTER INSERT OR UPDATE OR DELETE "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION bump_hours_version()"
            )
        return
    bump = "UPDATE provider SET hours_version = random() WHERE id = {}.provider_id;"
    for table in WATCHED:
        db.execute_sql(
            f"CREATE TRIGGER {table}_hv_insert AFTER INSERT ON {table} "
            f"BEGIN {bump.format('NEW')} END"
        )
        db.execute_sql(
            f"CREATE TRIGGER {table}_hv_delete AFTER DELETE ON {table} "
            f"BEGIN {bump.format('OLD')} END"
        )
        db.execute_sql(
            f"CREATE TRIGGER {table}_hv_update AFTER UPDATE ON {table} "
            f"BEGIN {bump.format('OLD')} "
            f"UPDATE provider SET hours_version = random() "
            f"WHERE id = NEW.provider_id AND NEW.provider_id <> OLD.provider_id; END"
        )


def down(migrator, db):
    for table in WATCHED:
        if isinstance(db, PostgresqlDatabase):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_hours_version ON {table}")
        else:
            for op in ("insert", "delete", "update"):
                db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_hv_{op}")
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("DROP FUNCTION IF EXISTS bump_hours_version()")
    db.execute_sql("ALTER TABLE provider DROP COLUMN hours_version")

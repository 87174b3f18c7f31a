"""Booking history is append-only: the database refuses to edit a history row."""

from peewee import PostgresqlDatabase

MESSAGE = "booking history is append-only"


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(
            "CREATE FUNCTION booking_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}' "
            "USING ERRCODE = 'integrity_constraint_violation'; END $$"
        )
        db.execute_sql(
            "CREATE TRIGGER booking_event_no_update BEFORE UPDATE ON booking_event "
            "FOR EACH ROW EXECUTE FUNCTION booking_event_append_only()"
        )
    else:
        db.execute_sql(
            "CREATE TRIGGER booking_event_no_update BEFORE UPDATE ON booking_event "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def down(migrator, db):
    db.execute_sql(
        "DROP TRIGGER IF EXISTS booking_event_no_update ON booking_event"
        if isinstance(db, PostgresqlDatabase)
        else "DROP TRIGGER IF EXISTS booking_event_no_update"
    )
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("DROP FUNCTION IF EXISTS booking_event_append_only()")

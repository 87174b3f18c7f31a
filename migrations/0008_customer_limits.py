"""Per-customer booking limits, set by each organisation's owner: how many upcoming
appointments one customer may hold, and how many on one (local) day."""


def up(migrator, db):
    # Plain SQL: the migrator would rebuild the table on SQLite.
    db.execute_sql(
        "ALTER TABLE organisation ADD COLUMN max_future_bookings INTEGER NOT NULL DEFAULT 10 "
        "CHECK (max_future_bookings >= 1)"
    )
    db.execute_sql(
        "ALTER TABLE organisation ADD COLUMN max_bookings_per_day INTEGER NOT NULL DEFAULT 2 "
        "CHECK (max_bookings_per_day >= 1)"
    )


def down(migrator, db):
    db.execute_sql("ALTER TABLE organisation DROP COLUMN max_bookings_per_day")
    db.execute_sql("ALTER TABLE organisation DROP COLUMN max_future_bookings")

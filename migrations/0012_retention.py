"""How long each organisation keeps its customers' details on past bookings, in months
(the owner's setting; services/privacy/retention.py anonymises what is older)."""


def up(migrator, db):
    # Plain SQL: the migrator would rebuild the table on SQLite.
    db.execute_sql(
        "ALTER TABLE organisation ADD COLUMN retention_months INTEGER NOT NULL DEFAULT 24 "
        "CHECK (retention_months BETWEEN 1 AND 120)"
    )


def down(migrator, db):
    db.execute_sql("ALTER TABLE organisation DROP COLUMN retention_months")

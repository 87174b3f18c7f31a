"""Customers entered by staff are the organisation's records, not Kairos accounts.

users.organisation_id: set for a record kept by that organisation (a walk-in or phone
customer), NULL for an account. A record has no password (CHECK). users.claimed_by_id:
the account that added the record's bookings through the emailed link (CHECK: only a
record is claimed).

The email is unique among accounts, and among one organisation's records: two partial
unique indexes replace the one on the column (users.email is lower-case by its CHECK,
so the column itself is the case-blind key). Both databases have partial indexes.

Rows already there stay as they are: they are accounts (organisation_id NULL),
including the passwordless customers the desk created before this migration.
"""

from peewee import SqliteDatabase

atomic = False  # down() rebuilds users on SQLite, with foreign keys off


def up(migrator, db):
    with db.atomic():
        # Plain SQL: the migrator would rebuild the table on SQLite.
        db.execute_sql(
            "ALTER TABLE users ADD COLUMN organisation_id INTEGER"
            " REFERENCES organisation (id) ON DELETE CASCADE"
            " CONSTRAINT users_record_no_password"
            " CHECK (organisation_id IS NULL OR password_hash IS NULL)"
        )
        db.execute_sql(
            "ALTER TABLE users ADD COLUMN claimed_by_id INTEGER"
            " REFERENCES users (id) ON DELETE SET NULL"
            " CONSTRAINT users_only_records_claimed"
            " CHECK (claimed_by_id IS NULL OR organisation_id IS NOT NULL)"
        )
        db.execute_sql("DROP INDEX user_email")
        db.execute_sql(
            "CREATE UNIQUE INDEX users_account_email ON users (email) WHERE organisation_id IS NULL"
        )
        db.execute_sql(
            "CREATE UNIQUE INDEX users_record_email ON users (organisation_id, email)"
            " WHERE organisation_id IS NOT NULL"
        )
        db.execute_sql(
            "CREATE INDEX users_claimed_by ON users (claimed_by_id) WHERE claimed_by_id IS NOT NULL"
        )


def down(migrator, db):
    """Records become accounts again, so this fails while a record shares an account's
    email (or another organisation's record's): delete or rename those first."""
    sqlite = isinstance(db, SqliteDatabase)
    if sqlite:
        db.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        with db.atomic():
            for index in ("users_claimed_by", "users_record_email", "users_account_email"):
                db.execute_sql(f"DROP INDEX {index}")
            db.execute_sql('CREATE UNIQUE INDEX user_email ON users ("email")')
            if sqlite:  # a column with REFERENCES or CHECK goes by a rebuild
                for column in ("claimed_by_id", "organisation_id"):
                    migrator.migrate(migrator.drop_column("users", column, legacy=True))
            else:
                db.execute_sql("ALTER TABLE users DROP COLUMN claimed_by_id")
                db.execute_sql("ALTER TABLE users DROP COLUMN organisation_id")
    finally:
        if sqlite:
            db.execute_sql("PRAGMA foreign_keys = ON")

"""The workspace: staff notes, provider invitations, how a booking was made, the booking
page's intro and logo, and customers without an email address (walk-ins, phone calls).

Making users.email nullable rebuilds the table on SQLite, which must happen with foreign
keys off (SQLite's documented way to change a column), so this migration manages its own
transaction.
"""

from peewee import *

atomic = False


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    if sqlite:
        db.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        with db.atomic():
            _change(migrator, db)
            if sqlite:
                problems = db.execute_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"foreign keys broken by the rebuild: {problems[:5]}")
    finally:
        if sqlite:
            db.execute_sql("PRAGMA foreign_keys = ON")


def _change(migrator, db):
    class Organisation(Model):
        class Meta:
            database = db

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class Booking(Model):
        class Meta:
            database = db

    # users.email loses NOT NULL by a rebuild on SQLite; it has no triggers to lose.
    migrator.migrate(
        migrator.add_column("organisation", "booking_intro", TextField(default="")),
        migrator.add_column("organisation", "logo", BlobField(null=True)),
        migrator.add_column("organisation", "logo_type", CharField(null=True, max_length=32)),
        migrator.drop_not_null("users", "email"),
    )

    # Plain SQL: the migrator would rebuild the table on SQLite, losing its triggers.
    db.execute_sql(
        "ALTER TABLE booking ADD COLUMN source VARCHAR(16) NOT NULL DEFAULT 'online' "
        "CHECK (source IN ('online', 'walk_in', 'phone'))"
    )

    class Note(Model):
        organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
        customer = ForeignKeyField(User, on_delete="CASCADE")
        booking = ForeignKeyField(Booking, null=True, on_delete="CASCADE")
        author = ForeignKeyField(User, null=True, on_delete="SET NULL")
        body = TextField(constraints=[Check("length(body) BETWEEN 1 AND 4000")])
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "note"
            indexes = ((("organisation", "customer", "created_at"), False),)

    class Invitation(Model):
        organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
        email = CharField(max_length=254, constraints=[Check("email = lower(email)")])
        name = CharField(max_length=200)
        token_hash = CharField(unique=True, max_length=64)
        invited_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = UTCDateTimeField()
        expires_at = UTCDateTimeField()
        accepted_at = UTCDateTimeField(null=True)
        accepted_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        revoked_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "invitation"
            indexes = ((("organisation", "email"), False),)

    db.create_tables([Note, Invitation])
    db.execute_sql("CREATE INDEX booking_organisation_start ON booking (organisation_id, start_at)")


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS booking_organisation_start")
    migrator.migrate(
        migrator.drop_table("invitation"),
        migrator.drop_table("note"),
        migrator.drop_column("booking", "source"),
        migrator.drop_column("organisation", "logo_type"),
        migrator.drop_column("organisation", "logo"),
        migrator.drop_column("organisation", "booking_intro"),
    )

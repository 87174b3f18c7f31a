"""The audit log of staff and owners' actions, append-only like booking history (0002).

The database refuses to change or delete an entry, except for what its foreign keys
do: deleting a person sets their entries' actor_id to NULL (the name stays in
actor_name), and deleting an organisation deletes its entries. Each trigger checks
that this is what is happening: the person, or the organisation, is really gone.
"""

from peewee import *
from peewee import PostgresqlDatabase


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


MESSAGE = "the audit log is append-only"
# Every column but actor_id, for SQLite's check that only the actor was cleared.
KEPT = (
    "id",
    "organisation_id",
    "actor_name",
    "action",
    "subject_type",
    "subject_id",
    "summary",
    "detail",
    "ip",
    "created_at",
)


def up(migrator, db):
    class Organisation(Model):
        class Meta:
            database = db
            table_name = "organisation"

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class AuditEntry(Model):
        organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
        actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
        actor_name = CharField(max_length=200)
        action = CharField(max_length=40)
        subject_type = CharField(max_length=24, default="")
        subject_id = BigIntegerField(null=True)
        summary = TextField(constraints=[Check("length(summary) BETWEEN 1 AND 500")])
        detail = TextField(default="{}", constraints=[Check("length(detail) <= 4000")])
        ip = CharField(max_length=45, null=True)
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "audit_entry"
            indexes = (
                (("organisation", "id"), False),
                (("organisation", "actor", "id"), False),
            )

    db.create_tables([AuditEntry])
    if isinstance(db, PostgresqlDatabase):
        _postgresql(db)
    else:
        _sqlite(db)


def _postgresql(db):
    db.execute_sql(
        "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        # ON DELETE SET NULL of a deleted person: only actor_id changes.
        "IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.actor_id) "
        "AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN RETURN NEW; "
        "END IF; "
        # ON DELETE CASCADE of a deleted organisation.
        "IF TG_OP = 'DELETE' AND NOT EXISTS "
        "(SELECT 1 FROM organisation WHERE id = OLD.organisation_id) THEN RETURN OLD; "
        "END IF; "
        f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; "
        "END $$"
    )
    db.execute_sql(
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
    )


def _sqlite(db):
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in KEPT)
    db.execute_sql(
        "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
        "WHEN NOT (NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.actor_id) "
        f"AND {unchanged}) "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )
    db.execute_sql(
        "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
        "WHEN EXISTS (SELECT 1 FROM organisation WHERE id = OLD.organisation_id) "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("DROP TABLE IF EXISTS audit_entry")
        db.execute_sql("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    else:
        db.execute_sql("DROP TABLE IF EXISTS audit_entry")  # its triggers go with it

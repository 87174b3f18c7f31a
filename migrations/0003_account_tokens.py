"""Single-use links emailed to customers: password reset, magic sign-in, email change."""

from peewee import *


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class AccountToken(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        purpose = CharField(
            max_length=16, constraints=[Check("purpose IN ('reset', 'magic', 'email_change')")]
        )
        token_hash = CharField(unique=True, max_length=64)
        new_email = CharField(
            null=True, max_length=254, constraints=[Check("new_email = lower(new_email)")]
        )
        created_at = UTCDateTimeField()
        expires_at = UTCDateTimeField()
        used_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "account_token"
            constraints = [SQL("CHECK ((purpose = 'email_change') = (new_email IS NOT NULL))")]
            indexes = ((("user", "purpose"), False),)

    db.create_tables([AccountToken])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("account_token"))

"""Passkeys (issue 17): the challenges of registering and signing in, kept on the server
so that each is answered at most once."""

from peewee import *


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class PasskeyChallenge(Model):
        digest = CharField(max_length=64, unique=True)
        purpose = CharField(
            max_length=16, constraints=[Check("purpose IN ('register', 'sign_in')")]
        )
        user = ForeignKeyField(User, null=True, on_delete="CASCADE")
        expires_at = UTCDateTimeField(index=True)

        class Meta:
            database = db
            table_name = "passkey_challenge"

    db.create_tables([PasskeyChallenge])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("passkey_challenge"))

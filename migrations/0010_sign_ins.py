"""Sign-ins kept on the server (issue 12, finding 4): each signed-in browser is a row whose
random key (stored as its SHA-256) the cookies carry, so that signing out, a new password
or leaving ends it for good. Sessions signed in before this migration carried a user id
and sign in nobody from now on: everyone signs in once more."""

from peewee import *


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class SignIn(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        key_hash = CharField(unique=True, max_length=64)
        device = CharField(max_length=80)
        network = CharField(null=True, max_length=64)
        remember = BooleanField(default=False)
        created_at = UTCDateTimeField()
        last_seen_at = UTCDateTimeField()
        expires_at = UTCDateTimeField()
        ended_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "sign_in"
            indexes = ((("user", "ended_at"), False),)

    db.create_tables([SignIn])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("sign_in"))

"""Sign-ups wait for the code emailed to their address before an account exists."""

from peewee import *


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    class PendingSignUp(Model):
        kind = CharField(max_length=16, constraints=[Check("kind IN ('customer', 'business')")])
        email = CharField(max_length=254, constraints=[Check("email = lower(email)")])
        details = TextField()
        holder = BooleanField(default=False)
        salt = CharField(max_length=32)
        code_hash = CharField(max_length=64)
        tries = IntegerField(default=0, constraints=[Check("tries >= 0")])
        sends = IntegerField(default=1, constraints=[Check("sends >= 1")])
        created_at = UTCDateTimeField()
        expires_at = UTCDateTimeField(index=True)
        used_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "pending_sign_up"

    db.create_tables([PendingSignUp])


def down(migrator, db):
    db.execute_sql("DROP TABLE pending_sign_up")

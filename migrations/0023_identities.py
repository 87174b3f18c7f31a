"""Signing in without a password (issue 17): identities at Google, Apple, Facebook and
proven phone numbers, passkeys, and the codes texted to phones. Each sign-in now says
how it was made (``sign_in.method``), so that Account → Sign-in methods can say when a
password or an emailed link was last used."""

from peewee import *


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class Identity(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        provider = CharField(
            max_length=16,
            constraints=[Check("provider IN ('google', 'apple', 'facebook', 'phone')")],
        )
        subject = CharField(max_length=255)
        email = CharField(null=True, max_length=254)
        email_verified = BooleanField(default=False)
        created_at = UTCDateTimeField()
        last_used_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "identity"
            indexes = ((("provider", "subject"), True), (("user",), False))

    class Passkey(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        credential_id = BlobField(unique=True)
        public_key = BlobField()
        sign_count = IntegerField(default=0, constraints=[Check("sign_count >= 0")])
        transports = CharField(default="", max_length=200)
        name = CharField(max_length=80)
        created_at = UTCDateTimeField()
        last_used_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "passkey"

    class PhoneCode(Model):
        phone = CharField(max_length=32, unique=True)
        salt = CharField(max_length=32)
        code_hash = CharField(max_length=64)
        tries = IntegerField(default=0, constraints=[Check("tries >= 0")])
        sends = IntegerField(default=1, constraints=[Check("sends >= 1")])
        created_at = UTCDateTimeField()
        expires_at = UTCDateTimeField(index=True)
        used_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "phone_code"

    db.create_tables([Identity, Passkey, PhoneCode])
    db.execute_sql("ALTER TABLE sign_in ADD COLUMN method VARCHAR(16)")


def down(migrator, db):
    db.execute_sql("ALTER TABLE sign_in DROP COLUMN method")
    for table in ("phone_code", "passkey", "identity"):
        migrator.migrate(migrator.drop_table(table))

"""Private ICS feeds of bookings (services/calendar/feeds.py): one per person, business
and scope, found by the SHA-256 of the token in its address."""

from peewee import *


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    class Organisation(Model):
        class Meta:
            database = db
            table_name = "organisation"

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class Provider(Model):
        class Meta:
            database = db
            table_name = "provider"

    class CalendarFeed(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
        scope = CharField(max_length=8, constraints=[Check("scope IN ('provider', 'business')")])
        provider = ForeignKeyField(Provider, null=True, on_delete="CASCADE")
        show_names = BooleanField(default=False)
        token_hash = CharField(unique=True, max_length=64)
        created_at = UTCDateTimeField()
        last_fetched_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "calendar_feed"
            constraints = [SQL("CHECK ((scope = 'provider') = (provider_id IS NOT NULL))")]
            indexes = ((("user", "organisation", "scope"), True),)

    db.create_tables([CalendarFeed])


def down(migrator, db):
    db.execute_sql("DROP TABLE calendar_feed")

"""The first schema: organisations, people, services, availability, bookings, API tokens.

Models are frozen copies, independent of models.py, as a migration must be.
"""

from peewee import *


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    class User(Model):
        email = CharField(unique=True, max_length=254, constraints=[Check("email = lower(email)")])
        name = CharField(max_length=200)
        phone = CharField(null=True, max_length=32)
        password_hash = CharField(null=True, max_length=200)
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "users"

    db.create_tables([User])

    class ApiToken(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        token_hash = CharField(unique=True, max_length=64)
        created_at = UTCDateTimeField()
        expires_at = UTCDateTimeField()
        revoked_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "api_token"

    db.create_tables([ApiToken])

    class Organisation(Model):
        slug = CharField(unique=True, max_length=64)
        name = CharField(max_length=200)
        timezone = CharField(max_length=64)
        currency = CharField(max_length=3, constraints=[Check("length(currency) = 3")])
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "organisation"

    db.create_tables([Organisation])

    class Service(Model):
        organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
        name = CharField(max_length=200)
        category = CharField(max_length=100, default="")
        description = TextField(default="")
        duration_minutes = IntegerField(constraints=[Check("duration_minutes > 0")])
        price_cents = IntegerField(constraints=[Check("price_cents >= 0")])
        buffer_before_minutes = IntegerField(
            default=0, constraints=[Check("buffer_before_minutes >= 0")]
        )
        buffer_after_minutes = IntegerField(
            default=0, constraints=[Check("buffer_after_minutes >= 0")]
        )
        min_notice_minutes = IntegerField(default=0, constraints=[Check("min_notice_minutes >= 0")])
        max_days_ahead = IntegerField(default=90, constraints=[Check("max_days_ahead >= 0")])
        cancellation_window_hours = IntegerField(
            default=24, constraints=[Check("cancellation_window_hours >= 0")]
        )
        active = BooleanField(default=True)

        class Meta:
            database = db
            table_name = "service"

    db.create_tables([Service])

    class Provider(Model):
        organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
        user = ForeignKeyField(User, unique=True, null=True, on_delete="SET NULL")
        name = CharField(max_length=200)
        active = BooleanField(default=True)

        class Meta:
            database = db
            table_name = "provider"

    db.create_tables([Provider])

    class Booking(Model):
        organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
        service = ForeignKeyField(Service)
        provider = ForeignKeyField(Provider)
        customer = ForeignKeyField(User, null=True, on_delete="SET NULL")
        start_at = UTCDateTimeField()
        end_at = UTCDateTimeField()
        block_start = UTCDateTimeField()
        block_end = UTCDateTimeField()
        status = CharField(
            max_length=16,
            default="confirmed",
            constraints=[Check("status IN ('confirmed', 'cancelled', 'completed', 'no_show')")],
        )
        price_cents = IntegerField(constraints=[Check("price_cents >= 0")])
        currency = CharField(max_length=3)
        created_at = UTCDateTimeField()
        cancelled_at = UTCDateTimeField(null=True)
        cancelled_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        cancel_reason = TextField(default="")
        rescheduled_from = ForeignKeyField("self", null=True)

        class Meta:
            database = db
            table_name = "booking"
            constraints = [
                SQL("CHECK (block_start <= start_at AND start_at < end_at AND end_at <= block_end)")
            ]
            indexes = ((("provider", "block_start"), False), (("customer", "start_at"), False))

    db.create_tables([Booking])

    class BookingEvent(Model):
        booking = ForeignKeyField(Booking, on_delete="CASCADE")
        actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
        action = CharField(max_length=32)
        detail = TextField(default="{}")
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "booking_event"

    db.create_tables([BookingEvent])

    class DateOverride(Model):
        provider = ForeignKeyField(Provider, on_delete="CASCADE")
        day = DateField()
        start_time = TimeField(null=True)
        end_time = TimeField(
            null=True,
            constraints=[
                Check(
                    "(start_time IS NULL AND end_time IS NULL) OR "
                    "(start_time IS NOT NULL AND end_time IS NOT NULL AND end_time > start_time)"
                )
            ],
        )

        class Meta:
            database = db
            table_name = "date_override"

    db.create_tables([DateOverride])

    class IdempotencyKey(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        key = CharField(max_length=200)
        request_hash = CharField(max_length=64)
        status_code = IntegerField()
        response_body = TextField()
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "idempotency_key"
            indexes = ((("user", "key"), True),)

    db.create_tables([IdempotencyKey])

    class Membership(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
        role = CharField(max_length=16, constraints=[Check("role IN ('owner', 'provider')")])

        class Meta:
            database = db
            table_name = "membership"
            indexes = ((("user", "organisation", "role"), True),)

    db.create_tables([Membership])

    class ServiceProvider(Model):
        service = ForeignKeyField(Service, on_delete="CASCADE")
        provider = ForeignKeyField(Provider, on_delete="CASCADE")

        class Meta:
            database = db
            table_name = "service_provider"
            primary_key = CompositeKey("service", "provider")

    db.create_tables([ServiceProvider])

    class TimeOff(Model):
        provider = ForeignKeyField(Provider, on_delete="CASCADE")
        start_at = UTCDateTimeField()
        end_at = UTCDateTimeField(constraints=[Check("end_at > start_at")])
        reason = CharField(max_length=200, default="")

        class Meta:
            database = db
            table_name = "time_off"

    db.create_tables([TimeOff])

    class WeeklyHours(Model):
        provider = ForeignKeyField(Provider, on_delete="CASCADE")
        weekday = IntegerField(constraints=[Check("weekday BETWEEN 0 AND 6")])
        start_time = TimeField()
        end_time = TimeField(constraints=[Check("end_time > start_time")])

        class Meta:
            database = db
            table_name = "weekly_hours"

    db.create_tables([WeeklyHours])

    if isinstance(db, PostgresqlDatabase):
        # The database itself refuses two live bookings that keep one provider busy at once.
        db.execute_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
        db.execute_sql(
            "ALTER TABLE booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist "
            "(provider_id WITH =, tstzrange(block_start, block_end, '[)') WITH &&) "
            "WHERE (status <> 'cancelled')"
        )


def down(migrator, db):
    migrator.migrate(migrator.drop_table("weekly_hours"))
    migrator.migrate(migrator.drop_table("time_off"))
    migrator.migrate(migrator.drop_table("service_provider"))
    migrator.migrate(migrator.drop_table("membership"))
    migrator.migrate(migrator.drop_table("idempotency_key"))
    migrator.migrate(migrator.drop_table("date_override"))
    migrator.migrate(migrator.drop_table("booking_event"))
    migrator.migrate(migrator.drop_table("booking"))
    migrator.migrate(migrator.drop_table("provider"))
    migrator.migrate(migrator.drop_table("service"))
    migrator.migrate(migrator.drop_table("organisation"))
    migrator.migrate(migrator.drop_table("api_token"))
    migrator.migrate(migrator.drop_table("users"))

"""Notifications: the outbox, web push devices, each person's choices, when an
organisation's customers are reminded, and a customer's own time zone."""

from peewee import *


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


CHANNELS = "'email', 'push', 'sms'"
KINDS = (
    "'confirmed', 'rescheduled', 'cancelled', 'reminder', "
    "'staff_new', 'staff_rescheduled', 'staff_cancelled'"
)
STATES = "'queued', 'sending', 'sent', 'failed', 'skipped'"


def up(migrator, db):
    # Plain SQL for the new columns: the migrator would rebuild tables on SQLite.
    db.execute_sql(
        "ALTER TABLE organisation ADD COLUMN reminder_hours VARCHAR(64) NOT NULL DEFAULT '24,2'"
    )
    db.execute_sql("ALTER TABLE users ADD COLUMN timezone VARCHAR(64)")

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

    class PushSubscription(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        endpoint = CharField(unique=True, max_length=1000)
        p256dh = CharField(max_length=200)
        auth = CharField(max_length=100)
        label = CharField(max_length=120, default="")
        created_at = UTCDateTimeField()
        last_success_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "push_subscription"

    class Notification(Model):
        organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
        booking = ForeignKeyField(Booking, on_delete="CASCADE")
        recipient = ForeignKeyField(User, on_delete="CASCADE")
        channel = CharField(max_length=8, constraints=[Check(f"channel IN ({CHANNELS})")])
        kind = CharField(max_length=24, constraints=[Check(f"kind IN ({KINDS})")])
        subscription = ForeignKeyField(PushSubscription, null=True, on_delete="SET NULL")
        dedup_key = CharField(unique=True, max_length=200)
        status = CharField(
            max_length=8, default="queued", constraints=[Check(f"status IN ({STATES})")]
        )
        attempts = IntegerField(default=0)
        last_error = TextField(default="")
        detail = TextField(default="{}")
        reminder_minutes = IntegerField(null=True)
        created_at = UTCDateTimeField()
        due_at = UTCDateTimeField()
        claimed_at = UTCDateTimeField(null=True)
        sent_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "notification"
            indexes = ((("booking", "created_at"), False),)
            constraints = [SQL("CHECK (attempts >= 0)")]

    class NotificationPrefs(Model):
        user = ForeignKeyField(User, unique=True, on_delete="CASCADE")
        email_reminders = BooleanField(default=True)
        push = BooleanField(default=True)
        sms = BooleanField(default=False)
        staff_email_new = BooleanField(default=True)
        staff_email_cancelled = BooleanField(default=True)
        staff_email_rescheduled = BooleanField(default=True)
        staff_push_new = BooleanField(default=True)
        staff_push_cancelled = BooleanField(default=True)
        staff_push_rescheduled = BooleanField(default=True)

        class Meta:
            database = db
            table_name = "notification_prefs"

    db.create_tables([PushSubscription, Notification, NotificationPrefs])
    # The sweep's two questions: which rows are waiting, which bookings are coming up.
    db.execute_sql(
        "CREATE INDEX notification_waiting ON notification (due_at) "
        "WHERE status IN ('queued', 'sending')"
    )
    db.execute_sql("CREATE INDEX booking_upcoming ON booking (start_at) WHERE status = 'confirmed'")
    db.execute_sql("CREATE INDEX notification_recipient ON notification (recipient_id)")


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS booking_upcoming")
    for table in ("notification_prefs", "notification", "push_subscription"):
        db.execute_sql(f"DROP TABLE IF EXISTS {table}")
    migrator.migrate(
        migrator.drop_column("users", "timezone"),
        migrator.drop_column("organisation", "reminder_hours"),
    )

"""Payments (services/payments): what a service asks online, a business's Stripe keys,
bookings held while their payment is pending, payments, refunds and handled events.

booking.status gains 'pending_payment' and 'expired'; notification.kind gains
'payment_refunded' (a payment that came too late, given back). An expired hold, like a
cancelled booking, no longer keeps its provider busy: on PostgreSQL the exclusion
constraint booking_no_overlap is made again with both in its WHERE. SQLite cannot
alter a CHECK, so the widened one is written into the schema text (the documented
procedure for changes that leave the stored rows valid: every row already passes it).
"""

from peewee import *
from peewee import PostgresqlDatabase

OLD_STATUSES = "'confirmed', 'cancelled', 'completed', 'no_show'"
NEW_STATUSES = OLD_STATUSES + ", 'pending_payment', 'expired'"
OLD_KINDS = (
    "'confirmed', 'rescheduled', 'cancelled', 'reminder', "
    "'staff_new', 'staff_rescheduled', 'staff_cancelled'"
)
NEW_KINDS = OLD_KINDS + ", 'payment_refunded'"


class UTCDateTimeField(Field):
    field_type = "TIMESTAMPTZ"


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    for sql in (
        "ALTER TABLE organisation ADD COLUMN stripe_publishable_key VARCHAR(255)",
        "ALTER TABLE organisation ADD COLUMN stripe_secret_key TEXT",
        "ALTER TABLE organisation ADD COLUMN stripe_webhook_secret TEXT",
        "ALTER TABLE service ADD COLUMN payment_mode VARCHAR(8) NOT NULL DEFAULT 'none'"
        " CHECK (payment_mode IN ('none', 'deposit', 'full'))",
        "ALTER TABLE service ADD COLUMN deposit_cents INTEGER CHECK (deposit_cents > 0)",
        "ALTER TABLE service ADD COLUMN deposit_percent INTEGER"
        " CHECK (deposit_percent BETWEEN 1 AND 100)",
        "ALTER TABLE service ADD COLUMN late_cancel_refund_percent INTEGER NOT NULL DEFAULT 0"
        " CHECK (late_cancel_refund_percent BETWEEN 0 AND 100)",
        "ALTER TABLE booking ADD COLUMN hold_expires_at TIMESTAMPTZ",
    ):
        db.execute_sql(sql)
    _widen(db, postgres, "booking", "status", OLD_STATUSES, NEW_STATUSES)
    _widen(db, postgres, "notification", "kind", OLD_KINDS, NEW_KINDS)
    if postgres:
        db.execute_sql("ALTER TABLE booking DROP CONSTRAINT booking_no_overlap")
        db.execute_sql(
            "ALTER TABLE booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist "
            "(provider_id WITH =, tstzrange(block_start, block_end, '[)') WITH &&) "
            "WHERE (status NOT IN ('cancelled', 'expired'))"
        )
    # The sweep of expired holds: pending bookings by expiry.
    db.execute_sql(
        "CREATE INDEX booking_hold_expires ON booking (hold_expires_at)"
        " WHERE status = 'pending_payment'"
    )

    class Organisation(Model):
        class Meta:
            database = db
            table_name = "organisation"

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class Booking(Model):
        class Meta:
            database = db
            table_name = "booking"

    class Payment(Model):
        booking = ForeignKeyField(Booking, on_delete="CASCADE")
        organisation = ForeignKeyField(Organisation, on_delete="CASCADE", index=False)
        kind = CharField(
            max_length=8, constraints=[Check("kind IN ('deposit', 'full', 'cash', 'terminal')")]
        )
        intent_id = CharField(null=True, unique=True, max_length=255)
        client_secret = TextField(null=True)
        amount_cents = IntegerField(constraints=[Check("amount_cents > 0")])
        currency = CharField(max_length=3)
        status = CharField(
            max_length=20,
            constraints=[
                Check(
                    "status IN ('requires_payment', 'succeeded', 'partially_refunded',"
                    " 'refunded', 'canceled')"
                )
            ],
        )
        refunded_cents = IntegerField(
            default=0,
            constraints=[Check("refunded_cents >= 0 AND refunded_cents <= amount_cents")],
        )
        card_brand = CharField(null=True, max_length=32)
        card_last4 = CharField(null=True, max_length=4)
        last_error = TextField(default="")
        paid_at = UTCDateTimeField(null=True)
        recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "payment"
            indexes = ((("organisation", "paid_at"), False),)

    class PaymentRefund(Model):
        payment = ForeignKeyField(Payment, on_delete="CASCADE")
        key = CharField(unique=True, max_length=120)
        stripe_id = CharField(null=True, unique=True, max_length=255)
        amount_cents = IntegerField(constraints=[Check("amount_cents > 0")])
        status = CharField(
            max_length=10, constraints=[Check("status IN ('pending', 'succeeded', 'failed')")]
        )
        reason = CharField(max_length=32)
        actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "payment_refund"

    class StripeEvent(Model):
        event_id = CharField(primary_key=True, max_length=255)
        type = CharField(max_length=64)
        received_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "stripe_event"

    db.create_tables([Payment, PaymentRefund, StripeEvent])


def _widen(db, postgres, table, column, old, new):
    """Make ``column IN (old)`` the CHECK ``column IN (new)`` on ``table``."""
    if postgres:
        (name,) = db.execute_sql(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass"
            " AND contype = 'c' AND pg_get_constraintdef(oid) LIKE %s",
            (table, f"%{column}%{old.split(',')[0]}%"),
        ).fetchone()
        db.execute_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        db.execute_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} IN ({new}))")
        return
    (sql,) = db.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    if f"{column} IN ({old})" not in sql:
        raise RuntimeError(f"{table}.{column}'s CHECK is not the one this migration knows")
    (version,) = db.execute_sql("PRAGMA schema_version").fetchone()
    db.execute_sql("PRAGMA writable_schema = ON")
    try:
        db.execute_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (sql.replace(f"{column} IN ({old})", f"{column} IN ({new})"), table),
        )
        db.execute_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        db.execute_sql("PRAGMA writable_schema = OFF")
    (check,) = db.execute_sql("PRAGMA integrity_check").fetchone()
    if check != "ok":
        raise RuntimeError(f"integrity check after widening {table}.{column}: {check}")


def down(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    db.execute_sql("DROP TABLE stripe_event")
    db.execute_sql("DROP TABLE payment_refund")
    db.execute_sql("DROP TABLE payment")
    db.execute_sql("DROP INDEX booking_hold_expires")
    db.execute_sql(
        "UPDATE booking SET status = 'cancelled' WHERE status IN ('pending_payment', 'expired')"
    )
    if postgres:
        db.execute_sql("ALTER TABLE booking DROP CONSTRAINT booking_no_overlap")
        db.execute_sql(
            "ALTER TABLE booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist "
            "(provider_id WITH =, tstzrange(block_start, block_end, '[)') WITH &&) "
            "WHERE (status <> 'cancelled')"
        )
    db.execute_sql("DELETE FROM notification WHERE kind = 'payment_refunded'")
    _widen(db, postgres, "notification", "kind", NEW_KINDS, OLD_KINDS)
    _widen(db, postgres, "booking", "status", NEW_STATUSES, OLD_STATUSES)
    for table, column in (
        ("booking", "hold_expires_at"),
        ("service", "late_cancel_refund_percent"),
        ("service", "deposit_percent"),
        ("service", "deposit_cents"),
        ("service", "payment_mode"),
        ("organisation", "stripe_webhook_secret"),
        ("organisation", "stripe_secret_key"),
        ("organisation", "stripe_publishable_key"),
    ):
        if postgres:
            db.execute_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            migrator.migrate(migrator.drop_column(table, column, legacy=True))

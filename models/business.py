"""The business side: organisations, people and their roles, providers, services, hours."""

from __future__ import annotations

from flask_login import UserMixin
from peewee import (
    BigIntegerField,
    BlobField,
    BooleanField,
    CharField,
    Check,
    CompositeKey,
    DateField,
    ForeignKeyField,
    IntegerField,
    ModelIndex,
    TextField,
    TimeField,
)

from models.base import BaseModel, UTCDateTimeField, utcnow
from models.encrypted import EncryptedTextField


class Organisation(BaseModel):
    slug = CharField(unique=True, max_length=64)
    name = CharField(max_length=200)
    timezone = CharField(max_length=64)
    currency = CharField(max_length=3, constraints=[Check("length(currency) = 3")])
    created_at = UTCDateTimeField(default=utcnow)
    booking_intro = TextField(default="")  # shown at the top of the public booking page
    logo = BlobField(null=True)  # a small PNG, JPEG or WebP (never SVG), served from the database
    logo_type = CharField(null=True, max_length=32)
    # What pages need to show the logo without reading it (0022): the hash that versions
    # its address, and its size in pixels.
    logo_version = CharField(null=True, max_length=20)
    logo_width = IntegerField(
        null=True, constraints=[Check("logo_width IS NULL OR logo_width > 0")]
    )
    logo_height = IntegerField(
        null=True, constraints=[Check("logo_height IS NULL OR logo_height > 0")]
    )
    # When customers are reminded: hours before the start, largest first ("24,2").
    reminder_hours = CharField(max_length=64, default="24,2")
    # What one customer may book for themselves here (0008); staff booking for them may exceed it.
    max_future_bookings = IntegerField(default=10, constraints=[Check("max_future_bookings >= 1")])
    max_bookings_per_day = IntegerField(default=2, constraints=[Check("max_bookings_per_day >= 1")])
    # For how many months after a booking its customer's details are kept (0012); then
    # services/privacy/retention.py anonymises them.
    retention_months = IntegerField(
        default=24, constraints=[Check("retention_months BETWEEN 1 AND 120")]
    )
    # The business's own Stripe account (0015; services/payments/gateway.py). The secret
    # key and the webhook's signing secret are encrypted at rest and never shown again.
    stripe_publishable_key = CharField(null=True, max_length=255)
    stripe_secret_key = EncryptedTextField(null=True)
    stripe_webhook_secret = EncryptedTextField(null=True)
    # How customers reach the business (0020; services/contact.py): empty when not given.
    address = TextField(default="", constraints=[Check("length(address) <= 300")])
    phone = CharField(
        max_length=32, default="", constraints=[Check("phone = '' OR substr(phone, 1, 1) = '+'")]
    )
    email = CharField(max_length=254, default="", constraints=[Check("email = lower(email)")])
    website = CharField(
        max_length=300,
        default="",
        constraints=[
            Check(
                "website = '' OR substr(website, 1, 7) = 'http://' OR substr(website, 1, 8) = 'https://'"
            )
        ],
    )
    directions = TextField(default="", constraints=[Check("length(directions) <= 500")])
    # When its first set-up was finished or left (0021; services/workspace/setup.py).
    setup_done_at = UTCDateTimeField(null=True)


class User(UserMixin, BaseModel):
    """Somebody with a Kairos account, or a customer an organisation's staff entered at
    the desk (a walk-in or a phone call): a record *kept by that organisation*
    (``organisation`` set), holding only what the person gave that business.

    A record is never an account: it has no password, never signs in, and its email
    is unique only within its organisation (accounts' emails are unique among
    accounts). ``by_email`` finds accounts only. The person can add a record's bookings
    to their account through a link emailed to the record (services/accounts/claims.py);
    ``claimed_by`` is then that account."""

    # Unique by the partial indexes below, not on the column (migration 0009).
    email = CharField(null=True, max_length=254, constraints=[Check("email = lower(email)")])
    name = CharField(max_length=200)
    phone = CharField(null=True, max_length=32)
    timezone = CharField(null=True, max_length=64)  # the customer's, when their browser told us
    password_hash = CharField(null=True, max_length=200)
    # When the password was last set, reset or added after sign-up (0025); NULL: with the account.
    password_set_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    organisation = ForeignKeyField(
        Organisation,
        null=True,
        backref="customer_records",
        on_delete="CASCADE",
        index=False,  # users_record_email leads with it
        constraints=[Check("organisation_id IS NULL OR password_hash IS NULL")],
    )
    claimed_by = ForeignKeyField(
        "self",
        null=True,
        backref="claimed_records",
        on_delete="SET NULL",
        index=False,  # users_claimed_by, partial
        constraints=[Check("claimed_by_id IS NULL OR organisation_id IS NOT NULL")],
    )

    class Meta:
        table_name = "users"

    @property
    def is_record(self) -> bool:
        """Kept by an organisation, not a Kairos account."""
        return self.organisation_id is not None

    @property
    def is_active(self) -> bool:  # flask-login: a record can never have a session
        return not self.is_record

    # The key of the sign-in this user was loaded through or has just started
    # (services/accounts/sessions.py); None for a user read any other way.
    sign_in_key: str | None = None

    def get_id(self) -> str:
        """What flask-login keeps in the session and the remember cookie: the sign-in's
        key, never the user's id, so that ending the sign-in ends every cookie with it."""
        if not self.sign_in_key:
            raise RuntimeError("No sign-in: sign in with views.support.start_session.")
        return self.sign_in_key

    # Users are equal when they are the same row, as other models (not by get_id, as
    # UserMixin would have it: two sign-ins of one person are one user).
    __eq__, __ne__, __hash__ = BaseModel.__eq__, BaseModel.__ne__, BaseModel.__hash__

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    @classmethod
    def by_email(cls, email: str) -> User | None:
        """The account with this email; never an organisation's record."""
        return cls.get_or_none(
            (cls.email == cls.normalise_email(email)) & cls.organisation.is_null()
        )


# Accounts: one per email. Records: one per email within their organisation (migration
# 0009). The CHECK keeps emails lower-case, so the plain column is the case-blind key.
User.add_index(
    ModelIndex(
        User,
        (User.email,),
        unique=True,
        where=User.organisation.is_null(),
        name="users_account_email",
    )
)
User.add_index(
    ModelIndex(
        User,
        (User.organisation, User.email),
        unique=True,
        where=User.organisation.is_null(False),
        name="users_record_email",
    )
)
User.add_index(
    ModelIndex(
        User, (User.claimed_by,), where=User.claimed_by.is_null(False), name="users_claimed_by"
    )
)
ROLES = ("owner", "provider")


class Membership(BaseModel):
    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    organisation = ForeignKeyField(Organisation, backref="memberships", on_delete="CASCADE")
    role = CharField(max_length=16, constraints=[Check("role IN ('owner', 'provider')")])

    class Meta:
        indexes = ((("user", "organisation", "role"), True),)


class Provider(BaseModel):
    organisation = ForeignKeyField(Organisation, backref="providers", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, unique=True, on_delete="SET NULL")
    name = CharField(max_length=200)
    active = BooleanField(default=True)
    # Changed by database triggers when bookings, time off or hours change (migration 0004).
    calendar_version = BigIntegerField(default=0)
    # Changed by database triggers when hours, overrides or time off change (0006).
    hours_version = BigIntegerField(default=0)


class Service(BaseModel):
    organisation = ForeignKeyField(Organisation, backref="services", on_delete="CASCADE")
    name = CharField(max_length=200)
    category = CharField(max_length=100, default="")
    description = TextField(default="")
    duration_minutes = IntegerField(constraints=[Check("duration_minutes > 0")])
    price_cents = IntegerField(constraints=[Check("price_cents >= 0")])
    buffer_before_minutes = IntegerField(
        default=0, constraints=[Check("buffer_before_minutes >= 0")]
    )
    buffer_after_minutes = IntegerField(default=0, constraints=[Check("buffer_after_minutes >= 0")])
    min_notice_minutes = IntegerField(default=0, constraints=[Check("min_notice_minutes >= 0")])
    max_days_ahead = IntegerField(default=90, constraints=[Check("max_days_ahead >= 0")])
    cancellation_window_hours = IntegerField(
        default=24, constraints=[Check("cancellation_window_hours >= 0")]
    )
    active = BooleanField(default=True)
    # What is paid online when booking (0015; services/payments/policy.py): nothing, a
    # deposit (a fixed amount or a percentage of the price), or the full price.
    payment_mode = CharField(
        max_length=8,
        default="none",
        constraints=[Check("payment_mode IN ('none', 'deposit', 'full')")],
    )
    deposit_cents = IntegerField(null=True, constraints=[Check("deposit_cents > 0")])
    deposit_percent = IntegerField(
        null=True, constraints=[Check("deposit_percent BETWEEN 1 AND 100")]
    )
    # Of what was paid online, the share a customer cancelling inside the cancellation
    # window gets back (0: a deposit or prepayment is kept).
    late_cancel_refund_percent = IntegerField(
        default=0, constraints=[Check("late_cancel_refund_percent BETWEEN 0 AND 100")]
    )


class ServiceProvider(BaseModel):
    service = ForeignKeyField(Service, backref="offered_by", on_delete="CASCADE")
    provider = ForeignKeyField(Provider, backref="offers", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("service", "provider")


class WeeklyHours(BaseModel):
    """Working hours on a weekday (0 = Monday), in the organisation's wall-clock time."""

    provider = ForeignKeyField(Provider, backref="weekly_hours", on_delete="CASCADE")
    weekday = IntegerField(constraints=[Check("weekday BETWEEN 0 AND 6")])
    start_time = TimeField()
    end_time = TimeField(constraints=[Check("end_time > start_time")])


class DateOverride(BaseModel):
    """Hours on one local date that replace the weekly ones; a row without times closes the day."""

    provider = ForeignKeyField(Provider, backref="overrides", on_delete="CASCADE")
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


class TimeOff(BaseModel):
    provider = ForeignKeyField(Provider, backref="time_off", on_delete="CASCADE")
    start_at = UTCDateTimeField()
    end_at = UTCDateTimeField(constraints=[Check("end_at > start_at")])
    reason = CharField(max_length=200, default="")


class Invitation(BaseModel):
    """An owner's invitation to join as a provider: a single-use emailed link that expires.

    Only the token's SHA-256 is stored; the link in the email is the only copy of it.
    """

    organisation = ForeignKeyField(Organisation, backref="invitations", on_delete="CASCADE")
    email = CharField(max_length=254, constraints=[Check("email = lower(email)")])
    name = CharField(max_length=200)
    token_hash = CharField(unique=True, max_length=64)
    invited_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    accepted_at = UTCDateTimeField(null=True)
    accepted_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("organisation", "email"), False),)

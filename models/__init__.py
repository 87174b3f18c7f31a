"""Peewee models, the database proxy, and small query helpers.

Split by what the tables are about; everything is imported from ``models`` itself.
"""

from models.audit import AuditEntry
from models.base import (
    SQLITE_PRAGMAS,
    BaseModel,
    Prepared,
    UnsafeSamples,
    UTCDateTimeField,
    db,
    is_sqlite,
    locked,
    open_database,
    release_connection,
    utcnow,
    writing,
)
from models.bookings import FREED, Booking, BookingEvent, BookingStatus, Note
from models.business import (
    ROLES,
    DateOverride,
    Invitation,
    Membership,
    Organisation,
    Provider,
    Service,
    ServiceProvider,
    TimeOff,
    User,
    WeeklyHours,
)
from models.calendar import FEED_SCOPES, CalendarFeed
from models.calendar_import import BusyBlock, CalendarPush, ExternalCalendar
from models.encrypted import EncryptedTextField
from models.identities import PROVIDERS, Identity, Passkey, PhoneCode
from models.notifications import (
    CHANNELS,
    KINDS,
    Notification,
    NotificationPrefs,
    PushSubscription,
)
from models.passkey_challenges import PasskeyChallenge
from models.payments import Payment, PaymentRefund, StripeEvent
from models.ratelimits import RateLimit
from models.sessions import SignIn
from models.signups import PendingSignUp
from models.tokens import AccountToken, ApiToken, IdempotencyKey

ALL_MODELS = [
    Organisation,
    User,
    Membership,
    Provider,
    Service,
    ServiceProvider,
    WeeklyHours,
    DateOverride,
    TimeOff,
    Booking,
    BookingEvent,
    Note,
    Invitation,
    ApiToken,
    IdempotencyKey,
    AccountToken,
    SignIn,
    PushSubscription,
    Notification,
    NotificationPrefs,
    PendingSignUp,
    AuditEntry,
    RateLimit,
    Payment,
    PaymentRefund,
    StripeEvent,
    CalendarFeed,
    ExternalCalendar,
    BusyBlock,
    CalendarPush,
    Identity,
    Passkey,
    PhoneCode,
    PasskeyChallenge,
]

__all__ = [
    "ALL_MODELS",
    "CHANNELS",
    "FEED_SCOPES",
    "FREED",
    "KINDS",
    "PROVIDERS",
    "ROLES",
    "SQLITE_PRAGMAS",
    "AccountToken",
    "ApiToken",
    "AuditEntry",
    "BaseModel",
    "Booking",
    "BookingEvent",
    "BookingStatus",
    "BusyBlock",
    "CalendarFeed",
    "CalendarPush",
    "DateOverride",
    "EncryptedTextField",
    "ExternalCalendar",
    "IdempotencyKey",
    "Identity",
    "Invitation",
    "Membership",
    "Note",
    "Notification",
    "NotificationPrefs",
    "Organisation",
    "Passkey",
    "PasskeyChallenge",
    "Payment",
    "PaymentRefund",
    "PendingSignUp",
    "PhoneCode",
    "Prepared",
    "Provider",
    "PushSubscription",
    "RateLimit",
    "Service",
    "ServiceProvider",
    "SignIn",
    "StripeEvent",
    "TimeOff",
    "UTCDateTimeField",
    "UnsafeSamples",
    "User",
    "WeeklyHours",
    "db",
    "is_sqlite",
    "locked",
    "open_database",
    "release_connection",
    "utcnow",
    "writing",
]

"""Calendars a provider imports busy time from (an ICS address, or a two-way CalDAV,
Google or Microsoft connection that Kairos also writes its bookings to), the busy blocks
read from them, and the outbox of bookings still to be written.

Only the times are kept: an event's title, place and people stay in the provider's own
calendar (a block shows as "busy"). Blocks belong to their calendar and go with it.
"""

from __future__ import annotations

from peewee import BooleanField, CharField, Check, ForeignKeyField, IntegerField, TextField

from models.base import BaseModel, UTCDateTimeField
from models.bookings import Booking
from models.business import Provider
from models.encrypted import EncryptedTextField

KIND_CHECK = "kind IN ('ics', 'caldav', 'google', 'microsoft')"


class ExternalCalendar(BaseModel):
    provider = ForeignKeyField(Provider, backref="external_calendars", on_delete="CASCADE")
    kind = CharField(max_length=16, default="ics", constraints=[Check(KIND_CHECK)])
    url = TextField()
    # The validators of the last full answer, sent back for a conditional GET.
    etag = TextField(null=True)
    last_modified = TextField(null=True)
    status = CharField(
        max_length=8, default="new", constraints=[Check("status IN ('new', 'ok', 'error')")]
    )
    last_synced_at = UTCDateTimeField(null=True)  # the last success
    last_error = TextField(null=True)
    failures = IntegerField(default=0)  # in a row, for the backoff
    next_try_at = UTCDateTimeField(index=True)
    created_at = UTCDateTimeField()
    # Two-way connections (0019): what to show them as, and how to reach them.
    name = TextField(null=True)
    username = TextField(null=True)  # CalDAV
    secret = EncryptedTextField(null=True)  # CalDAV app password, or OAuth refresh token
    access_token = EncryptedTextField(null=True)  # OAuth, until access_expires_at
    access_expires_at = UTCDateTimeField(null=True)
    remote_id = TextField(null=True)  # Google's or Microsoft's id of the calendar
    sync_token = TextField(null=True)  # CalDAV sync-token, Google syncToken, Graph delta link
    full_read_at = UTCDateTimeField(null=True)  # everything read, not only changes
    reconnect = BooleanField(default=False)  # consent revoked: the provider must connect again
    show_names = BooleanField(default=False)  # customers' names in the events written there

    @property
    def two_way(self) -> bool:
        return self.kind != "ics"


class BusyBlock(BaseModel):
    calendar = ForeignKeyField(ExternalCalendar, backref="blocks", on_delete="CASCADE")
    provider = ForeignKeyField(Provider, on_delete="CASCADE")
    start_at = UTCDateTimeField()
    end_at = UTCDateTimeField(constraints=[Check("end_at > start_at")])
    uid = TextField(default="")  # the event's UID, to tell instances apart when debugging

    class Meta:
        indexes = ((("provider", "start_at"), False),)


class CalendarPush(BaseModel):
    """An appointment to write to a two-way calendar (or take out of it): written in
    the booking change's transaction, removed once the calendar has it. ``booking`` is
    the first booking of its reschedule chain; where it is now is looked up when sent."""

    calendar = ForeignKeyField(ExternalCalendar, backref="pushes", on_delete="CASCADE")
    booking = ForeignKeyField(Booking, on_delete="CASCADE")
    changes = IntegerField(default=1)  # how many came since it was written
    attempts = IntegerField(default=0)
    next_try_at = UTCDateTimeField(index=True)
    last_error = TextField(null=True)
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("calendar", "booking"), True),)

"""Calendars a provider imports busy time from, and the busy blocks read from them.

Only the times are kept: an event's title, place and people stay in the provider's own
calendar (a block shows as "busy"). Blocks belong to their calendar and go with it.
"""

from __future__ import annotations

from peewee import CharField, Check, ForeignKeyField, IntegerField, TextField

from models.base import BaseModel, UTCDateTimeField
from models.business import Provider

# Only ICS addresses so far; the schema already admits the two-way kinds to come.
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


class BusyBlock(BaseModel):
    calendar = ForeignKeyField(ExternalCalendar, backref="blocks", on_delete="CASCADE")
    provider = ForeignKeyField(Provider, on_delete="CASCADE")
    start_at = UTCDateTimeField()
    end_at = UTCDateTimeField(constraints=[Check("end_at > start_at")])
    uid = TextField(default="")  # the event's UID, to tell instances apart when debugging

    class Meta:
        indexes = ((("provider", "start_at"), False),)

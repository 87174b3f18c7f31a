"""Calendars outside Kairos: the private ICS feeds a provider or owner subscribes to
(services/calendar/feeds.py)."""

from __future__ import annotations

from peewee import SQL, BooleanField, CharField, Check, ForeignKeyField

from models.base import BaseModel, UTCDateTimeField, utcnow
from models.business import Organisation, Provider, User

FEED_SCOPES = ("provider", "business")


class CalendarFeed(BaseModel):
    """A private feed at /cal/<token>.ics: one provider's bookings ('provider') or the
    whole business's ('business', owners only). Only the token's SHA-256 is stored, so
    the address in the person's calendar app is the only copy of it; making a new one
    replaces the hash and the old address stops working."""

    user = ForeignKeyField(User, backref="calendar_feeds", on_delete="CASCADE")
    organisation = ForeignKeyField(Organisation, backref="calendar_feeds", on_delete="CASCADE")
    scope = CharField(max_length=8, constraints=[Check("scope IN ('provider', 'business')")])
    provider = ForeignKeyField(Provider, null=True, backref="calendar_feeds", on_delete="CASCADE")
    show_names = BooleanField(default=False)
    token_hash = CharField(unique=True, max_length=64)
    created_at = UTCDateTimeField(default=utcnow)
    last_fetched_at = UTCDateTimeField(null=True)

    class Meta:
        constraints = [SQL("CHECK ((scope = 'provider') = (provider_id IS NOT NULL))")]
        indexes = ((("user", "organisation", "scope"), True),)

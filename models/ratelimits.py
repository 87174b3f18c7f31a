"""Rate-limit counters kept in the database (services/ratelimits), when there is no Redis."""

from __future__ import annotations

from peewee import CharField, DoubleField

from models.base import BaseModel


class RateLimit(BaseModel):
    """One counter: the "theoretical arrival time" of the generic cell rate algorithm, in
    seconds since the epoch. A row whose ``tat`` has passed counts for nothing (purged)."""

    bucket = CharField(primary_key=True, max_length=80)  # "<limit>:<hash of the key>"
    tat = DoubleField()
    period = DoubleField()  # the limit's period, in seconds: how far ahead tat may go

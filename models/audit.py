"""The audit log: what staff and owners did in their business, kept for the owner.

Append-only (migration 0011): the database refuses to change or delete an entry, with
two exceptions that its foreign keys need. When the person who acted is deleted, their
entries keep the name they had (``actor_name``) and lose only the link; when the whole
organisation is deleted, its entries go with it.
"""

from __future__ import annotations

import json

from peewee import BigIntegerField, CharField, Check, ForeignKeyField, TextField

from models.base import BaseModel, UTCDateTimeField, utcnow
from models.business import Organisation, User


class AuditEntry(BaseModel):
    organisation = ForeignKeyField(Organisation, backref="+", on_delete="CASCADE")
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    actor_name = CharField(max_length=200)  # as it was then
    action = CharField(max_length=40)  # "services.created": services/audit.py ACTIONS
    subject_type = CharField(max_length=24, default="")  # "booking", "service" ...
    subject_id = BigIntegerField(null=True)
    summary = TextField(constraints=[Check("length(summary) BETWEEN 1 AND 500")])
    # JSON: what changed (before/after of settings, counts ...); never a secret.
    detail = TextField(default="{}", constraints=[Check("length(detail) <= 4000")])
    ip = CharField(max_length=45, null=True)  # where the request came from, when known
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "audit_entry"
        # The page: an organisation's entries newest first, optionally by one person.
        indexes = ((("organisation", "id"), False), (("organisation", "actor", "id"), False))

    @property
    def details(self) -> dict:
        return json.loads(self.detail or "{}")

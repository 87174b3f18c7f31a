"""The owner's Audit log page: what the business's staff and owners did, newest first,
a page at a time, by person and by kind of action. The entries are written by the
services that make the changes (services/audit.py)."""

from __future__ import annotations

from dataclasses import dataclass

from models import AuditEntry, Organisation, User
from services.audit import ACTIONS, KINDS, kind_of
from services.errors import Invalid
from services.validation import LARGEST_INT

PAGE_SIZE = 30


@dataclass(frozen=True)
class Filters:
    person: int | None = None  # the user who acted
    kind: str | None = None  # a key of services.audit.KINDS
    before: int | None = None  # only entries older than this one (its id): the next page

    def args(self, **changes: object) -> dict:
        """As the page's query string has them (None: left out)."""
        values = {"person": self.person, "kind": self.kind, "before": self.before} | changes
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class LogPage:
    entries: list[AuditEntry]
    older: int | None  # ``before`` for the next page; None when these are the oldest


def filters_from(person: str | None, kind: str | None, before: str | None) -> Filters:
    """The filters as typed into the query string; Invalid names the ones that are not."""
    problems = {}
    chosen = {"person": _id(person), "kind": (kind or "").strip() or None, "before": _id(before)}
    if chosen["person"] == 0:
        problems["person"] = "Choose someone from the list."
    if chosen["kind"] is not None and chosen["kind"] not in KINDS:
        problems["kind"] = "Choose a kind of action from the list."
    if chosen["before"] == 0:
        problems["before"] = "That page does not exist: start from the newest entries."
    if problems:
        raise Invalid(problems)
    return Filters(**chosen)


def _id(text: str | None) -> int | None:
    """None when empty, 0 when not an id."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 19 and 0 < int(text) <= LARGEST_INT:
        return int(text)
    return 0


def log_page(org: Organisation, filters: Filters, size: int = PAGE_SIZE) -> LogPage:
    """Up to ``size`` of ``org``'s entries matching ``filters``, newest first."""
    query = AuditEntry.select().where(AuditEntry.organisation == org.id)
    if filters.person is not None:
        query = query.where(AuditEntry.actor == filters.person)
    if filters.kind is not None:
        query = query.where(AuditEntry.action.in_(sorted(actions_of(filters.kind))))
    if filters.before is not None:
        query = query.where(AuditEntry.id < filters.before)
    found = list(query.order_by(AuditEntry.id.desc()).limit(size + 1))
    return LogPage(found[:size], found[size - 1].id if len(found) > size else None)


def actions_of(kind: str) -> set[str]:
    return {action for action in ACTIONS if kind_of(action) == kind}


def people(org: Organisation) -> list[User]:
    """Everyone with an entry in ``org``'s log who still has an account, by name."""
    acted = AuditEntry.select(AuditEntry.actor).where(AuditEntry.organisation == org.id)
    return list(
        User.select(User.id, User.name).where(User.id.in_(acted)).order_by(User.name, User.id)
    )

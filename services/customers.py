"""The business's customers as the staff see them: finding one, and their record."""

from __future__ import annotations

from peewee import fn

from models import User
from services.policy import Staff

SEARCH_LIMIT = 20


def search(staff: Staff, text: str, limit: int = SEARCH_LIMIT) -> list[User]:
    """Customers the staff member may see whose name, email or phone contains ``text``
    (any case; a phone matches on its digits, so "07700 900" finds +447700900123).
    An empty search lists them by name."""
    query = staff.customers()
    words = text.split()
    for word in words:
        digits = "".join(c for c in word if c.isdigit())
        matches = User.name.contains(word) | User.email.contains(word)  # any case, % escaped
        if len(digits) >= 3:
            # "07700" typed the national way matches "+447700…": drop a leading 0.
            matches |= User.phone.contains(digits.removeprefix("0"))
        query = query.where(matches)
    return list(query.order_by(fn.LOWER(User.name), User.id).limit(limit))

"""Where a person lands after signing in when they asked for no page: the one rule.

Staff (an owner or a provider) land on their business's workspace, on today's schedule;
someone who is staff in several businesses, on the first of them by name. Everybody else
lands on their own appointments (the views turn the answer into an address)."""

from __future__ import annotations

from models import Membership, Organisation


def staff_workspaces(user_id: int):
    """The organisations the user is staff of, by name (a query)."""
    return (
        Organisation.select(Organisation.slug, Organisation.name)
        .join(Membership)
        .where(Membership.user == user_id)
        .distinct()
        .order_by(Organisation.name, Organisation.slug)
    )


def landing_for(user_id: int) -> str | None:
    """The slug of the workspace the user lands on after signing in; None for a
    customer, who lands on their appointments."""
    first = staff_workspaces(user_id).first()
    return first.slug if first else None

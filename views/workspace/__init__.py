"""The provider and owner workspace, tablet first, under /w/<slug>.

One blueprint, one module per part of it. Every route goes through ``staff_only`` (any
member of the organisation's staff) or ``owner_only``; what a provider may see inside a
page is decided by services/access.py, never by ifs in the views.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, request
from flask_login import current_user, login_required

from services import access
from services.audit import requested_from
from services.errors import Forbidden

bp = Blueprint("workspace", __name__, url_prefix="/w/<slug>")


def staff_only(view):
    """Signed-in staff of this organisation only: others are sent to sign in (anonymous)
    or refused (403); an organisation that does not exist is not found (404).
    The view gets ``g.staff`` (services.access.Staff) instead of the slug; what it
    changes is logged (services/audit.py) with the address the request came from."""

    @wraps(view)
    @login_required
    def wrapper(slug: str, **kwargs):
        g.staff = access.staff_of(current_user.id, slug)
        with requested_from(request.remote_addr):
            return view(**kwargs)

    return wrapper


def owner_only(view):
    """As staff_only, and the signed-in user must own the business (else 403)."""

    @wraps(view)
    def wrapper(**kwargs):
        if not g.staff.is_owner:
            raise Forbidden("Only the business's owner can do this.")
        return view(**kwargs)

    return staff_only(wrapper)


# (module, endpoint, label, owner only): the tabs, in order. A tab appears once its view exists.
TABS = [
    ("dashboard", "workspace.dashboard", "Today", False),
    ("schedule", "workspace.day", "Schedule", False),
    ("customers", "workspace.customers", "Customers", False),
    ("availability", "workspace.availability", "Availability", False),
    ("calendar", "workspace.calendar_feed", "Calendar feed", False),
    ("services", "workspace.services", "Services", True),
    ("staff", "workspace.staff", "Staff", True),
    ("settings", "workspace.settings", "Settings", True),
    ("audit", "workspace.audit", "Audit log", True),
]


@bp.app_context_processor
def tabs() -> dict:
    return {"workspace_tabs": TABS, "workspace_section": _section}


# Modules whose pages belong under another module's tab.
PART_OF = {
    "calendars": "availability",
    "bookings": "schedule",
    "desk": "schedule",
    "join": "staff",
    "payments": "settings",
    "setup": "dashboard",
}


def _section() -> str | None:
    """The part of the workspace the current page belongs to: its view's module."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return None
    module = view.__module__.rpartition(".")[2]
    return PART_OF.get(module, module)


# The parts of the workspace register their routes on bp when imported.
from views.workspace import (  # noqa: E402, F401
    audit,
    availability,
    bookings,
    calendar,
    calendars,
    customers,
    dashboard,
    desk,
    join,
    payments,
    schedule,
    services,
    settings,
    setup,
    staff,
)

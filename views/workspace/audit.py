"""The owner's Audit log: newest first, filtered by person and kind of action, with
"Show older entries" (htmx adds them below; without JavaScript it is the next page)."""

from __future__ import annotations

from flask import g, request, url_for

from models import AuditEntry
from services import audit as entries
from services.errors import Invalid
from services.workspace import audit as log
from views.web import page, wants_fragment
from views.workspace import bp, owner_only

TEMPLATE = "workspace/audit.html"

# Where an entry's subject is shown: (endpoint, its id argument, link text).
SUBJECTS = {
    "booking": ("workspace.booking", "booking_id", "Open booking #{}"),
    "service": ("workspace.edit_service", "service_id", "Open the service"),
    "customer": ("workspace.customer", "customer_id", "Open the customer's record"),
    "provider": ("workspace.availability", "provider", "Open their hours"),
    "invitation": ("workspace.staff", None, "Open Staff"),
}


def subject_link(entry: AuditEntry) -> tuple[str, str] | None:
    """(address, text) of what the entry is about, when it has a page."""
    found = SUBJECTS.get(entry.subject_type)
    if found is None or entry.subject_id is None:
        return None
    endpoint, argument, text = found
    args = {argument: entry.subject_id} if argument else {}
    url = url_for(endpoint, slug=g.staff.organisation.slug, **args)
    return url, text.format(entry.subject_id)


@bp.get("/audit")
@owner_only
def audit():
    org = g.staff.organisation
    try:
        filters = log.filters_from(
            request.args.get("person"), request.args.get("kind"), request.args.get("before")
        )
        problems = {}
    except Invalid as exc:
        filters, problems = log.Filters(), exc.fields
    shown = log.LogPage([], None) if problems else log.log_page(org, filters)
    # htmx asking for older entries gets only them (added below the ones shown), a
    # changed filter the whole list.
    more_only = bool(filters.before) and wants_fragment()
    return page(
        TEMPLATE,
        "rows" if more_only else "entries",
        status=422 if problems else 200,
        org=org,
        filters=filters,
        shown=shown,
        problems=problems,
        people=log.people(org),
        kinds=entries.KINDS,
        kind_of=entries.kind_of,
        subject_link=subject_link,
        more_only=more_only,
    )

"""Calendars: a provider's own calendars that make them busy in Kairos (by ICS address).

Each staff member with a schedule manages their own; adding, removing and "sync now"
post to routes here and come back to the page (services/calendar/imports.py does the
work, as it does for the API).
"""

from __future__ import annotations

from flask import current_app, g, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.widgets import URLInput

from services.calendar import imports
from services.errors import Invalid
from views.forms import done, show_problems
from views.support import now
from views.web import page
from views.workspace import bp, staff_only

TEMPLATE = "workspace/calendars.html"


class CalendarForm(FlaskForm):
    url = StringField(
        "Secret address in iCal format",
        widget=URLInput(),
        description="From your calendar's settings: Google calls it the secret address in "
        "iCal format; iCloud, a public calendar link; Outlook, an ICS link.",
        render_kw={"maxlength": 2000, "autocomplete": "off", "spellcheck": "false"},
    )


@bp.get("/calendars")
@staff_only
def calendars():
    return _page(CalendarForm(formdata=None))


@bp.post("/calendars")
@staff_only
def add_calendar():
    provider, form = imports.provider_of(g.staff.user_id), CalendarForm()
    try:
        imports.add(provider.id, form.url.data, now(), _allow_hosts())
    except Invalid as exc:
        show_problems(form, exc)
        return _page(form, 422)
    return done(_url(), "Calendar added: its busy times arrive within a few minutes.")


@bp.post("/calendars/<id:calendar_id>/sync")
@staff_only
def sync_calendar(calendar_id: int):
    provider = imports.provider_of(g.staff.user_id)
    calendar = imports.sync(imports.calendar_of(provider.id, calendar_id).id, now(), _allow_hosts())
    said = "Calendar read." if calendar.status == "ok" else "The calendar could not be read."
    return done(_url(), said)


@bp.post("/calendars/<id:calendar_id>/delete")
@staff_only
def delete_calendar(calendar_id: int):
    imports.remove(imports.provider_of(g.staff.user_id).id, calendar_id)
    return done(_url(), "Calendar removed: its busy times no longer count.")


def _page(form: CalendarForm, status: int = 200):
    provider = imports.provider_of(g.staff.user_id)
    return page(
        TEMPLATE,
        status=status,
        org=g.staff.organisation,
        form=form,
        calendars=imports.listed(provider.id),
    )


def _url() -> str:
    return url_for("workspace.calendars", slug=g.staff.organisation.slug)


def _allow_hosts() -> tuple[str, ...]:
    return current_app.config["SETTINGS"].calendar_allow_hosts

"""Calendars: a provider's own calendars, linked to Kairos. Google Calendar and Outlook
(consent through OAuth) and CalDAV calendars (iCloud, Fastmail, Nextcloud: an app
password) get Kairos's bookings written into them and make the provider busy here; an
ICS address only makes them busy.

Each staff member with a schedule manages their own; adding, connecting, removing and
"sync now" post to routes here and come back to the page (services/calendar does the
work, as it does for the API). The consent comes back to views/calendar.py's fixed
address (one address to register with Google and Microsoft, for every business).
"""

from __future__ import annotations

from flask import current_app, g, redirect, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.widgets import URLInput

from services.calendar import imports, two_way
from services.errors import Invalid, NotFound
from views.forms import done, show_problems
from views.limits import limited
from views.support import absolute_url, now
from views.web import page
from views.workspace import bp, staff_only

TEMPLATE = "workspace/calendars.html"
CONSENT_KEY = "calendar_consent"  # in the session, until the provider comes back
SERVICES = ("google", "microsoft")
CALDAV = "caldav"  # its fields' names and ids: the page has the ICS form's "url" too


class CalendarForm(FlaskForm):
    url = StringField(
        "Secret address in iCal format",
        widget=URLInput(),
        description="From your calendar's settings: Google calls it the secret address in "
        "iCal format; iCloud, a public calendar link; Outlook, an ICS link.",
        render_kw={"maxlength": 2000, "autocomplete": "off", "spellcheck": "false"},
    )


class CalDavForm(FlaskForm):
    url = StringField(
        "Calendar address (CalDAV)",
        widget=URLInput(),
        description="The calendar's CalDAV link, from its sharing or account settings.",
        render_kw={"maxlength": 2000, "autocomplete": "off", "spellcheck": "false"},
    )
    username = StringField(
        "Username",
        render_kw={"maxlength": 320, "autocomplete": "off", "autocapitalize": "none"},
    )
    password = PasswordField(
        "App password",
        description="Make one for Kairos in that account's security settings; "
        "your own password is not needed.",
        render_kw={"maxlength": 500, "autocomplete": "new-password"},
    )
    show_names = BooleanField("Show customers' names in the events Kairos writes")


@bp.get("/calendars")
@staff_only
def calendars():
    return _page()


@bp.post("/calendars")
@staff_only
@limited("calendar_sync")
def add_calendar():
    provider, form = imports.provider_of(g.staff.user_id), CalendarForm()
    try:
        imports.add(provider.id, form.url.data, now(), _settings().calendar_allow_hosts)
    except Invalid as exc:
        show_problems(form, exc)
        return _page(form=form, status=422)
    return done(_url(), "Calendar added: its busy times arrive within a few minutes.")


@bp.post("/calendars/caldav")
@staff_only
@limited("calendar_sync")
def add_caldav():
    provider, form = imports.provider_of(g.staff.user_id), CalDavForm(prefix=CALDAV)
    try:
        two_way.add_caldav(
            provider.id,
            form.url.data,
            form.username.data,
            form.password.data,
            now(),
            _settings().calendar_allow_hosts,
            show_names=form.show_names.data,
        )
    except Invalid as exc:
        show_problems(form, exc)
        return _page(caldav=form, status=422)
    return done(_url(), "Calendar connected: your bookings go there within a minute.")


@bp.post("/calendars/connect/<kind>")
@bp.post("/calendars/<id:calendar_id>/reconnect")
@staff_only
def connect(kind: str | None = None, calendar_id: int | None = None):
    """Off to Google's or Microsoft's consent page; back at views/calendar.py."""
    provider = imports.provider_of(g.staff.user_id)
    if calendar_id is not None:
        kind = imports.calendar_of(provider.id, calendar_id).kind
    if kind not in SERVICES or not two_way.configured(kind, _settings()):
        raise NotFound("That calendar service is not offered here.")
    asked = two_way.consent(kind, _settings(), absolute_url("calendar.connected", kind=kind))
    session[CONSENT_KEY] = {
        "kind": kind,
        "state": asked.state,
        "verifier": asked.verifier,
        "slug": g.staff.organisation.slug,
        "calendar": calendar_id,
    }
    return redirect(asked.url, 303)


@bp.post("/calendars/<id:calendar_id>/sync")
@staff_only
@limited("calendar_sync")
def sync_calendar(calendar_id: int):
    provider = imports.provider_of(g.staff.user_id)
    calendar = imports.calendar_of(provider.id, calendar_id)
    calendar = two_way.sync(calendar.id, now(), _settings())
    if calendar.status == "ok":
        return done(_url(), "Calendar synced.")
    return done(_url(), "The calendar could not be synced: see why below.")


@bp.post("/calendars/<id:calendar_id>/names")
@staff_only
def calendar_names(calendar_id: int):
    show = request.form.get("show") == "1"
    two_way.show_names(imports.provider_of(g.staff.user_id).id, calendar_id, show, now())
    if show:
        return done(_url(), "Customers' names will show in that calendar's events.")
    return done(_url(), "That calendar's events will no longer show customers' names.")


@bp.post("/calendars/<id:calendar_id>/delete")
@staff_only
def delete_calendar(calendar_id: int):
    imports.remove(imports.provider_of(g.staff.user_id).id, calendar_id)
    return done(_url(), "Calendar removed: its busy times no longer count.")


def _page(form: CalendarForm | None = None, caldav: CalDavForm | None = None, status: int = 200):
    provider = imports.provider_of(g.staff.user_id)
    settings = _settings()
    return page(
        TEMPLATE,
        status=status,
        org=g.staff.organisation,
        form=form or CalendarForm(formdata=None),
        caldav=caldav or CalDavForm(formdata=None, prefix=CALDAV),
        services=[kind for kind in SERVICES if two_way.configured(kind, settings)],
        kind_names=two_way.KIND_NAMES,
        calendars=imports.listed(provider.id),
    )


def _url() -> str:
    return url_for("workspace.calendars", slug=g.staff.organisation.slug)


def _settings():
    return current_app.config["SETTINGS"]

"""A new business's set-up, after signing up: contact details, the owner as a provider,
a first service, working hours, then the booking link to share (services/workspace/setup.py).

Each step is a page with a plain form: a bad one answers 422 with what was typed, a
good one goes on to the next step (303, or HX-Redirect for htmx), and every step has a
"Skip" link to the next. /setup carries on where the business is; the dashboard links
there until the owner finishes.
"""

from __future__ import annotations

from flask import g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField

from services.errors import Invalid
from services.workspace import availability as hours
from services.workspace import setup
from services.workspace.orphans import Edit, NeedsDecision
from services.workspace.services import catalogue
from views import forms
from views.support import absolute_url, now
from views.web import page
from views.workspace import bp, owner_only
from views.workspace.availability import (  # the weekly hours form, handled as there
    DAY_KEYS,
    WeekForm,
    _edited,
    _padded_week,
    _rows,
    _saved_week,
    _show,
    _typed_week,
    _week_form,
)
from views.workspace.calendar import qr_svg
from views.workspace.services import ServiceForm
from views.workspace.settings import SettingsForm

STEP_TITLES = {
    "contact": "Your business",
    "provider": "Who sees customers",
    "service": "Your first service",
    "hours": "Your hours",
    "share": "Your booking link",
}


class ContactForm(FlaskForm):
    # The settings page's own fields: the same labels, hints and limits.
    business_name = SettingsForm.business_name
    address = SettingsForm.address
    phone = SettingsForm.phone


class ProviderForm(FlaskForm):
    sees_customers = BooleanField(
        "I see customers myself",
        default=True,
        description="You appear on your booking page and set your own hours. Staff can be"
        " invited later, from Staff.",
    )


class FirstServiceForm(FlaskForm):
    name = ServiceForm.name
    duration = ServiceForm.duration
    price = ServiceForm.price


def _step_url(step: str, **args) -> str:
    return url_for(f"workspace.setup_{step}", slug=g.staff.organisation.slug, **args)


def _next(step: str) -> str:
    return setup.STEPS[setup.STEPS.index(step) + 1]


def _step_page(step: str, form=None, **context):
    """The step's page: 422 with ``form`` as typed after a refused post, else 200."""
    template = f"workspace/setup_{step}.html"
    status = 422 if form is not None and request.method == "POST" else 200
    org = g.staff.organisation
    return page(
        template,
        "form",
        status=status,
        org=org,
        form=form,
        step=step,
        steps=setup.STEPS,
        titles=STEP_TITLES,
        skip=_step_url(_next(step)) if step != "share" else None,
        **context,
    )


@bp.get("/setup")
@owner_only
def setup_start():
    """Carry on where the business is: the first step it has not done."""
    where = setup.progress(g.staff.organisation, g.staff.user_id)
    return redirect(_step_url(where.next_step), 303)


@bp.route("/setup/contact", methods=["GET", "POST"])
@owner_only
def setup_contact():
    org = g.staff.organisation
    form = ContactForm(data={"business_name": org.name, "address": org.address, "phone": org.phone})
    if form.validate_on_submit():
        try:
            setup.save_contact(
                org,
                name=form.business_name.data,
                address=form.address.data or "",
                phone=form.phone.data or "",
                actor_id=g.staff.user_id,
                now=now(),
            )
        except Invalid as exc:
            forms.show_problems(form, exc, {"name": "business_name"})
        else:
            return forms.done(_step_url("provider"))
    return _step_page("contact", form)


@bp.route("/setup/provider", methods=["GET", "POST"])
@owner_only
def setup_provider():
    org, form = g.staff.organisation, ProviderForm()
    if form.validate_on_submit():
        if form.sees_customers.data:
            setup.add_owner(org, current_user, now())
        return forms.done(_step_url("service"))
    where = setup.progress(org, g.staff.user_id)
    return _step_page("provider", form, where=where)


@bp.route("/setup/service", methods=["GET", "POST"])
@owner_only
def setup_service():
    org = g.staff.organisation
    trade, pick = request.args.get("trade"), request.args.get("pick")
    chosen = setup.template(trade, pick)
    form = FirstServiceForm(data=setup.template_values(chosen))
    where = setup.progress(org, g.staff.user_id)
    form.price.label.text = f"Price ({org.currency})"
    if form.validate_on_submit():
        try:
            setup.create_first_service(
                org,
                where,
                name=form.name.data or "",
                duration=form.duration.data or "",
                price=form.price.data or "",
                actor_id=g.staff.user_id,
                now=now(),
            )
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            return forms.done(_step_url("hours"))
    offered = [listed for _, group in catalogue(org).groups for listed in group]
    return _step_page(
        "service",
        form,
        where=where,
        trades=setup.TRADES,
        trade=trade,
        chosen=chosen,
        offered=offered,
    )


@bp.route("/setup/hours", methods=["GET", "POST"])
@owner_only
def setup_hours():
    where = setup.progress(g.staff.organisation, g.staff.user_id)
    provider = where.hours_for
    if provider is None or request.method == "GET":
        week = _saved_or_default(provider) if provider else setup.default_week()
        return _hours_page(provider, _week_form(week))
    form = WeekForm()
    typed = _typed_week(form)
    if form.edit.data:  # add a break, remove an interval, copy to the weekdays
        try:
            edited, focus = _edited(typed, form.edit.data)
        except Invalid as exc:
            form.form_errors.extend(exc.fields.values())
            return _hours_page(provider, form, status=422)
        return _hours_page(provider, _week_form(edited.week), focus=focus)
    week = {d: _rows(form[key]) if typed[d].open else [] for d, key in enumerate(DAY_KEYS)}
    opened = {d: f"{key}-open" for d, key in enumerate(DAY_KEYS) if typed[d].open}
    try:
        edit = Edit(g.staff.user_id, now(), dispatch=g.dispatch)
        hours.save_week(provider, week, edit, opened=opened)
    except (Invalid, NeedsDecision) as exc:
        _show_week_problems(form, exc)
        return _hours_page(provider, form, status=422)
    return forms.done(_step_url("share"))


def _saved_or_default(provider):
    """The provider's weekly hours, or Monday to Friday 09:00–17:00 while they have none."""
    week = _saved_week(provider)
    return week if any(day.open for day in week) else setup.default_week()


def _show_week_problems(form: WeekForm, exc: Exception) -> None:
    if isinstance(exc, NeedsDecision):
        form.form_errors.append(
            "These hours would leave bookings outside working time: change them on the"
            " Availability page, where you can choose what happens to those bookings."
        )
    else:
        _show(form, exc.fields)


def _hours_page(provider, form: WeekForm, status: int = 200, focus: str | None = None):
    response = _step_page(
        "hours",
        None,
        provider=provider,
        week_form=_padded_week(form),
        days=list(zip(DAY_KEYS, hours.WEEKDAYS, strict=True)),
        focus=focus,
    )
    response.status_code = status
    return response


@bp.get("/setup/share")
@owner_only
def setup_share():
    org = g.staff.organisation
    link = absolute_url("public.organisation", slug=org.slug)
    where = setup.progress(org, g.staff.user_id)
    return _step_page("share", FlaskForm(), link=link, qr=qr_svg(link), where=where)


@bp.post("/setup/done")
@owner_only
def setup_done():
    setup.finish(g.staff.organisation, now())  # the CSRF token is checked for every POST
    url = url_for("workspace.dashboard", slug=g.staff.organisation.slug)
    return forms.done(url, "Your business is set up. Everything can be changed later.")

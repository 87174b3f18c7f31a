"""Answering a form post, the same way on every page: the form again with its
problems beside the fields (422, what was typed kept), or on to the next page."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_wtf import FlaskForm
from htmx_flask import make_response
from wtforms import SelectField

from services.accounts import business as organisations
from services.errors import Invalid
from views.support import now
from views.web import page


def done(url: str, message: str | None = None):
    """After a successful POST: 303 to ``url``, or for htmx a full-page HX-Redirect."""
    if message:
        flash(message, "success")
    if request.htmx:
        return make_response("", 200, redirect=url)
    return redirect(url, 303)


def form_page(template: str, form: FlaskForm, **context):
    """The page with ``form``: 200 when first shown, 422 after a bad submission."""
    status = 422 if request.method == "POST" else 200
    return page(template, "form", status=status, form=form, **context)


def show_problems(form: FlaskForm, error: Invalid, renamed: dict[str, str] | None = None) -> None:
    """Put the service's complaints next to the fields they are about (``renamed``: the
    service's name for a field → the form's); one about a field not shown (hidden, or not
    in the form) is the form's own."""
    for name, message in error.fields.items():
        field = form._fields.get((renamed or {}).get(name, name))
        if field is None or field.type == "HiddenField":
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]


def zone_choices(field: SelectField, keep: str | None = None) -> None:
    """Fill a time zone select: "London — GMT+0:00", in order of offset, each with the
    words static/js/zones.js searches (country, abbreviation). A zone sent that is not in
    the list stays shown (selected, beside its error) rather than silently becoming another."""
    choices = [
        (c.zone, c.label, {"data-search": c.search})
        for c in organisations.timezone_choices(now(), keep)
    ]
    sent = field.data
    if sent and sent not in {c[0] for c in choices}:
        choices.insert(0, (sent, sent, {"data-search": sent.lower()}))
    field.choices = choices

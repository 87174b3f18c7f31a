"""Answering a form post, the same way on every page: the form again with its
problems beside the fields (422, what was typed kept), or on to the next page."""

from __future__ import annotations

from flask import flash, make_response, redirect, request
from flask_wtf import FlaskForm

from services.errors import Invalid
from views.web import page


def done(url: str, message: str | None = None):
    """After a successful POST: 303 to ``url``, or for htmx a full-page HX-Redirect."""
    if message:
        flash(message, "success")
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def form_page(template: str, form: FlaskForm, **context):
    """The page with ``form``: 200 when first shown, 422 after a bad submission."""
    status = 422 if request.method == "POST" else 200
    return page(template, "form", status=status, form=form, **context)


def show_problems(form: FlaskForm, error: Invalid) -> None:
    """Put the service's complaints next to the fields they are about."""
    for name, message in error.fields.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]

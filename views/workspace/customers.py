"""Customers: the list with active search, a customer's record with notes, CSV export."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import g, make_response, request, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from services.errors import Invalid
from services.validation import phone_for_display
from services.workspace import customers
from views import forms
from views.support import now
from views.web import page, wants_fragment
from views.workspace import bp, staff_only

SEARCH_MAX = 200  # longer than any name, email or phone


class NoteForm(FlaskForm):
    """Only collects the text: services/workspace/customers.py decides what is acceptable."""

    body = TextAreaField(
        "Add a note",
        description=f"Only your business's staff see notes. Up to {customers.NOTE_LIMIT:,} "
        "characters.",
        render_kw={"rows": 4, "maxlength": customers.NOTE_LIMIT},
    )


def _search_text() -> str:
    # PostgreSQL refuses NUL in text, even as a parameter to compare with.
    return request.args.get("q", "").replace("\x00", "").strip()[:SEARCH_MAX]


def _shown() -> int:
    value = request.args.get("shown", "")
    # isdecimal, not isdigit: int() refuses "²"; and no thousand-digit numbers.
    return int(value) if value.isdecimal() and len(value) <= 6 else customers.PAGE_SIZE


@bp.get("/customers", endpoint="customers")
@staff_only
def customer_list():
    text = _search_text()
    listing = customers.listing(g.staff, text, now(), _shown())
    return page(
        "workspace/customers.html",
        "results",
        org=g.staff.organisation,
        q=text,
        listing=listing,
        page_size=customers.PAGE_SIZE,
        phone=phone_for_display,
    )


@bp.route("/customers/<id:customer_id>", methods=["GET", "POST"])
@staff_only
def customer(customer_id: int):
    form, added = NoteForm(), False
    if form.validate_on_submit():
        try:
            customers.add_note(g.staff, customer_id, form.body.data, now())
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            if not wants_fragment():
                url = url_for(".customer", slug=g.staff.organisation.slug, customer_id=customer_id)
                return forms.done(url + "#notes", "Note added.")
            form, added = NoteForm(formdata=None), True  # htmx: the notes again, form emptied
    return page(
        "workspace/customer.html",
        "notes",
        status=422 if form.errors else 200,
        org=g.staff.organisation,
        record=customers.record(g.staff, customer_id, now()),
        form=form,
        added=added,
        phone=phone_for_display,
    )


@bp.get("/customers.csv")
@staff_only
def customers_csv():
    org = g.staff.organisation
    text = _search_text()
    body = customers.to_csv(customers.export_rows(g.staff, text, now()))
    day = now().astimezone(ZoneInfo(org.timezone)).date().isoformat()
    name = f"{org.slug}-customers-{day}{'-search' if text else ''}.csv"
    response = make_response(body)
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"  # personal data
    return response

"""The front desk's forms: booking a walk-in or a phone call, and the booking panel's
actions. They only carry what was typed: what is acceptable is decided in
services/workspace/desk.py and services/workspace/bookings.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)

UNTOUCHED = {"autocomplete": "off"}  # staff type other people's details: no autofill


class DeskForm(FlaskForm):
    """A booking made from the schedule. The service and time choices are the view's
    (they depend on the provider and the day); the customer is a search result or new."""

    provider = HiddenField()
    service = SelectField("Service", validate_choice=False)
    start = SelectField("Time", validate_choice=False)
    customer = RadioField("Customer", validate_choice=False)
    q = SearchField("Find a customer", description="Name, email or phone.", render_kw=UNTOUCHED)
    # The service names a new customer's details name, email and phone: so do the ids.
    new_name = StringField("Name", id="name", render_kw=UNTOUCHED | {"autocapitalize": "words"})
    new_email = EmailField(
        "Email (optional)",
        id="email",
        render_kw=UNTOUCHED
        | {"inputmode": "email", "autocapitalize": "none", "spellcheck": "false"},
    )
    new_phone = TelField("Phone (optional)", id="phone", render_kw=UNTOUCHED | {"inputmode": "tel"})
    source = RadioField(
        "How did they book?",
        choices={"walk_in": "Walk-in", "phone": "Phone"},
        validate_choice=False,
    )

    # What services/workspace/desk.py calls the new customer's details.
    PROBLEM_FIELDS = {"name": "new_name", "email": "new_email", "phone": "new_phone"}


class MarkForm(FlaskForm):
    """Completed, no-show, or back to not seen yet: one button each."""

    status = HiddenField()


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Reason, for the customer", render_kw={"rows": 2, "maxlength": 500, "required": True}
    )


class NoteForm(FlaskForm):
    body = TextAreaField("Add a note", render_kw={"rows": 2, "maxlength": 4000})


class VenuePaymentForm(FlaskForm):
    """A payment taken at the venue (services/payments/venue.py): how, and how much."""

    kind = RadioField(
        "Paid by", choices={"cash": "Cash", "terminal": "Card terminal"}, validate_choice=False
    )
    amount = StringField("Amount", render_kw={"inputmode": "decimal", "autocomplete": "off"})

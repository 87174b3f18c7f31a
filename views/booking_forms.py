"""The review page's form for a new customer: who is booking. What makes a name, email
or phone acceptable is decided in services/validation.py (services/booking/guests.py)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TelField

from views.account_forms import EMAIL
from views.limits import limited_form


@limited_form("guest_booking")
class GuestBookingForm(FlaskForm):
    name = StringField(
        "Your name", render_kw={"autocomplete": "name", "autocapitalize": "words", "required": True}
    )
    email = EmailField(
        "Email",
        description="For your confirmation, with a link to manage the booking.",
        render_kw=EMAIL | {"required": True},
    )
    phone = TelField(
        "Mobile phone (optional)",
        description="For reminders, and if the business needs to reach you.",
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )

"""The owner's organisation settings: name, time zone, currency, booking page intro, logo,
reminders, per-customer booking limits, how long customers' details are kept, and how
customers reach the business (address, phone, email, website, directions).

The form is sent as multipart/form-data, by a plain POST or by htmx (which sends a
form's files when its enctype says so); services/workspace/settings.py decides what is
acceptable, the logo's real type included.
"""

from __future__ import annotations

from flask import g, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from services import contact
from services.accounts import business as organisations
from services.errors import Invalid
from services.validation import phone_for_display
from services.workspace import settings as org_settings
from views import forms
from views.support import now
from views.workspace import bp, owner_only


class SettingsForm(FlaskForm):
    business_name = StringField(
        "Business name",
        render_kw={"autocomplete": "organization", "required": True, "maxlength": 200},
    )
    timezone = SelectField(
        "Time zone",
        description="Weekly hours keep their local times (09:00 stays 09:00 in the new zone);"
        " bookings already made keep their moment in time, so their local times move.",
        validate_choice=False,
    )
    currency = SelectField(
        "Currency",
        choices=organisations.CURRENCIES,
        description="For bookings made from now on; bookings already made keep their currency."
        " Prices keep their numbers (45.00 stays 45.00).",
        validate_choice=False,
    )
    booking_intro = TextAreaField(
        "Booking page introduction (optional)",
        description="Shown at the top of your booking page. Plain text, up to 1,000 characters;"
        " a blank line starts a new paragraph.",
        render_kw={"rows": 5, "maxlength": org_settings.INTRO_LIMIT},
    )
    logo = FileField(
        "Logo (optional)",
        description="It heads your booking pages, your emails to customers and the app they"
        " install from your page. A PNG, JPEG or WebP image of at most 256 KB. Small files load"
        " fastest: about 50 KB and at least 128 pixels tall is plenty; a square PNG or WebP of 144"
        " pixels or more is also the installed app's icon.",
        render_kw={"accept": "image/png,image/jpeg,image/webp"},
    )
    remove_logo = BooleanField("Remove the logo")
    reminder_hours = StringField(
        "Remind customers before each appointment (hours)",
        description="For example “24, 2”: a day before and two hours before. Leave it empty"
        " for no reminders. Customers choose email, push or text themselves.",
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )

    max_future_bookings = StringField(
        "Upcoming appointments one customer may hold",
        description="Counted over all your providers. Bookings you make for a customer"
        " (at the desk or on the phone) may go beyond it.",
        render_kw={"inputmode": "numeric", "autocomplete": "off", "required": True},
    )
    max_bookings_per_day = StringField(
        "Appointments one customer may book on one day",
        description="So that one customer can't take a provider's whole day.",
        render_kw={"inputmode": "numeric", "autocomplete": "off", "required": True},
    )
    retention_months = StringField(
        "Keep customers' details on past bookings for (months)",
        description="After that, notes, cancellation reasons and the history of each past"
        " booking are deleted, and customers you entered yourself who haven't booked since"
        " are anonymised. The bookings stay for your figures. 1 to 120 months.",
        render_kw={"inputmode": "numeric", "autocomplete": "off", "required": True},
    )

    address = TextAreaField(
        "Address (optional)",
        description="As it goes on a letter, one line for each part. Customers get a map"
        " link to it, and it is the place in their calendar.",
        render_kw={
            "rows": 4,
            "maxlength": contact.ADDRESS_LIMIT,
            "autocomplete": "street-address",
        },
    )
    phone = StringField(
        "Phone (optional)",
        description="Customers can tap it to call you. With the country code (+44 117 496"
        " 0000), or as written in your time zone's country.",
        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "work tel"},
    )
    email = StringField(
        "Email (optional)",
        render_kw={"type": "email", "autocomplete": "work email", "maxlength": 254},
    )
    website = StringField(
        "Website (optional)",
        description="For example https://www.example.com.",
        render_kw={
            "type": "url",
            "inputmode": "url",
            "autocomplete": "url",
            "maxlength": contact.WEBSITE_LIMIT,
        },
    )
    directions = TextAreaField(
        "How to find you (optional)",
        description="A sentence or two: the entrance, the floor, where to park.",
        render_kw={"rows": 2, "maxlength": contact.DIRECTIONS_LIMIT},
    )

    def __init__(self, *args, zone_now: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        forms.zone_choices(self.timezone, keep=zone_now)


def _uploaded() -> bytes | None:
    """The chosen logo file's bytes (at most one more than allowed: enough to say it is
    too big), or None when no file was chosen."""
    upload = request.files.get("logo")
    if upload is None or not upload.filename:
        return None
    return upload.stream.read(org_settings.MAX_LOGO_BYTES + 1)


@bp.route("/settings", methods=["GET", "POST"])
@owner_only
def settings():
    org = g.staff.organisation
    form = SettingsForm(
        data={
            "business_name": org.name,
            "timezone": org.timezone,
            "currency": org.currency,
            "booking_intro": org.booking_intro,
            "reminder_hours": org.reminder_hours.replace(",", ", "),
            "max_future_bookings": str(org.max_future_bookings),
            "max_bookings_per_day": str(org.max_bookings_per_day),
            "retention_months": str(org.retention_months),
            "address": org.address,
            "phone": phone_for_display(org.phone),
            "email": org.email,
            "website": org.website,
            "directions": org.directions,
        },
        zone_now=org.timezone,
    )
    if form.validate_on_submit():
        try:
            org_settings.update_settings(
                org,
                name=form.business_name.data,
                timezone=form.timezone.data,
                currency=form.currency.data,
                booking_intro=form.booking_intro.data,
                logo=_uploaded(),
                remove_logo=form.remove_logo.data,
                reminder_hours=form.reminder_hours.data or "",
                max_future_bookings=form.max_future_bookings.data or "",
                max_bookings_per_day=form.max_bookings_per_day.data or "",
                retention_months=form.retention_months.data or "",
                contact_details={name: form[name].data or "" for name in contact.FIELDS},
                actor_id=g.staff.user_id,
                now=now(),
            )
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            return forms.done(url_for("workspace.settings", slug=org.slug), "Settings saved.")
    return forms.form_page(
        "workspace/settings.html", form, org=org, logo=org_settings.logo_shown(org)
    )

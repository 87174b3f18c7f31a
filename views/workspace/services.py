"""The owner's services: the list, the new and edit forms, archive and restore.

Forms only collect what was typed; services/workspace/services.py decides what is acceptable.
Archive and restore answer htmx with the refreshed list, a plain POST with a redirect.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import flash, g, redirect, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField

from services.errors import Invalid
from services.payments import gateway
from services.workspace import service_payments
from services.workspace import services as offerings
from views import forms
from views.support import now
from views.web import page, wants_fragment
from views.workspace import bp, owner_only

WHOLE = {"inputmode": "numeric", "autocomplete": "off"}
MONEY = {"inputmode": "decimal", "autocomplete": "off"}


class ServiceForm(FlaskForm):
    name = StringField("Name", render_kw={"required": True, "maxlength": offerings.NAME_LIMIT})
    category = StringField(
        "Category (optional)",
        description="Services with the same category are listed together.",
        render_kw={"list": "categories", "autocomplete": "off"},
    )
    description = TextAreaField(
        "Description (optional)",
        description="Shown to customers on your booking page.",
        render_kw={"rows": 3, "maxlength": offerings.DESCRIPTION_LIMIT},
    )
    duration = StringField(
        "Duration (minutes)", description="5–720, in steps of 5.", render_kw=WHOLE
    )
    price = StringField(
        "Price", description="Like 45 or 45.50; 0 if it's free.", render_kw={"inputmode": "decimal"}
    )
    buffer_before = StringField(
        "Buffer before (minutes)", description="Preparation time, 0–240.", render_kw=WHOLE
    )
    buffer_after = StringField(
        "Buffer after (minutes)", description="Clearing up, 0–240.", render_kw=WHOLE
    )
    min_notice = StringField(
        "Minimum notice (minutes)",
        description="How long before it starts it can still be booked online: 0–10,080"
        " (a week); 120 is two hours.",
        render_kw=WHOLE,
    )
    max_days_ahead = StringField(
        "Book up to (days ahead)", description="1–730 days.", render_kw=WHOLE
    )
    cancellation_window = StringField(
        "Cancellation window (hours)",
        description="Customers can cancel or move online until this many hours before: 0–720.",
        render_kw=WHOLE,
    )
    providers = SelectMultipleField("Who offers it", validate_choice=False)
    payment = RadioField(
        "Payment when booking online",
        choices=service_payments.CHOICES,
        validate_choice=False,
    )
    deposit_amount = StringField(
        "Deposit", description="Like 20 or 20.50; at most the price.", render_kw=MONEY
    )
    deposit_percent = StringField("Deposit (% of the price)", description="1–100.", render_kw=WHOLE)
    late_refund = StringField(
        "If the customer cancels inside the cancellation window, refund (%)",
        description="0 keeps all they paid online; 100 gives it all back. Cancelling"
        " earlier, or when you cancel, always refunds in full.",
        render_kw=WHOLE,
    )


def _draft(form: ServiceForm) -> offerings.ServiceDraft:
    values = {name: form[name].data or "" for name in offerings.ServiceDraft.__dataclass_fields__}
    values["providers"] = tuple(form.providers.data or ())
    return offerings.ServiceDraft(**values)


def _form_page(form: ServiceForm, service=None):
    org = g.staff.organisation
    form.price.label.text = f"Price ({org.currency})"
    form.deposit_amount.label.text = f"Deposit ({org.currency})"
    online = gateway.account_for(org) is not None
    if not online or not form.payment.data:
        # The rule as saved: it can't be changed without Stripe, or nothing was chosen.
        for name, value in service_payments.draft_values(service).items():
            form[name].data = value
    return forms.form_page(
        "workspace/service_form.html",
        form,
        org=org,
        service=service,
        providers=offerings.offering_providers(org),
        categories=offerings.categories(org),
        online=online,
    )


def _list_url() -> str:
    return url_for("workspace.services", slug=g.staff.organisation.slug)


@bp.get("/services")
@owner_only
def services():
    org = g.staff.organisation
    return page("workspace/services.html", "listing", **_listing(org))


def _listing(org) -> dict:
    """What the list of services shows, each with its payment rule in a few words."""
    return {
        "org": org,
        "catalogue": offerings.catalogue(org),
        "payment_rule": service_payments.summary,
        "online": gateway.account_for(org) is not None,
    }


@bp.route("/services/new", methods=["GET", "POST"])
@owner_only
def new_service():
    org = g.staff.organisation
    providers = offerings.offering_providers(org)
    # With one person working here, they are the one who offers it.
    only = [str(providers[0].id)] if len(providers) == 1 else []
    form = ServiceForm(data=asdict(offerings.ServiceDraft()) | {"providers": only})
    if form.validate_on_submit():
        try:
            made = offerings.create(org, _draft(form), g.staff.user_id, now())
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            return forms.done(_list_url(), f"“{made.name}” is on your booking page.")
    return _form_page(form)


@bp.route("/services/<id:service_id>", methods=["GET", "POST"])
@owner_only
def edit_service(service_id: int):
    org = g.staff.organisation
    service = offerings.service_for(org, service_id)
    form = ServiceForm(data=asdict(offerings.draft_of(service)))
    if form.validate_on_submit():
        try:
            saved = offerings.update(org, service.id, _draft(form), g.staff.user_id, now())
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            return forms.done(_list_url(), f"Saved “{saved.name}”.")
    return _form_page(form, service)


@bp.post("/services/<id:service_id>/archive")
@owner_only
def archive_service(service_id: int):
    gone = offerings.archive(g.staff.organisation, service_id, g.staff.user_id, now())
    return _listed(f"Archived “{gone.name}”: it is off your booking page. Its bookings stay.")


@bp.post("/services/<id:service_id>/restore")
@owner_only
def restore_service(service_id: int):
    try:
        back = offerings.restore(g.staff.organisation, service_id, g.staff.user_id, now())
    except Invalid as exc:
        return _listed(next(iter(exc.fields.values())), problem=True)
    return _listed(f"Restored “{back.name}”: it is on your booking page again.")


def _listed(message: str, *, problem: bool = False):
    """The refreshed list for htmx (with the message in it), else back to the list."""
    org = g.staff.organisation
    if wants_fragment():
        return page(
            "workspace/services.html",
            "listing",
            status=422 if problem else 200,
            notice=message,
            problem=problem,
            **_listing(org),
        )
    flash(message, "error" if problem else "success")
    return redirect(_list_url(), 303)

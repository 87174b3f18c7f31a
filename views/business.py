"""A new business signs up: its organisation and its owner's account, in one form.

Like the account forms, bad input gets the form again with status 422 (for htmx just
the form, swapped in place); success signs the owner in and goes to the workspace's
set-up (views/workspace/setup.py). The booking page's address is suggested from the
business's name as it is typed (static/js/slug.js asks /business/sign-up/address), and
made from it when left blank.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, TelField

from services.accounts import business as organisations
from services.errors import Invalid
from views import account_support, forms, support
from views.account_forms import EMAIL, NEW_PASSWORD, PASSWORD_HINT
from views.limits import limited_form
from views.support import now

bp = Blueprint("business", __name__, url_prefix="/business")

SLUG = {"autocapitalize": "none", "autocomplete": "off", "spellcheck": "false"}


@limited_form("sign_up")
class BusinessSignUpForm(FlaskForm):
    """Only collects what was typed: services/accounts/business.py decides what is acceptable
    (so the selects accept any value, and the service names an unknown one)."""

    business_name = StringField(
        "Business name", render_kw={"autocomplete": "organization", "required": True}
    )
    slug = StringField(
        "Booking page address",
        description="kairos/<slug>: lowercase letters, digits and hyphens, like city-physio."
        " Leave it blank to have one made from your business's name.",
        render_kw=SLUG,
    )
    timezone = SelectField("Time zone", default="Europe/London", validate_choice=False)
    currency = SelectField(
        "Currency",
        choices=organisations.CURRENCIES,
        default="GBP",
        validate_choice=False,
    )
    name = StringField(
        "Your name", render_kw={"autocomplete": "name", "autocapitalize": "words", "required": True}
    )
    email = EmailField("Your email", render_kw=EMAIL | {"required": True})
    password = PasswordField(
        "Choose a password", description=PASSWORD_HINT, render_kw=NEW_PASSWORD | {"required": True}
    )
    phone = TelField(
        "Mobile phone (optional)", render_kw={"autocomplete": "tel", "inputmode": "tel"}
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        forms.zone_choices(self.timezone)


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up():
    form = BusinessSignUpForm()
    if form.validate_on_submit():
        try:
            pending_id = organisations.sign_up_business(
                business_name=form.business_name.data,
                slug=form.slug.data,
                timezone=form.timezone.data,
                currency=form.currency.data,
                owner_name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                phone=form.phone.data,
                now=now(),
                region=support.phone_region(),
                link=account_support.link_builder("account.magic_sign_in"),
                mail=support.mail_config(),
            )
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            return account_support.await_code(pending_id, "business")
    return forms.form_page("business/sign_up.html", form)


@bp.get("/sign-up/address")
def suggest_address():
    """A free booking page address for the name typed so far (JSON), for the form to
    fill in while the owner has not typed one of their own."""
    name = request.args.get("business_name", "")[:200]
    response = jsonify(slug=organisations.suggest_slug(name))
    response.headers["Cache-Control"] = "no-store"
    return response

"""Signing in with a code texted to a phone number, and adding a number to an account
(services/identity/phone.py).

Three steps, one flow: the number (/sign-in/phone, or Account → Sign-in methods →
/account/sign-in-methods/phone for a signed-in person), the code (/sign-in/phone/code),
and for a number no account has proven yet the name (/sign-in/phone/name). The session
holds the flow: the number, ``next``, whose account a number is being added to, and
when a new number was proven. Every number gets the same answer and the same page.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, TelField
from wtforms.validators import InputRequired

from services.accounts import account as accounts
from services.errors import Invalid, InvalidCredentials
from services.identity import phone
from services.notifications import sms
from services.ratelimits import TryLater
from services.validation import check_all, clean_email, clean_name, phone_for_display
from views import account_support, forms, limits, support
from views.account import PHONE_PROVEN
from views.account_forms import CODE, EMAIL
from views.identity.methods import methods_page
from views.support import now

bp = Blueprint("phone", __name__)
FLOW = "phone_flow"


class NumberForm(FlaskForm):
    phone = TelField(
        "Mobile number",
        [InputRequired("Enter your mobile number.")],
        description="We'll text you a 6-digit code.",
        render_kw={"autocomplete": "tel", "inputmode": "tel", "required": True},
    )
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        [InputRequired("Enter the 6-digit code from the text.")],
        render_kw=CODE,
    )


class NameForm(FlaskForm):
    name = StringField(
        "Your name",
        render_kw={"autocomplete": "name", "autocapitalize": "words", "required": True},
    )
    email = EmailField(
        "Email (optional)",
        description="For booking confirmations by email. We'll email a link to confirm it.",
        render_kw=EMAIL,
    )


bp.add_app_template_global(phone_for_display)  # the profile of an account without email


@bp.app_template_global()
def phone_sign_in_ready() -> bool:
    """Whether texts can be sent: Twilio is configured (development: the console)."""
    s = current_app.config["SETTINGS"]
    return bool(s.twilio_sid and s.twilio_token and s.twilio_from) or s.is_development


@bp.after_request
def private(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def text_code(number: str) -> None:
    """Count a text against the limits and send the code (TryLater, Invalid on phone)."""
    limits.take("phone_text", {"phone": number})
    settings = current_app.config["SETTINGS"]
    phone.send_code(number, now(), sms=sms.backend(settings), base_url=settings.base_url)


def _refused(form: FlaskForm, refused: TryLater) -> None:
    g.try_later = refused  # the answer's status and Retry-After (views/limits.py)
    form.form_errors.append(refused.message)


def _number_step(adding: bool):
    if not phone_sign_in_ready():
        abort(404)
    form = NumberForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            number = phone.clean_number(form.phone.data, support.phone_region())
            text_code(number)
        except Invalid as exc:
            forms.show_problems(form, exc)
        except TryLater as refused:
            _refused(form, refused)
        else:
            user = current_user.id if adding else None
            session[FLOW] = {"phone": number, "next": form.next.data or "", "user": user}
            return forms.done(url_for(".code"))
    return forms.form_page("account/phone/number.html", form, adding=adding)


@bp.route("/sign-in/phone", methods=["GET", "POST"])
def start():
    # Signed in already, this signs in again: a fresh proof of the number is what
    # deleting an account without a password or email asks for (views/account.py).
    return _number_step(adding=False)


@bp.route("/account/sign-in-methods/phone", methods=["GET", "POST"])
@login_required
def add():
    return _number_step(adding=True)


def _flow() -> dict | None:
    """The flow in the session, if it is this browser's current one: a number being
    added to an account belongs to that account's sign-in only."""
    flow = session.get(FLOW)
    if not isinstance(flow, dict) or "phone" not in flow:
        return None
    if flow.get("user") and (not current_user.is_authenticated or current_user.id != flow["user"]):
        return None
    return flow


def _start_again(flow: dict | None = None):
    adding = bool(flow and flow.get("user"))
    target = url_for(".add") if adding else url_for(".start", next=(flow or {}).get("next") or None)
    return redirect(target, 303)


def _code_page(form: CodeForm, flow: dict, dead: bool = False):
    return forms.form_page(
        "account/phone/code.html",
        form,
        number=phone_for_display(flow["phone"]),
        adding=bool(flow.get("user")),
        next=flow.get("next") or None,
        dead=dead,
    )


@bp.route("/sign-in/phone/code", methods=["GET", "POST"])
def code():
    flow = _flow()
    if flow is None:
        return _start_again()
    form = CodeForm()
    dead = False
    if form.validate_on_submit():
        try:
            limits.take("phone_code", {"phone": flow["phone"]})
            phone.verify(flow["phone"], form.code.data, now())
        except TryLater as refused:
            _refused(form, refused)
        except phone.CodeDead as exc:
            form.code.errors, dead = [exc.message], True
        except phone.WrongCode as exc:
            form.code.errors, dead = [exc.fields["code"]], exc.left == 0
        else:
            return _proven(flow)
    return _code_page(form, flow, dead)


@bp.post("/sign-in/phone/code/resend")
def resend():
    flow = _flow()
    if flow is None:
        return _start_again()
    if not FlaskForm().validate_on_submit():
        return redirect(url_for(".code"), 303)
    form = CodeForm(formdata=None)
    try:
        text_code(flow["phone"])
    except Invalid as exc:
        form.form_errors.append(exc.fields["phone"])
    except TryLater as refused:
        _refused(form, refused)
    else:
        return forms.done(url_for(".code"), "We've texted you a new code.")
    return _code_page(form, flow)


def _proven(flow: dict):
    """The code was right: add the number, sign in, or ask a new number's name."""
    if flow.get("user"):
        session.pop(FLOW, None)
        try:
            phone.add_to_account(flow["user"], flow["phone"], now())
        except phone.NumberTaken as exc:
            return methods_page(409, exc.message)
        shown = phone_for_display(flow["phone"])
        return forms.done(url_for("methods.index"), f"{shown} now signs you in.")
    user = phone.account_of(flow["phone"], now())
    if user is None:
        session[FLOW] = flow | {"proven_at": now().isoformat()}
        return forms.done(url_for(".name"))
    return _signed_in(user, flow, f"Welcome back, {user.name}.")


def _signed_in(user, flow: dict, welcome: str):
    support.start_session(user, method="phone")  # clears the session, the flow with it
    session[PHONE_PROVEN] = True
    return forms.done(account_support.destination(flow.get("next"), user.id), welcome)


def _proven_flow() -> dict | None:
    """The flow of a new number proven lately enough to make its account."""
    flow = _flow()
    if flow is None or flow.get("user") or not flow.get("proven_at"):
        return None
    proven_at = datetime.fromisoformat(flow["proven_at"])
    return flow if now() - proven_at <= phone.PROVEN_FOR else None


@bp.route("/sign-in/phone/name", methods=["GET", "POST"])
def name():
    flow = _proven_flow()
    if flow is None:
        return _start_again(session.get(FLOW) if isinstance(session.get(FLOW), dict) else None)
    form = NameForm()
    if form.validate_on_submit():
        try:
            return _new_account(form, flow)
        except Invalid as exc:
            forms.show_problems(form, exc, {"new_email": "email"})
        except TryLater as refused:
            _refused(form, refused)
    shown = phone_for_display(flow["phone"])
    return forms.form_page("account/phone/name.html", form, number=shown)


def _new_account(form: NameForm, flow: dict):
    typed = (form.email.data or "").strip()
    name, email = check_all(
        lambda: clean_name(form.name.data), lambda: clean_email(typed) if typed else None
    )
    if email:
        limits.take("email_change", {"new_email": email})
    made = phone.create_account(flow["phone"], name, now())
    welcome = f"Welcome, {made.user.name}."
    if email and made.created:
        # Confirmed by a link, as any change of address: if another account has the
        # address, its holder is told instead, and this page says the same.
        accounts.request_email_change(
            made.user,
            email,
            now(),
            link=account_support.link_builder("account.confirm_email"),
            mail=support.mail_config(),
        )
        welcome += f" We've emailed a link to {email}: open it within an hour to add it."
    return _signed_in(made.user, flow, welcome)


# The API's half (views/api.py): the same steps, answered in JSON ---------------------


def _typed(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise Invalid({name: "Required."})
    return value


def api_text_code(body: dict) -> None:
    """POST /api/v1/auth/phone-code: text a code to the body's ``phone``."""
    if not phone_sign_in_ready():
        abort(404)
    text_code(phone.clean_number(_typed(body, "phone"), support.phone_region()))


def api_user_for_code(body: dict):
    """POST /api/v1/tokens with ``phone`` and ``code``: the number's account, made
    for it on first use (named ``name`` when the body has one, else by the number).
    A wrong, expired or used-up code is InvalidCredentials (401)."""
    number = phone.clean_number(_typed(body, "phone"), support.phone_region())
    code = _typed(body, "code")
    name = clean_name(_typed(body, "name")) if body.get("name") is not None else None
    limits.take("phone_code", {"phone": number})
    try:
        phone.verify(number, code, now())
    except (phone.CodeDead, phone.WrongCode) as exc:
        said = exc.fields["code"] if isinstance(exc, Invalid) else exc.message
        raise InvalidCredentials(said) from None
    return phone.account_of(number, now()) or phone.create_account(number, name, now()).user

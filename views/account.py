"""Customer accounts: sign in and up, emailed links, the profile.

Forms post back to their own URL. Bad input gets the form again with status 422 (for
htmx just the form, swapped in place); success is a 303, or HX-Redirect for htmx.
Landing pages for emailed links show a button that POSTs, so that a mail scanner
opening the link cannot use it up.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from services import validation
from services.accounts import account as accounts
from services.accounts import business as organisations
from services.accounts import signups
from services.accounts.auth import authenticate
from services.accounts.links import LinkInvalid
from services.booking import guests
from services.errors import Forbidden, Invalid, InvalidCredentials
from views import account_forms, account_support, forms, support
from views.support import now
from views.web import page

bp = Blueprint("account", __name__, url_prefix="/account")
JUST_RESET = "reset_email"


@bp.app_template_global()
def sign_in_form(form: object = None) -> account_forms.SignInForm:
    """``form`` if it is a sign-in form, else an empty one (for pages that include the
    sign-in partial without making a form)."""
    return (
        form
        if isinstance(form, account_forms.SignInForm)
        else account_forms.SignInForm(formdata=None)
    )


@bp.app_template_global()
def sign_up_form(form: object = None) -> account_forms.SignUpForm:
    return (
        form
        if isinstance(form, account_forms.SignUpForm)
        else account_forms.SignUpForm(formdata=None)
    )


@bp.after_request
def private(response):
    response.headers.setdefault("Cache-Control", "no-store")
    if request.view_args and "token" in request.view_args:
        response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


# Signing in, up and out -------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = account_forms.SignInForm(next=request.args.get("next", ""))
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(account_support.destination(form.next.data, current_user.id), 303)
    if request.method == "GET" and not form.email.data:  # just reset: the email is known
        form.email.data = session.pop(JUST_RESET, None)
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except InvalidCredentials as exc:
            form.form_errors.append(exc.message)
        else:
            support.start_session(user, remember=form.remember.data, method="password")
            return forms.done(account_support.destination(form.next.data, user.id))
    return forms.form_page("account/sign_in.html", form, next=form.next.data)


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up():
    form = account_forms.SignUpForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            pending_id = accounts.sign_up(
                form.name.data,
                form.email.data,
                form.password.data,
                form.phone.data,
                support.phone_region(),
                now=now(),
                link=account_support.link_builder("account.magic_sign_in", form.next.data),
                mail=support.mail_config(),
            )
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            return account_support.await_code(pending_id, "customer", form.next.data)
    return forms.form_page("account/sign_up.html", form, next=form.next.data)


@bp.route("/sign-up/code", methods=["GET", "POST"])
def sign_up_code():
    pending = session.get("sign_up") or {}
    form = account_forms.SignUpCodeForm()
    email = signups.email_of(pending.get("id"), now())
    if email is None and request.method == "GET":
        return page("account/sign_up_code.html", expired=True, kind=pending.get("kind"))
    if form.validate_on_submit():
        try:
            user, url, welcome = _finish_sign_up(pending, form.code.data)
        except signups.CodeExpired as exc:
            form.code.errors = [exc.message]
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            session.pop("sign_up", None)
            support.start_session(user, method="code")
            return forms.done(url, welcome)
    return forms.form_page("account/sign_up_code.html", form, email=email, kind=pending["kind"])


def _finish_sign_up(pending: dict, code: str):
    """(the new user, where they go, the welcome) for the sign-up kept in the session."""
    if pending["kind"] == "business":
        org, owner = organisations.finish_business_sign_up(pending["id"], code, now())
        return (
            owner,
            url_for("workspace.setup_start", slug=org.slug),
            f"Welcome to Kairos, {org.name}.",
        )
    user = accounts.finish_sign_up(pending["id"], code, now())
    return user, account_support.destination(pending.get("next"), user.id), f"Welcome, {user.name}."


@bp.post("/sign-up/code/resend")
def resend_sign_up_code():
    pending = session.get("sign_up") or {}
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            accounts.resend_sign_up_code(
                pending.get("id") or 0,
                now(),
                link=account_support.link_builder("account.magic_sign_in", pending.get("next")),
                mail=support.mail_config(),
            )
        except signups.CodeExpired:
            return forms.done(url_for(".sign_up_code"))
        return forms.done(url_for(".sign_up_code"), "We've sent a new code.")
    return redirect(url_for(".sign_up_code"), 303)


@bp.post("/sign-out")
def sign_out():
    support.end_session()
    return forms.done(url_for("public.home"), "You have signed out.")


# Emailed links ----------------------------------------------------------------------


@bp.get("/check-email")
def check_email():
    return render_template("account/check_email.html")


@bp.route("/reset", methods=["GET", "POST"])
def forgot_password():
    form = account_forms.EmailOnlyForm(next=request.args.get("next"))
    if form.validate_on_submit():
        account_support.queue_link("reset", form.email.data, form.next.data)
        return forms.done(url_for("account.check_email"))
    return forms.form_page("account/forgot.html", form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    holder = accounts.link_holder(token, "reset", now())
    if holder is None:
        return account_support.link_invalid()
    form = account_forms.ResetForm(next=request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(token, form.password.data, now())
        except Invalid as exc:
            forms.show_problems(form, exc)
        except LinkInvalid:
            return account_support.link_invalid()
        else:
            # Every session ended with the reset, this one too; the sign-in form comes back
            # with the email filled in (kept in the session, never in the URL).
            session[JUST_RESET] = user.email
            target = url_for("account.sign_in", next=account_support.safe_next(form.next.data))
            return forms.done(target, "Your password has been changed. Sign in with it now.")
    return forms.form_page("account/reset.html", form, token=token, email=holder.email)


@bp.route("/magic", methods=["GET", "POST"])
def magic_link():
    form = account_forms.EmailOnlyForm(next=request.args.get("next"))
    if form.validate_on_submit():
        account_support.queue_link("magic", form.email.data, form.next.data)
        return forms.done(url_for("account.check_email"))
    return forms.form_page("account/magic.html", form)


@bp.route("/magic/<token>", methods=["GET", "POST"])
def magic_sign_in(token: str):
    form = account_forms.LinkForm(next=request.args.get("next"))
    if request.method == "GET" or not form.validate_on_submit():
        if not accounts.link_is_valid(token, "magic", now()):
            return account_support.link_invalid()
        return render_template("account/magic_landing.html", form=form, token=token)
    try:
        user = accounts.sign_in_with_magic_link(token, now())
    except LinkInvalid:
        return account_support.link_invalid()
    support.start_session(user, method="link")
    session[EMAIL_PROVEN] = True  # may add a first password without an old one
    return forms.done(
        account_support.destination(form.next.data, user.id), f"Welcome back, {user.name}."
    )


# This browser's sign-in came through a link emailed to the account's address. A
# browser signed in by booking with a new address (views/booking.py) has not shown it
# holds the address, so it cannot give a passwordless account its first password.
EMAIL_PROVEN = "email_proven"
# This browser's sign-in came through a code texted to the account's proven number
# (views/identity/phone.py): as good a proof as the emailed link, for deleting it.
PHONE_PROVEN = "phone_proven"


@bp.route("/email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    form = account_forms.LinkForm()
    if request.method == "GET" or not form.validate_on_submit():
        if not accounts.link_is_valid(token, "email_change", now()):
            return account_support.link_invalid()
        return render_template("account/email_landing.html", form=form, token=token)
    try:
        user = accounts.confirm_email_change(token, now())
    except LinkInvalid:
        return account_support.link_invalid()
    except Invalid as exc:
        return render_template("account/link_invalid.html", message=exc.fields["email"]), 409
    target = "account.profile" if current_user.is_authenticated else "account.sign_in"
    return forms.done(url_for(target), f"Your email address is now {user.email}.")


# The profile ------------------------------------------------------------------------


def _profile(block: str | None = None, **bound: FlaskForm):
    """The profile page; ``bound`` replaces the empty form that was just submitted."""
    user = current_user
    context = {
        "details_form": account_forms.DetailsForm(
            formdata=None, name=user.name, phone=validation.phone_for_display(user.phone)
        ),
        "email_form": _email_form_class()(formdata=None),
        "password_form": _password_form_class()(formdata=None),
    } | bound
    status = 422 if bound else 200
    may_add = session.get(EMAIL_PROVEN, False)
    return page(
        "account/profile.html", block, status=status, user=user, may_add_password=may_add, **context
    )


def _email_form_class():
    """Adding an address to an account without one; else changing it."""
    if current_user.email is None:
        return account_forms.EmailAddForm
    return account_forms.EmailChangeForm


def _password_form_class():
    """A first password for an account without one; else the change of password."""
    if guests.is_passwordless(current_user):
        return account_forms.FirstPasswordForm
    return account_forms.PasswordChangeForm


@bp.get("/profile")
@login_required
def profile():
    return _profile()


@bp.post("/profile")
@login_required
def update_details():
    form = account_forms.DetailsForm()
    if form.validate_on_submit():
        try:
            accounts.update_profile(
                current_user, form.name.data, form.phone.data, support.phone_region()
            )
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            return forms.done(url_for("account.profile"), "Your details are saved.")
    return _profile("details_form", details_form=form)


@bp.post("/profile/email")
@login_required
def change_email():
    form = _email_form_class()()
    if form.validate_on_submit():
        try:
            if current_user.email is not None:
                accounts.verify_password(current_user, form.email_password.data, "email_password")
            link = account_support.link_builder("account.confirm_email")
            address = accounts.request_email_change(
                current_user, form.new_email.data, now(), link=link, mail=support.mail_config()
            )
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            message = f"We've emailed a link to {address}. Open it within an hour to confirm."
            return forms.done(url_for("account.profile"), message)
    return _profile("email_form", email_form=form)


@bp.post("/profile/password")
@login_required
def change_password():
    if guests.is_passwordless(current_user):
        return _add_password()
    form = account_forms.PasswordChangeForm()
    if form.validate_on_submit():
        try:
            kept = accounts.change_password(
                current_user,
                form.current_password.data,
                form.new_password.data,
                now(),
                this_sign_in=current_user.sign_in_key,
            )
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            # This device goes on under a new key; everywhere else is signed out.
            _go_on_signed_in(kept)
            message = "Your password has been changed, and you are signed out everywhere else."
            return forms.done(url_for("account.profile"), message)
    return _profile("password_form", password_form=form)


def _add_password():
    form = account_forms.FirstPasswordForm()
    if not session.get(EMAIL_PROVEN):
        form.form_errors.append(LINK_FIRST)
    elif form.validate_on_submit():
        try:
            kept = accounts.add_password(
                current_user, form.new_password.data, now(), this_sign_in=current_user.sign_in_key
            )
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            _go_on_signed_in(kept)
            return forms.done(url_for("account.profile"), "Your password is set.")
    return _profile("password_form", password_form=form)


LINK_FIRST = (
    "To add a password, first sign in with the link in your confirmation email "
    "(or ask for a new one), so we know this address is yours."
)


CODE_FIRST = "To add a password, first sign in again with a code texted to your phone."


def _go_on_signed_in(kept) -> None:
    """After a password change: this device goes on under its new key."""
    if kept is None:  # signed out meanwhile (from another device)
        support.end_session()
    else:
        support.continue_session(current_user._get_current_object(), kept)


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    # Without a password, having opened an emailed link (or given a texted code) in this
    # sign-in proves it is them.
    passwordless = guests.is_passwordless(current_user)
    form = account_forms.LinkProvenForm() if passwordless else account_forms.DeleteForm()
    proven = session.get(EMAIL_PROVEN) or session.get(PHONE_PROVEN, False)
    if passwordless and request.method == "POST" and not proven:
        first = LINK_FIRST if current_user.email else CODE_FIRST
        form.form_errors.append(first.replace("add a password", "delete your account"))
    elif form.validate_on_submit():
        try:
            if not passwordless:
                accounts.verify_password(current_user, form.password.data)
            accounts.delete_account(current_user, now(), dispatch=g.dispatch)
        except Invalid as exc:
            forms.show_problems(form, exc)
        except Forbidden as exc:
            form.form_errors.append(exc.message)
        else:
            support.end_session()
            return forms.done(url_for("public.home"), "Your account has been deleted.")
    upcoming = accounts.upcoming_bookings(current_user, now())
    return forms.form_page("account/delete.html", form, upcoming=upcoming, link_proven=proven)

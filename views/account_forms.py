"""The account forms. They only check that something was typed: what makes a name,
email, phone or password acceptable is decided in services/accounts/account.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, TelField
from wtforms.validators import InputRequired

from views.limits import limited_form

EMAIL = {
    "autocomplete": "email",
    "inputmode": "email",
    "autocapitalize": "none",
    "spellcheck": "false",
}
NEW_PASSWORD = {"autocomplete": "new-password"}
CURRENT_PASSWORD = {"autocomplete": "current-password"}
PASSWORD_HINT = "At least 10 characters. A few unusual words make a strong one."
# A code sent by email or text: phones offer the one just received.
CODE = {
    "inputmode": "numeric",
    "autocomplete": "one-time-code",
    "pattern": "[0-9 ]*",
    "maxlength": "8",
    "required": True,
}


def _required(message: str) -> list:
    return [InputRequired(message)]


@limited_form("sign_in")
class SignInForm(FlaskForm):
    email = EmailField("Email", _required("Enter your email address."), render_kw=EMAIL)
    password = PasswordField(
        "Password", _required("Enter your password."), render_kw=CURRENT_PASSWORD
    )
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()


class SignUpCodeForm(FlaskForm):
    code = StringField(
        "Code",
        _required("Enter the 6-digit code from the email."),
        render_kw=CODE,
    )


@limited_form("sign_up")
class SignUpForm(FlaskForm):
    name = StringField(
        "Your name", render_kw={"autocomplete": "name", "autocapitalize": "words", "required": True}
    )
    email = EmailField("Email", render_kw=EMAIL | {"required": True})
    phone = TelField(
        "Mobile phone (optional)",
        description="For reminders and if we need to reach you about an appointment.",
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    password = PasswordField(
        "Choose a password", description=PASSWORD_HINT, render_kw=NEW_PASSWORD | {"required": True}
    )
    next = HiddenField()


@limited_form("emailed_link")
class EmailOnlyForm(FlaskForm):
    """Asking for a password reset link or a sign-in link."""

    email = EmailField("Email", _required("Enter your email address."), render_kw=EMAIL)
    next = HiddenField()


class ResetForm(FlaskForm):
    password = PasswordField(
        "New password", description=PASSWORD_HINT, render_kw=NEW_PASSWORD | {"required": True}
    )
    next = HiddenField()


class LinkForm(FlaskForm):
    """The button on a landing page: opening a link must not be enough to use it."""

    next = HiddenField()


class DetailsForm(FlaskForm):
    name = StringField(
        "Your name", render_kw={"autocomplete": "name", "autocapitalize": "words", "required": True}
    )
    phone = TelField(
        "Mobile phone (optional)", render_kw={"autocomplete": "tel", "inputmode": "tel"}
    )


@limited_form("email_change")
class EmailChangeForm(FlaskForm):
    new_email = EmailField("New email address", render_kw=EMAIL | {"required": True})
    email_password = PasswordField(
        "Your current password",
        _required("Enter your current password."),
        render_kw=CURRENT_PASSWORD,
    )


@limited_form("email_change")
class EmailAddForm(FlaskForm):
    """A first address for an account without one (made by a texted code): nothing to
    take over, and the address is confirmed by a link as any change is."""

    new_email = EmailField("Email address", render_kw=EMAIL | {"required": True})


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password", _required("Enter your current password."), render_kw=CURRENT_PASSWORD
    )
    new_password = PasswordField(
        "New password", description=PASSWORD_HINT, render_kw=NEW_PASSWORD | {"required": True}
    )


class FirstPasswordForm(FlaskForm):
    """For an account that signs in by emailed links only: no current password to give."""

    new_password = PasswordField(
        "Choose a password", description=PASSWORD_HINT, render_kw=NEW_PASSWORD | {"required": True}
    )


class LinkProvenForm(FlaskForm):
    """Deleting an account without a password: its sign-in came through an emailed link."""


class DeleteForm(FlaskForm):
    password = PasswordField(
        "Your password", _required("Enter your password to confirm."), render_kw=CURRENT_PASSWORD
    )


class NotificationChoicesForm(FlaskForm):
    """What a person chooses to receive (services/notifications/preferences.py). The
    provider's choices are shown only to staff; the service ignores them for anyone else."""

    email_reminders = BooleanField("Reminders by email")
    push = BooleanField("Push notifications", description="On the devices listed below.")
    sms = BooleanField("Text messages")
    staff_email_new = BooleanField("New bookings")
    staff_email_rescheduled = BooleanField("Moved bookings")
    staff_email_cancelled = BooleanField("Cancellations")
    staff_push_new = BooleanField("New bookings")
    staff_push_rescheduled = BooleanField("Moved bookings")
    staff_push_cancelled = BooleanField("Cancellations")

"""What the account views share: where to go after signing in, answering a form post,
starting a session, and how emailed links are built and sent."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_user
from flask_wtf import FlaskForm

from models import User
from services import accounts
from services.accounts import LinkBuilder
from services.errors import Invalid
from services.mail import MailConfig
from views.web import page


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a path on this site, else None (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None  # browsers read "/\evil.example" and "/\t/evil.example" as other sites
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def destination(next_value: str | None) -> str:
    if target := safe_next(next_value):
        return target
    if "appointments.index" in current_app.view_functions:
        return url_for("appointments.index")
    return url_for("account.profile")


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


def start_session(user: User, remember: bool = False) -> None:
    session.clear()  # a new session on every sign-in: nothing from before carries over
    login_user(user, remember=remember)


def mail_config() -> MailConfig:
    outbox = current_app.config.get("MAIL_OUTBOX") or Path(current_app.instance_path) / "outbox"
    return MailConfig(current_app.config["SETTINGS"], Path(outbox))


def link_builder(endpoint: str, next_value: str | None = None) -> LinkBuilder:
    # Links start from the configured base URL, never from the request's Host header,
    # which a client could set to send someone a link to another site.
    base = current_app.config["SETTINGS"].base_url.rstrip("/")
    extra = {"next": target} if (target := safe_next(next_value)) else {}
    return lambda token: base + url_for(endpoint, token=token, **extra)


def phone_region() -> str:
    return current_app.config.get("PHONE_REGION", accounts.DEFAULT_REGION)


def link_invalid():
    return render_template("account/link_invalid.html"), 410

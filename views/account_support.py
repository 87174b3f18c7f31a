"""What only the account views need: where to go after signing in, and how emailed
links are built."""

from __future__ import annotations

import logging
from dataclasses import astuple
from urllib.parse import urlsplit

from flask import current_app, render_template, session, url_for

from services.accounts import account as accounts
from services.accounts.account import LinkBuilder
from services.accounts.landing import landing_for
from views import forms
from views.support import mail_config, now

log = logging.getLogger("kairos.accounts")


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a path on this site, else None (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None  # browsers read "/\evil.example" and "/\t/evil.example" as other sites
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def destination(next_value: str | None, user_id: int) -> str:
    """Where someone goes once signed in: the page they asked for, else where
    services/accounts/landing.py says (staff: their workspace's schedule for today)."""
    if target := safe_next(next_value):
        return target
    if slug := landing_for(user_id):
        return url_for("workspace.day", slug=slug)
    if "appointments.index" in current_app.view_functions:
        return url_for("appointments.index")
    return url_for("account.profile")


def link_builder(endpoint: str, next_value: str | None = None) -> LinkBuilder:
    # Links start from the configured base URL, never from the request's Host header,
    # which a client could set to send someone a link to another site.
    base = current_app.config["SETTINGS"].base_url.rstrip("/")
    extra = {"next": target} if (target := safe_next(next_value)) else {}
    return lambda token: base + url_for(endpoint, token=token, **extra)


def link_invalid():
    return render_template("account/link_invalid.html"), 410


def await_code(pending_id: int, kind: str, next_url: str = ""):
    """Ask for the code just emailed for a sign-up (of a customer or a business)."""
    session["sign_up"] = {"id": pending_id, "kind": kind, "next": next_url}
    return forms.done(url_for("account.sign_up_code"))


LINK_ENDPOINTS = {"reset": "account.reset_password", "magic": "account.magic_sign_in"}


def queue_link(purpose: str, email: str, next_value: str | None) -> None:
    """Hand a password reset or sign-in link to the worker, which emails it if the
    address has an account. Nothing is looked up or sent here, so the answer takes as
    long either way. Tests replace the queue with the ACCOUNT_MAIL setting; if the queue
    cannot be reached, the link is sent from here."""
    job = accounts.ask_for_link(purpose, email, link_builder(LINK_ENDPOINTS[purpose], next_value))
    try:
        enqueue = current_app.config.get("ACCOUNT_MAIL")
        if enqueue is not None:
            enqueue(job)
        else:
            from tasks import send_account_link

            send_account_link(*astuple(job))
    except Exception:
        log.exception("account.link_enqueue_failed purpose=%s", purpose)
        secret = current_app.config["SETTINGS"].secret_key
        accounts.send_link(job, now(), secret=secret, mail=mail_config())

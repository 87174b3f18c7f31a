"""Rate limits at the door: which limits each action counts against, and the answer when
one is used up (429 with Retry-After, on the web and the API alike).

Two ways in, each one line where it is used:

- ``@limited_form("sign_in")`` on a FlaskForm class: the try is counted once the form's
  own checks pass (a form to correct costs nothing). When a limit is used up, the form
  fails with "Too many tries. Try again in 4 minutes." as its own error, so the view
  renders its page as for any bad input, with what was typed (never the password); the
  answer becomes a 429 with Retry-After. For htmx, that is the form's fragment.
- ``@limited("booking")`` on a route (the API, and posts without a FlaskForm): the try is
  counted before the view runs; a used-up limit is a RateLimited error, answered below.

After the response is decided, tries that should not count are given back: a right
password, input sent back to be corrected, a booking that did not happen (ACTIONS).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps

from flask import Flask, current_app, g, jsonify, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from services.ratelimits import Limiter, TryLater, limiter_for
from views.errors import _wants_json as wants_json
from views.errors import error_body
from views.support import now, read_json_object
from views.web import page

Key = Callable[[Mapping], str | None]


def field(name: str) -> Key:
    """The typed value of form or JSON field ``name`` (an email: case and spaces do not
    make another key)."""

    def key(values: Mapping) -> str | None:
        value = values.get(name)
        return value.strip().lower() or None if isinstance(value, str) else None

    return key


def client_address(_values: Mapping) -> str:
    """The client's address; an IPv6 client by its /64, which one host has to itself."""
    address = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def account(_values: Mapping) -> str | None:
    """The signed-in account: by API token, else by session."""
    if "api_user" in g:
        return str(g.api_user.id)
    return str(current_user.id) if current_user.is_authenticated else None


def business(_values: Mapping) -> str | None:
    """The business whose workspace this is (views/workspace sets g.staff)."""
    staff = g.get("staff")
    return str(staff.organisation.id) if staff is not None else None


# Which tries are given back, by the answer's status. 503: the server was too busy to
# try at all (password hashing), so nothing was tried.
def only_failures_count(status: int) -> bool:
    return status < 400 or status == 503


def only_sent_count(status: int) -> bool:
    return status in (400, 422, 503)


def only_made_count(status: int) -> bool:
    return status not in (201, 303)  # what a booking made answers (API, htmx; web)


def every_try_counts(status: int) -> bool:
    return status == 503


@dataclass(frozen=True)
class Action:
    limits: tuple[tuple[str, Key], ...]  # (a name in services.ratelimits.LIMITS, its key)
    give_back: Callable[[int], bool]


ACTIONS: dict[str, Action] = {
    # Web sign-in and API tokens guess the same passwords: they share their counters.
    "sign_in": Action(
        (("sign_in_per_email", field("email")), ("sign_in_per_ip", client_address)),
        only_failures_count,
    ),
    "emailed_link": Action(  # a password reset or a sign-in link
        (("mail_per_address", field("email")), ("mail_per_ip", client_address)),
        only_sent_count,
    ),
    "sign_up": Action(  # customer or business: an address with an account gets an email
        (("sign_up_per_ip", client_address), ("mail_per_address", field("email"))),
        only_sent_count,
    ),
    "email_change": Action(  # asks for the password: a wrong one counts too
        (("email_change_per_account", account), ("mail_per_address", field("new_email"))),
        every_try_counts,
    ),
    "invitation": Action(
        (("invitations_per_business", business), ("mail_per_address", field("email"))),
        only_sent_count,
    ),
    "invitation_resend": Action((("invitations_per_business", business),), only_sent_count),
    "booking": Action(
        (("bookings_per_customer", account), ("bookings_per_ip", client_address)),
        only_made_count,
    ),
    # Booking with a name and email, no account yet: makes an account (as a sign-up
    # does) and sends mail to the address (a confirmation, or its holder's sign-in link).
    # A time taken meanwhile (409) made and sent nothing: it does not count.
    "guest_booking": Action(
        (("sign_up_per_ip", client_address), ("mail_per_address", field("email"))),
        lambda status: only_sent_count(status) or status == 409,
    ),
    "desk_booking": Action((("desk_bookings_per_staff", account),), only_made_count),
    # Signing in with Google, Apple or Facebook: each start and each way back (a code and
    # a state checked, the provider asked).
    "social_sign_in": Action((("social_sign_in_per_ip", client_address),), every_try_counts),
    # Each try reaches Stripe: a stolen-card tester is stopped, declined or not.
    "payment": Action((("payment_tries_per_customer", account),), every_try_counts),
    # Adding a calendar or "sync now" fetches from an outside server at once.
    "calendar_sync": Action((("calendar_syncs_per_account", account),), every_try_counts),
    # A scraper's bearer token for /metrics: a wrong one counts (the page answers 404).
    "metrics_token": Action((("metrics_token_per_ip", client_address),), only_failures_count),
    # A code texted to a phone, and checking it (views/identity/phone.py, the API): keyed
    # by the number in E.164, which the views clean before counting.
    "phone_text": Action(
        (("texts_per_number", field("phone")), ("texts_per_ip", client_address)),
        only_sent_count,
    ),
    "phone_code": Action(
        (("phone_codes_per_number", field("phone")), ("phone_codes_per_ip", client_address)),
        only_failures_count,
    ),
    # Each asks for or checks a passkey challenge (views/identity/passkeys.py).
    "passkey": Action((("passkeys_per_ip", client_address),), every_try_counts),
}


def limiter() -> Limiter:
    return current_app.extensions["ratelimits"]


def take(action: str, values: Mapping) -> None:
    """Count one try of ``action`` (RateLimited if a limit is used up); the after-request
    hook gives it back if the answer says it should not count."""
    if not limiter().enabled:
        return
    wanted = [(name, k) for name, key in ACTIONS[action].limits if (k := key(values))]
    taken = limiter().take(wanted, now())
    g.setdefault("rate_limit_taken", []).append((ACTIONS[action], taken))


def limited(action: str):
    """A route decorator: count a try of ``action`` on every POST, from the JSON body or
    the form posted."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if request.method == "POST":
                take(action, read_json_object() if request.is_json else request.form)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def limited_form(action: str):
    """A FlaskForm class decorator: a submission that passes the form's checks counts a
    try of ``action``; a used-up limit makes it fail with the limit's message."""

    def decorate(form_class):
        validate = form_class.validate

        def validate_within_limits(self, extra_validators=None) -> bool:
            if not validate(self, extra_validators=extra_validators):
                return False
            try:
                take(action, self.data)
            except TryLater as refused:
                g.try_later = refused  # the answer's status and Retry-After (below)
                self.form_errors.append(refused.message)
                return False
            return True

        form_class.validate = validate_within_limits
        return form_class

    return decorate


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    if settings.trusted_proxies:  # the client's address is in X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)
    app.extensions["ratelimits"] = app.config.get("RATE_LIMITER") or limiter_for(
        settings.redis_url, settings.rate_limit_scale, settings.rate_limit_prefix
    )

    @app.after_request
    def settle(response):
        refused = g.pop("try_later", None)
        if refused is not None:
            response.status_code = refused.status
            response.headers["Retry-After"] = str(refused.retry_after)
        for action, taken in g.pop("rate_limit_taken", ()):
            if action.give_back(response.status_code):
                limiter().give_back(taken)
        return response

    @app.errorhandler(TryLater)
    def try_later(error: TryLater):
        if wants_json():
            response = jsonify(error_body(error) | {"retry_after": error.retry_after})
            response.status_code = error.status
        else:
            response = page("errors/429.html", "notice", status=error.status, error=error)
        response.headers["Retry-After"] = str(error.retry_after)
        response.headers["Cache-Control"] = "no-store"
        return response

"""What the HTML side of the app shares: extensions, template filters, and rendering
a page or, for htmx, just the block of it that changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Flask, abort, g, make_response, render_template, request
from flask_compress import Compress
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from jinja2_fragments.flask import render_block

from models import User
from scheduling.zones import zone_label
from services.accounts import sessions
from services.accounts.landing import landing_for
from services.formats import day_label, local_time, money
from views.support import forget_dead_session, now, read_json

csrf = CSRFProtect()
login_manager = LoginManager()
compress = Compress()


def init_app(app: Flask) -> None:
    Htmx(app)
    csrf.init_app(app)
    compress.init_app(app)

    @app.after_request  # registered after flask-compress, so it runs just before it
    def buffer_static_files(response):
        # flask-compress replaces a streamed file's iterator without closing the file;
        # reading the (small) static file into memory first lets werkzeug close it.
        if request.endpoint == "static" and response.is_streamed:
            response.direct_passthrough = False  # so closing the response closes the file
            response.make_sequence()
        return response

    @app.before_request
    def json_bodies_are_objects():
        # flask-wtf takes a JSON body for the form's data: one that is not an object (a
        # string, a list) broke it (a 500), and a deep one would recurse. The pages'
        # routes take form posts, or a JSON object (push devices, passkeys, payments).
        if (
            request.method in ("POST", "PUT", "PATCH", "DELETE")
            and request.is_json
            and not request.path.startswith("/api/")
            and not isinstance(read_json(), dict)
        ):
            abort(400, "Send a JSON object.")

    login_manager.init_app(app)
    login_manager.login_view = "account.sign_in"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "basic"
    app.config.setdefault(
        "COMPRESS_MIMETYPES",
        [
            "text/html",
            "text/css",
            "application/javascript",
            "text/javascript",
            "application/json",
            "application/manifest+json",
            "image/svg+xml",
        ],
    )
    app.jinja_env.filters.update(
        money=money, local=local_time, day=day_label, zone=zone_name, initials=initials
    )
    app.jinja_env.globals.update(
        is_fragment=wants_fragment,
        staff_workspace=staff_workspace,
        timedelta=timedelta,
    )


@login_manager.user_loader
def load_user(key: str) -> User | None:
    """The user of the sign-in whose key the session or remember cookie carries (one
    indexed query); nobody for a sign-in that has ended or expired, whose cookies go."""
    user = sessions.signed_in_user(key, now(), request.remote_addr)
    if user is None:
        forget_dead_session()
    return user


def zone_name(zone: str, at: datetime | date | None = None) -> str:
    """The ``zone`` filter: "London time (GMT)" at ``at`` (a day, an instant), or now."""
    return zone_label(zone, now() if at is None else at)


def staff_workspace() -> str | None:
    """The slug of a business whose workspace the signed-in user may open, if any."""
    if not current_user.is_authenticated:
        return None
    if "staff_workspace" not in g:
        g.staff_workspace = landing_for(current_user.id)  # the one they land on
    return g.staff_workspace


def wants_fragment() -> bool:
    """An htmx request that swaps part of the page (not a boosted page, not a history
    restore, which must get the whole page)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and request_type() == "partial"


def request_type() -> str:
    """htmx 4's HX-Request-Type: "partial" when it swaps part of the page, "full" for a
    boosted link or form. htmx-flask 0.1 was written for htmx 1 and does not read this
    header, so it is read here, the one place outside request.htmx. (Absent: an older
    htmx or a hand-made request, taken as partial.)"""
    return request.headers.get("HX-Request-Type", "partial")


def page(template: str, block: str | None = None, *, status: int = 200, **context):
    """The whole page, or only ``block`` of it when htmx asks for a fragment."""
    if block and wants_fragment():
        html = render_block(template, block, **context)
    else:
        html = render_template(template, **context)
    response = make_response(html, status)
    response.vary.add("HX-Request")
    response.vary.add("HX-Request-Type")
    return response


def initials(name: str) -> str:
    words = [w for w in name.split() if w[:1].isalpha() and not w.endswith(".")]  # not "Dr."
    picked = [words[0], words[-1]] if len(words) > 1 else words
    return "".join(w[0].upper() for w in picked)

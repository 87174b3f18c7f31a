"""Passkeys (issue 17): adding one from Account → Sign-in methods, and signing in with
one from the sign-in page (services/identity/passkeys.py). static/js/passkeys.js asks
for the options, hands them to the browser and posts its answer back: same-origin JSON
with the CSRF token, each try counted against the ``passkey`` rate limit.

With no usable relying party (BASE_URL's host is an IP address) every route is a 404
and the templates show no passkey button. Removing a passkey is Account → Sign-in
methods' (views/identity/methods.py)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, jsonify, request, url_for
from flask_login import current_user, login_required

from services.errors import NotFound
from services.formats import device_label
from services.identity import passkeys
from views import account_support
from views.limits import limited
from views.support import now, read_json_object, start_session

bp = Blueprint("passkeys", __name__, url_prefix="/account/passkeys")


def relying_party() -> passkeys.RelyingParty | None:
    return passkeys.relying_party(current_app.config["SETTINGS"].base_url)


@bp.app_template_global()
def passkeys_available() -> bool:
    """Whether this site can offer passkeys at all (the browser decides the rest)."""
    return relying_party() is not None


@bp.app_template_global()
def passkey_rp_id() -> str:
    """The host passkeys are bound to: on any other (the same app opened by its IP
    address, say) the browser would refuse them, so the script leaves them hidden."""
    rp = relying_party()
    return rp.id if rp is not None else ""


@bp.app_template_global()
def passkey_name_suggestion() -> str:
    """What a new passkey is called unless its owner says otherwise: this device."""
    return device_label(request.user_agent.string)


@bp.after_request
def private(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _rp() -> passkeys.RelyingParty:
    rp = relying_party()
    if rp is None:
        raise NotFound("Passkeys are not available on this site.")
    return rp


def _options(text: str) -> Response:
    return Response(text, mimetype="application/json")


def _secret() -> str:
    return current_app.config["SETTINGS"].secret_key


@bp.post("/options")
@login_required
@limited("passkey")
def registration_options():
    return _options(passkeys.registration_options(current_user, _rp(), _secret(), now()))


@bp.post("")
@login_required
@limited("passkey")
def register():
    body = read_json_object()
    rp = _rp()
    name = passkeys.clean_passkey_name(body.get("name"), passkey_name_suggestion())
    passkey = passkeys.register(current_user.id, body.get("credential"), name, rp, now())
    message = f"Passkey added: {passkey.name} now signs you in."
    flash(message, "success")
    return jsonify(message=message, redirect=url_for("methods.index")), 201


@bp.post("/sign-in/options")
@limited("passkey")
def sign_in_options():
    return _options(passkeys.sign_in_options(_rp(), now()))


@bp.post("/sign-in")
@limited("passkey")
def sign_in():
    body = read_json_object()
    user = passkeys.sign_in(body.get("credential"), _rp(), _secret(), now())
    start_session(user, remember=body.get("remember") is True, method="passkey")
    next_value = body.get("next") if isinstance(body.get("next"), str) else None
    return jsonify(redirect=account_support.destination(next_value, user.id))

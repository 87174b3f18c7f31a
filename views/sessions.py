"""Account → Security: the browsers signed in to the account and the apps using it through
the API, each of which its holder can sign out. Every id in these URLs is looked up among
the signed-in person's own (services/accounts/sessions.py): another person's id, or one
already signed out, changes nothing and gets the same answer."""

from __future__ import annotations

from flask import Blueprint, url_for
from flask_login import current_user, login_required

from services.accounts import auth, sessions
from views import forms
from views.support import now
from views.web import page

bp = Blueprint("sessions", __name__, url_prefix="/account/security")


@bp.get("")
@login_required
def security():
    moment = now()
    return page(
        "account/security.html",
        devices=sessions.devices(current_user.id, current_user.sign_in_key, moment),
        apps=auth.app_tokens(current_user.id, moment),
        active_since=moment - 2 * sessions.SEEN_EVERY,
        timezone=current_user.timezone,
    )


@bp.post("/devices/<id:sign_in_id>/sign-out")
@login_required
def sign_out_device(sign_in_id: int):
    sessions.end_device(current_user.id, sign_in_id, now())
    return forms.done(url_for(".security"), "That device is signed out.")


@bp.post("/devices/sign-out")
@login_required
def sign_out_other_devices():
    sessions.end_others(current_user.id, current_user.sign_in_key, now())
    return forms.done(url_for(".security"), "Every other device is signed out.")


@bp.post("/apps/<id:token_id>/sign-out")
@login_required
def sign_out_app(token_id: int):
    auth.revoke_tokens(current_user.id, now(), token_id)
    return forms.done(url_for(".security"), "That app is signed out.")


@bp.post("/apps/sign-out")
@login_required
def sign_out_apps():
    auth.revoke_tokens(current_user.id, now())
    return forms.done(url_for(".security"), "Every app is signed out.")

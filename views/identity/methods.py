"""Account → Sign-in methods: every way the account signs in, with a Remove button for
each but the last (services/identity/methods.py). Ids in these URLs are looked up among
the signed-in person's own: another's gets the same 404 as one that does not exist."""

from __future__ import annotations

from flask import Blueprint, url_for
from flask_login import current_user, login_required

from services.identity import methods
from views import forms
from views.web import page

bp = Blueprint("methods", __name__, url_prefix="/account/sign-in-methods")


def methods_page(status: int = 200, problem: str | None = None, **context):
    """The page; partials of the other identity modules add their own ``context``."""
    return page(
        "account/sign_in_methods.html",
        status=status,
        methods=methods.methods_of(current_user),
        problem=problem,
        timezone=current_user.timezone,
        **context,
    )


@bp.get("")
@login_required
def index():
    return methods_page()


def _remove(kind: str, method_id: int | None = None):
    try:
        gone = methods.remove(current_user.id, kind, method_id)
    except methods.LastMethod as exc:
        return methods_page(409, exc.message)
    what = f"{gone.label} ({gone.detail})" if gone.detail else gone.label
    return forms.done(url_for(".index"), f"{what} is removed: it no longer signs you in.")


@bp.post("/password/remove")
@login_required
def remove_password():
    return _remove("password")


@bp.post("/identities/<id:identity_id>/remove")
@login_required
def remove_identity(identity_id: int):
    return _remove("identity", identity_id)


@bp.post("/passkeys/<id:passkey_id>/remove")
@login_required
def remove_passkey(passkey_id: int):
    return _remove("passkey", passkey_id)

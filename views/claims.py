"""The link in a business's emails to a customer it entered at the desk: "add it to your
Kairos account" (services/accounts/claims.py).

Opening the link shows what it adds. Signed in, one tap adds it (a POST, so that a
mail scanner or another site opening the link cannot); signed out, the page offers
signing in or up, and comes back here (``next``) to that tap. A link that does not
work is a page that says why, never an error.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user

from services.accounts import claims
from views import account_forms, forms
from views.support import now

bp = Blueprint("claims", __name__, url_prefix="/account/claim")


@bp.after_request
def private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


@bp.route("/<token>", methods=["GET", "POST"])
def claim(token: str):
    account = current_user if current_user.is_authenticated else None
    form = account_forms.LinkForm()
    secret = current_app.config["SECRET_KEY"]
    try:
        if account is not None and form.validate_on_submit():
            added = claims.claim(token, account, now(), secret)
            many = len(added.upcoming) + added.earlier > 1
            name = added.organisation.name
            said = f"bookings with {name} are" if many else f"booking with {name} is"
            return _added(f"Your {said} in your appointments now.")
        found = claims.open_link(token, now(), secret, account.id if account else None)
    except claims.AlreadyClaimed as taken:
        if taken.by_you:  # a second tap, or the link opened again later
            return _added(f"Your {taken.organisation.name} bookings are in your appointments.")
        return _unusable("taken", 409, organisation=taken.organisation)
    except claims.ClaimLinkExpired as expired:
        return _unusable("expired", 410, organisation=expired.organisation)
    except claims.ClaimLinkInvalid:
        return _unusable("invalid", 404)
    return render_template(
        "claims/claim.html", claim=found, form=form, **_sign_in_forms(found.record)
    )


def _added(message: str):
    return forms.done(url_for("appointments.index"), message)


def _unusable(why: str, status: int, **context):
    days = claims.LIFETIME.days
    return render_template("claims/unusable.html", why=why, days=days, **context), status


def _sign_in_forms(record) -> dict:
    """Signed out: the sign-in and sign-up forms, filled in with what the business has
    (the link went to that address), coming back here afterwards."""
    if current_user.is_authenticated:
        return {}
    here = request.path
    return {
        "sign_in": account_forms.SignInForm(formdata=None, email=record.email, next=here),
        "sign_up": account_forms.SignUpForm(
            formdata=None, name=record.name, email=record.email, next=here
        ),
    }

"""The page an invited provider lands on from the emailed link. It is not behind
staff_only: whoever has the link may open it. The owner's side of invitations is in
views/workspace/staff.py."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from htmx_flask import make_response as htmx_response
from wtforms import PasswordField, StringField, TelField

from services.errors import Invalid
from services.workspace import invitations
from views import forms, support
from views.account_forms import NEW_PASSWORD, PASSWORD_HINT
from views.support import now
from views.web import page, wants_fragment
from views.workspace import bp
from views.workspace.staff import NAME


class JoinForm(FlaskForm):
    """A new account for the invited email, which is shown but not asked for."""

    name = StringField("Your name", render_kw=NAME | {"autocomplete": "name"})
    phone = TelField(
        "Mobile phone (optional)", render_kw={"autocomplete": "tel", "inputmode": "tel"}
    )
    password = PasswordField(
        "Choose a password", description=PASSWORD_HINT, render_kw=NEW_PASSWORD | {"required": True}
    )


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(slug: str, token: str):
    try:
        invitation = invitations.invitation_by_token(slug, token, now())
    except invitations.InvitationInvalid:
        return _gone()
    if request.method == "POST" and request.form.get("action") == "switch":
        support.end_session()  # signed in as somebody else: sign out, and look again
        return _private(redirect(request.path, 303))
    user = current_user if current_user.is_authenticated else None
    state = invitations.join_state(invitation, user)
    form, status = JoinForm(name=invitation.name), 200
    problem = (
        invitations.join_problem(invitation.organisation, user) if state == "blocked" else None
    )
    if request.method == "POST":
        # Only "join" and "sign_up" can act; the others see the page again, refused.
        status = {"sign_in": 403, "switch": 403, "blocked": 409}.get(state, 200)
        try:
            if status == 200:
                return _private(_accept(invitation, token, state, form))
        except Invalid as exc:
            forms.show_problems(form, exc)
            status = 422
        except invitations.CannotJoin as exc:
            state, problem, status = "blocked", exc.message, 409
        except invitations.InvitationInvalid:
            return _gone()
    return _join_page(invitation, state, form, status, problem)


def _join_page(invitation, state: str, form: JoinForm, status: int, problem: str | None):
    if wants_fragment() and state != "sign_up":
        return _reload()  # only the sign-up form swaps itself; anything else is a new page
    response = page(
        "workspace/invitation.html",
        "form",
        status=status,
        invitation=invitation,
        org=invitation.organisation,
        state=state,
        form=form,
        problem=problem,
        sign_in_url=url_for("account.sign_in", next=request.path),
    )
    return _private(response)


def _accept(invitation, token: str, state: str, form: JoinForm):
    """Join as the signed-in user, or with a new account (Invalid for a bad form)."""
    org = invitation.organisation
    if state == "join":
        invitations.accept(org.slug, token, current_user, now())
        user = current_user
    else:
        user = invitations.join_with_new_account(
            org.slug,
            token,
            now(),
            name=form.name.data,
            password=form.password.data,
            phone=form.phone.data,
            region=support.phone_region(),
        )
        support.start_session(user, method="invite")
    # Someone with no hours yet lands on the dashboard, which asks for them.
    first = "workspace.dashboard" if invitations.needs_hours(org, user.id) else "workspace.day"
    return forms.done(url_for(first, slug=org.slug), f"Welcome to {org.name}.")


def _gone():
    """The link is dead: a page saying so."""
    if wants_fragment():
        return _reload()
    return _private(make_response(render_template("workspace/invitation_invalid.html"), 410))


def _reload():
    """For htmx: load this address as a whole page."""
    return _private(htmx_response("", 200, redirect=request.path))


def _private(response):
    """No caching, and no Referer header carrying the token to other sites."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response

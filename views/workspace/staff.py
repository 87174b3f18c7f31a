"""Staff: the owner's list of providers and invitations, deactivating a provider, and
the page an invited provider lands on from the emailed link (which is not behind
staff_only: whoever has the link may open it)."""

from __future__ import annotations

from flask import (
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, TelField, TextAreaField

from models import Organisation
from services import policy
from services import staff as staffing
from services.accounts import LinkBuilder
from services.errors import Invalid
from views import account_support as support
from views.account_forms import EMAIL, NEW_PASSWORD, PASSWORD_HINT
from views.support import now
from views.web import page, wants_fragment
from views.workspace import bp, owner_only

NAME = {"autocomplete": "off", "autocapitalize": "words", "required": True}


class InviteForm(FlaskForm):
    name = StringField("Name", render_kw=NAME)
    email = EmailField("Email", render_kw=EMAIL | {"autocomplete": "off", "required": True})


class JoinForm(FlaskForm):
    """A new account for the invited email, which is shown but not asked for."""

    name = StringField("Your name", render_kw=NAME | {"autocomplete": "name"})
    phone = TelField(
        "Mobile phone (optional)", render_kw={"autocomplete": "tel", "inputmode": "tel"}
    )
    password = PasswordField(
        "Choose a password", description=PASSWORD_HINT, render_kw=NEW_PASSWORD | {"required": True}
    )


class DeactivateForm(FlaskForm):
    """The message; what happens to each booking comes as decision-<booking id> fields."""

    message = TextAreaField(
        "Message to customers whose booking is cancelled",
        description="They see it with the cancelled booking.",
        render_kw={"rows": 3, "maxlength": staffing.MAX_MESSAGE},
    )


def _staff_url() -> str:
    return url_for("workspace.staff", slug=g.staff.organisation.slug)


def _join_link(org: Organisation) -> LinkBuilder:
    # From the configured base URL, never the request's Host header (see link_builder).
    base = current_app.config["SETTINGS"].base_url.rstrip("/")
    return lambda token: base + url_for("workspace.join", slug=org.slug, token=token)


@bp.route("/staff", methods=["GET", "POST"])
@owner_only
def staff():
    org, form = g.staff.organisation, InviteForm()
    if form.validate_on_submit():
        try:
            invitation = staffing.invite(
                org,
                current_user,
                form.name.data,
                form.email.data,
                now(),
                link=_join_link(org),
                mail=support.mail_config(),
            )
        except Invalid as exc:
            support.show_problems(form, exc)
        else:
            return support.done(_staff_url(), f"Invitation sent to {invitation.email}.")
    team = staffing.team(org, g.staff.user_id)
    return support.form_page("workspace/staff.html", form, org=org, team=team, now=now())


@bp.post("/staff/invitations/<int:invitation_id>/resend")
@owner_only
def resend_invitation(invitation_id: int):
    org = g.staff.organisation
    invitation = staffing.resend(
        org, invitation_id, current_user, now(), link=_join_link(org), mail=support.mail_config()
    )
    return support.done(
        _staff_url(), f"A new link was sent to {invitation.email}. The old link no longer works."
    )


@bp.post("/staff/invitations/<int:invitation_id>/revoke")
@owner_only
def revoke_invitation(invitation_id: int):
    invitation = staffing.revoke(g.staff.organisation, invitation_id, now())
    return support.done(_staff_url(), f"The invitation to {invitation.email} was withdrawn.")


@bp.post("/staff/add-me")
@owner_only
def add_me():
    staffing.add_self(g.staff.organisation, current_user)
    return support.done(
        _staff_url(), "You are a provider now: set your hours and choose your services."
    )


@bp.post("/staff/<int:provider_id>/reactivate")
@owner_only
def reactivate(provider_id: int):
    provider = staffing.reactivate(policy.provider_for(g.staff, provider_id))
    return support.done(_staff_url(), f"{provider.name} is active again.")


@bp.route("/staff/<int:provider_id>/deactivate", methods=["GET", "POST"])
@owner_only
def deactivate(provider_id: int):
    provider = policy.provider_for(g.staff, provider_id)
    if not provider.active:
        return redirect(_staff_url(), 303)
    form, decisions, problems, status = DeactivateForm(), _decisions(), {}, 200
    if form.validate_on_submit():
        try:
            staffing.deactivate(provider, g.staff.user_id, decisions, form.message.data, now())
        except Invalid as exc:
            problems, status = exc.fields, 422
        except staffing.NotAllDone as exc:
            problems, status = {f"decision-{i}": m for i, m in exc.problems.items()}, 409
        else:
            return support.done(_staff_url(), f"{provider.name} is deactivated.")
    if "message" in problems:
        form.message.errors = [problems["message"]]
    return page(
        "workspace/deactivate.html",
        "form",
        status=status,
        org=g.staff.organisation,
        form=form,
        plan=staffing.departure(provider, now()),
        chosen=decisions,
        problems=problems,
    )


def _decisions() -> dict[int, str]:
    """decision-<booking id> fields: booking id → what was chosen."""
    found = {}
    for name, value in request.form.items():
        key = name.removeprefix("decision-")
        if key != name and key.isdigit():
            found[int(key)] = value
    return found


# The emailed link ------------------------------------------------------------------------


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(slug: str, token: str):
    try:
        invitation = staffing.invitation_by_token(slug, token, now())
    except staffing.InvitationInvalid:
        return _gone()
    if request.method == "POST" and request.form.get("action") == "switch":
        session.clear()  # signed in as somebody else: sign out, and look again
        logout_user()
        return _private(redirect(request.path, 303))
    user = current_user if current_user.is_authenticated else None
    state = staffing.join_state(invitation, user)
    form, status = JoinForm(name=invitation.name), 200
    problem = staffing.join_problem(invitation.organisation, user) if state == "blocked" else None
    if request.method == "POST":
        # Only "join" and "sign_up" can act; the others see the page again, refused.
        status = {"sign_in": 403, "switch": 403, "blocked": 409}.get(state, 200)
        try:
            if status == 200:
                return _private(_accept(invitation, token, state, form))
        except Invalid as exc:
            support.show_problems(form, exc)
            status = 422
        except staffing.CannotJoin as exc:
            state, problem, status = "blocked", exc.message, 409
        except staffing.InvitationInvalid:
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
        staffing.accept(org.slug, token, current_user, now())
    else:
        user = staffing.join_with_new_account(
            org.slug,
            token,
            now(),
            name=form.name.data,
            password=form.password.data,
            phone=form.phone.data,
            region=support.phone_region(),
        )
        support.start_session(user)
    return support.done(url_for("workspace.day", slug=org.slug), f"Welcome to {org.name}.")


def _gone():
    """The link is dead: a page saying so."""
    if wants_fragment():
        return _reload()
    return _private(make_response(render_template("workspace/invitation_invalid.html"), 410))


def _reload():
    """For htmx: load this address as a whole page."""
    response = make_response("", 200)
    response.headers["HX-Redirect"] = request.path
    return _private(response)


def _private(response):
    """No caching, and no Referer header carrying the token to other sites."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response

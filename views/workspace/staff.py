"""Staff: the owner's list of providers and invitations, and deactivating a provider.
The page an invited provider lands on from the emailed link is in views/workspace/join.py."""

from __future__ import annotations

from flask import current_app, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField

from models import Organisation
from services import access
from services.accounts.account import LinkBuilder
from services.errors import Invalid
from services.workspace import deactivation, invitations
from services.workspace import staff as staffing
from views import forms, support
from views.account_forms import EMAIL
from views.limits import limited, limited_form
from views.support import now
from views.web import page
from views.workspace import bp, owner_only

NAME = {"autocomplete": "off", "autocapitalize": "words", "required": True}


@limited_form("invitation")
class InviteForm(FlaskForm):
    name = StringField("Name", render_kw=NAME)
    email = EmailField("Email", render_kw=EMAIL | {"autocomplete": "off", "required": True})


class DeactivateForm(FlaskForm):
    """The message; what happens to each booking comes as decision-<booking id> fields."""

    message = TextAreaField(
        "Message to customers whose booking is cancelled",
        description="They see it with the cancelled booking.",
        render_kw={"rows": 3, "maxlength": deactivation.MAX_MESSAGE},
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
            invitation = invitations.invite(
                org,
                current_user,
                form.name.data,
                form.email.data,
                now(),
                link=_join_link(org),
                mail=support.mail_config(),
            )
        except Invalid as exc:
            forms.show_problems(form, exc)
        else:
            return forms.done(_staff_url(), f"Invitation sent to {invitation.email}.")
    team = staffing.team(org, g.staff.user_id)
    return forms.form_page("workspace/staff.html", form, org=org, team=team, now=now())


@bp.post("/staff/invitations/<id:invitation_id>/resend")
@owner_only
@limited("invitation_resend")
def resend_invitation(invitation_id: int):
    org = g.staff.organisation
    invitation = invitations.resend(
        org, invitation_id, current_user, now(), link=_join_link(org), mail=support.mail_config()
    )
    return forms.done(
        _staff_url(), f"A new link was sent to {invitation.email}. The old link no longer works."
    )


@bp.post("/staff/invitations/<id:invitation_id>/revoke")
@owner_only
def revoke_invitation(invitation_id: int):
    invitation = invitations.revoke(g.staff.organisation, invitation_id, g.staff.user_id, now())
    return forms.done(_staff_url(), f"The invitation to {invitation.email} was withdrawn.")


@bp.post("/staff/add-me")
@owner_only
def add_me():
    staffing.add_self(g.staff.organisation, current_user, now())
    return forms.done(
        _staff_url(), "You are a provider now: set your hours and choose your services."
    )


@bp.post("/staff/<id:provider_id>/reactivate")
@owner_only
def reactivate(provider_id: int):
    provider = staffing.reactivate(
        access.provider_for(g.staff, provider_id), g.staff.user_id, now()
    )
    return forms.done(_staff_url(), f"{provider.name} is active again.")


@bp.route("/staff/<id:provider_id>/deactivate", methods=["GET", "POST"])
@owner_only
def deactivate(provider_id: int):
    provider = access.provider_for(g.staff, provider_id)
    if not provider.active:
        return redirect(_staff_url(), 303)
    form, decisions, problems, status = DeactivateForm(), _decisions(), {}, 200
    if form.validate_on_submit():
        try:
            deactivation.deactivate(
                provider,
                g.staff.user_id,
                decisions,
                form.message.data,
                now(),
                dispatch=g.dispatch,
            )
        except Invalid as exc:
            problems, status = exc.fields, 422
        except deactivation.NotAllDone as exc:
            problems, status = {f"decision-{i}": m for i, m in exc.problems.items()}, 409
        else:
            return forms.done(_staff_url(), f"{provider.name} is deactivated.")
    if "message" in problems:
        form.message.errors = [problems["message"]]
    return page(
        "workspace/deactivate.html",
        "form",
        status=status,
        org=g.staff.organisation,
        form=form,
        plan=deactivation.departure(provider, now()),
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

"""Settings → Payments (owner only): whether customers can pay online and through whose
Stripe account; connecting the business's own account, replacing its keys, and
disconnecting it. The rules are services/payments/accounts.py's.

The secret key and the signing secret are never sent back to the browser: not once
saved, and not with a form that had a problem (the page says to paste them again).
"""

from __future__ import annotations

from flask import g, request, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField

from services.errors import DomainError, Invalid
from services.payments import accounts, webhooks
from views import forms
from views.errors import status_for
from views.support import now
from views.web import page
from views.workspace import bp, owner_only

PASTED = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}


class StripeKeysForm(FlaskForm):
    publishable_key = StringField(
        "Publishable key", description="Starts with pk_test_ or pk_live_.", render_kw=PASTED
    )
    secret_key = PasswordField(
        "Secret key",
        description="Starts with sk_test_ or sk_live_ (rk_ for a restricted key), from the"
        " same mode as the publishable key.",
        render_kw=PASTED,
    )
    webhook_secret = PasswordField(
        "Webhook signing secret",
        description="Starts with whsec_. Stripe shows it once you add the webhook address above.",
        render_kw=PASTED,
    )


def _url() -> str:
    return url_for("workspace.payments", slug=g.staff.organisation.slug)


def _page(form: StripeKeysForm, status: int = 200, refused: str | None = None):
    org = g.staff.organisation
    return page(
        "workspace/payments.html",
        "form",
        status=status,
        org=org,
        form=form,
        connection=accounts.connection(org),
        events=webhooks.HANDLED,
        refused=refused,
    )


@bp.route("/settings/payments", methods=["GET", "POST"])
@owner_only
def payments():
    form = StripeKeysForm()
    if not form.validate_on_submit():
        return _page(form, 422 if request.method == "POST" else 200)
    org = g.staff.organisation
    replacing = bool(org.stripe_secret_key)
    try:
        accounts.connect(
            org,
            form.publishable_key.data,
            form.secret_key.data,
            form.webhook_secret.data,
            actor_id=g.staff.user_id,
            now=now(),
        )
    except Invalid as exc:
        forms.show_problems(form, exc)
        return _page(form, 422)
    except DomainError as exc:  # a booking is waiting for its payment
        form.form_errors.append(exc.message)
        return _page(form, status_for(exc))
    done = "Stripe keys replaced." if replacing else "Stripe connected: customers can pay online."
    return forms.done(_url(), done)


@bp.post("/settings/payments/disconnect")
@owner_only
def disconnect_stripe():
    try:
        accounts.disconnect(g.staff.organisation, actor_id=g.staff.user_id, now=now())
    except DomainError as exc:
        return _page(StripeKeysForm(formdata=None), status_for(exc), refused=exc.message)
    return forms.done(_url(), "Stripe disconnected.")

"""Signing in with Google, Apple and Facebook (services/identity/social.py).

"Continue with ..." (``/sign-in/<provider>?next=...``) and Account → Sign-in methods'
"Add ..." (``/account/sign-in-methods/add/<provider>``) are links, since the consent page
is another site (CSP's form-action would stop a form redirecting there). Each keeps its
state, nonce, PKCE verifier, what it is for and ``next`` in the session, and sends the
person to the provider; every provider sends them back to ``/sign-in/<provider>/back``.

Apple sends them back with a POST from its own site (form_post), which a SameSite=Lax
session cookie does not come with: that POST only answers 303 to the GET of the same
address with the same parameters, which the cookie does come with, and which does the
work. It is the one route without a CSRF token: nothing happens there, and the state
checked on the GET is the proof. Start and way back count against a per-address limit.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_login import current_user, login_required

from services.identity import social
from views import forms
from views.account_support import destination, safe_next
from views.limits import take
from views.support import absolute_url, now, start_session
from views.web import csrf, page

bp = Blueprint("social", __name__)
log = logging.getLogger("kairos.identity")

KEPT = "social"  # the session key of the sign-in under way
KEEP_FOR = timedelta(minutes=15)  # to agree at the provider and come back
APPLE_FIELDS = ("code", "state", "user", "error")  # what Apple's POST carries on to the GET


@bp.app_template_global()
def social_providers() -> list[social.Provider]:
    """The configured providers, for the sign-in and sign-up pages' buttons."""
    return social.configured(current_app.config["SETTINGS"])


@bp.app_template_global()
def social_to_add() -> list[social.Provider]:
    """The configured providers the signed-in account does not sign in with yet."""
    linked = social.linked_providers(current_user.id)
    return [p for p in social_providers() if p.name not in linked]


@bp.after_request
def private(response):
    # Nothing here is kept by a cache; the way back's address holds a code and a state,
    # which no Referer should carry on.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _provider(name: str) -> social.Provider:
    provider = social.provider_named(current_app.config["SETTINGS"], name)
    if provider is None:
        abort(404)
    return provider


def _callback_url(provider: social.Provider) -> str:
    return absolute_url("social.callback", provider=provider.name)


@bp.get("/sign-in/<provider>")
def start(provider: str):
    take("social_sign_in", {})
    chosen = _provider(provider)
    next_path = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(destination(next_path, current_user.id), 303)
    return _go(chosen, {"mode": "sign_in", "next": next_path})


@bp.get("/account/sign-in-methods/add/<provider>")
@login_required
def add(provider: str):
    take("social_sign_in", {})
    return _go(_provider(provider), {"mode": "link", "user_id": current_user.id})


def _go(provider: social.Provider, purpose: dict):
    try:
        url, kept = social.begin(provider, _callback_url(provider))
    except social.SocialError as exc:
        return _problem(provider, exc, purpose)
    at = now().timestamp()
    session[KEPT] = {**kept, **purpose, "provider": provider.name, "at": at}
    return redirect(url, 302)


@bp.post("/sign-in/apple/back")
def apple_form_post():
    carried = {k: request.form[k][:4000] for k in APPLE_FIELDS if request.form.get(k)}
    return redirect(url_for(".callback", provider="apple", **carried), 303)


csrf.exempt(apple_form_post)


@bp.get("/sign-in/<provider>/back")
def callback(provider: str):
    take("social_sign_in", {})
    chosen = _provider(provider)
    kept = session.pop(KEPT, None) or {}
    try:
        if kept.get("provider") != chosen.name or _too_old(kept):
            raise social.refused(chosen, "state: none kept for this provider")
        answer = request.args.to_dict()
        profile = social.finish(chosen, kept, answer, _callback_url(chosen), now())
        if kept.get("mode") == "link":
            return _link(chosen, kept, profile)
        signed = social.sign_in(profile, now())
    except social.SocialError as exc:
        return _problem(chosen, exc, kept)
    except social.EmailNotVerified:
        log.info("social.refused provider=%s reason=email of an account, not verified", provider)
        return page("account/social/not_linked.html", status=409, provider=chosen)
    start_session(signed.user, method=chosen.name)
    welcome = f"Welcome, {signed.user.name}." if signed.created else None
    return forms.done(destination(kept.get("next"), signed.user.id), welcome)


def _too_old(kept: dict) -> bool:
    at = kept.get("at")
    return not isinstance(at, int | float) or now().timestamp() - at > KEEP_FOR.total_seconds()


def _link(provider: social.Provider, kept: dict, profile: social.Profile):
    if not current_user.is_authenticated or current_user.id != kept.get("user_id"):
        raise social.refused(provider, "link: not the account that asked")
    try:
        added = social.link(current_user.id, profile, now())
    except social.LinkedElsewhere as exc:
        return _problem(provider, exc, kept, status=409)
    said = "is added: you can sign in with it now." if added else "was already added."
    return forms.done(url_for("methods.index"), f"{provider.label} {said}")


def _problem(provider: social.Provider, error, kept: dict, status: int = 400):
    """The page saying what went wrong, with a way to try again or another way in."""
    log.info(
        "social.refused provider=%s reason=%s",
        provider.name,
        getattr(error, "reason", error.code),
    )
    linking = kept.get("mode") == "link"
    if linking:
        again = url_for(".add", provider=provider.name)
    else:
        again = url_for(".start", provider=provider.name, next=kept.get("next") or None)
    return page(
        "account/social/problem.html",
        status=status,
        provider=provider,
        error=error,
        again=again,
        linking=linking,
        next=kept.get("next"),
    )

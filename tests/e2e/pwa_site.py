"""The real app plus two test-only routes that sign someone in and out directly, for the
browser tests of saved "my appointments" pages (tests/e2e/test_pwa_e2e.py), so that they
do not depend on the sign-in form. Served by gunicorn: ``tests.e2e.pwa_site:create()``."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request
from flask_login import login_user, logout_user

from app import create_app
from models import User
from views import web


def create() -> Flask:
    app = create_app()
    stand_in = Blueprint("pwa_test", __name__, url_prefix="/_test")

    @stand_in.get("/sign-in/<int:user_id>")
    def sign_in(user_id: int):
        login_user(User.get_by_id(user_id))
        return redirect(request.args.get("next", "/appointments"))

    @stand_in.post("/account/sign-out")  # pwa.js reacts to forms ending in /account/sign-out
    def sign_out():
        logout_user()
        return redirect("/", 303)

    app.register_blueprint(stand_in)
    web.csrf.exempt(stand_in)
    return app

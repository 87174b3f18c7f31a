"""The public pages. The booking journey itself arrives with the customer app."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from models import Organisation
from services import catalogue

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    only = Organisation.select().order_by(Organisation.id).limit(2)
    if len(only) == 1:
        return redirect(url_for("public.organisation", slug=only[0].slug))
    return render_template("public/home.html", organisations=list(only))


@bp.get("/<slug>")
def organisation(slug: str):
    org = catalogue.organisation(slug)
    offered = catalogue.services_with_providers(org)
    return render_template("public/organisation.html", org=org, offered=offered)

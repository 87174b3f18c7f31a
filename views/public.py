"""The public pages. The booking journey itself arrives with the customer app."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from services import contact
from services.booking import catalogue
from services.workspace import settings as org_settings

bp = Blueprint("public", __name__)

# How to reach a business, for every page that shows it (public/_contact.html).
bp.add_app_template_global(contact.contact_of, "contact_of")


@bp.get("/")
def home():
    """The businesses taking bookings (catalogue.listed_organisations); straight to the
    booking page when there is only one, as on a business's own installation."""
    listed = catalogue.listed_organisations()
    if len(listed) == 1:
        return redirect(url_for("public.organisation", slug=listed[0].slug))
    return render_template("public/home.html", organisations=listed)


@bp.get("/<slug>")
def organisation(slug: str):
    org = catalogue.organisation(slug)
    offered = catalogue.services_with_providers(org)
    # A business still setting up says so, rather than showing nothing to book.
    taking = any(providers for _, providers in offered)
    logo = org_settings.logo_shown(org)
    return render_template(
        "public/organisation.html", org=org, offered=offered, logo=logo, taking=taking
    )


@bp.get("/<slug>/logo")
def logo(slug: str):
    """The business's logo, from the database. The pages link to it with ``?v=`` its
    version, which may be kept for a year; any other address is revalidated each time."""
    found = org_settings.public_logo(slug)
    response = make_response(found.data)
    response.content_type = found.content_type
    response.set_etag(found.etag)
    response.cache_control.public = True
    if request.args.get("v") == found.etag:
        response.cache_control.max_age = 365 * 24 * 3600
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, the file may run nothing and load nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response.make_conditional(request)

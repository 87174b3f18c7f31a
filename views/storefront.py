"""Whose shop front a page is. A business's booking pages (its page, the journey, paying,
the confirmation and the customer's appointment with it) wear the business's name and
logo in the header, the install card and the manifest; Kairos, the product, is a small
"Booked with Kairos" line. Elsewhere, and in the staff workspace, the header says Kairos.

Also the phone's bottom navigation: its "Book" leads to the business the customer last
visited (remembered in the session) or else last booked with.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, g, request, session, url_for
from flask_login import current_user

from models import Booking, Organisation
from services.booking import rebooking
from services.workspace.settings import LogoShown, logo_shown

bp = Blueprint("storefront", __name__)

# The blueprints whose pages at /<slug>/… are a business's own (not its workspace).
SHOP_BLUEPRINTS = ("public", "booking")
REMEMBERED = "book_with"  # the session's slug of the business last visited
# The bottom navigation's tab for each blueprint.
TABS = {
    "public": "book",
    "booking": "book",
    "appointments": "appointments",
    "payments": "appointments",
    "account": "account",
    "sessions": "account",
    "notifications": "account",
}


@dataclass(frozen=True)
class Storefront:
    slug: str
    name: str
    logo: LogoShown | None  # fitted into the header's box


@bp.app_template_global()
def storefront(org: Organisation | None) -> Storefront | None:
    """The business whose page this is (``org``, the page's own), or None for a Kairos
    page: one without a business, or the staff workspace."""
    if org is None or in_workspace():
        return None
    return Storefront(org.slug, org.name, logo_shown(org, (160, 40)))


@bp.app_template_global()
def in_workspace() -> bool:
    return request.blueprint == "workspace"


@bp.app_template_global()
def bottom_tab() -> str:
    """Which tab of the bottom navigation this page belongs to ('' for none)."""
    return TABS.get(request.blueprint or "", "")


@bp.app_template_global()
def book_url() -> str:
    """Where "Book" leads: the business last visited, else last booked with, else home."""
    slug = session.get(REMEMBERED)
    if slug is None and current_user.is_authenticated:
        slug = rebooking.last_business(current_user.id) or ""
        session[REMEMBERED] = slug  # asked once, not on every page
    if slug:
        return url_for("public.organisation", slug=slug)
    return url_for("public.home")


@bp.app_template_global()
def book_again_url(booking: Booking) -> str:
    """The time picker for the same service and provider, while offered; else the
    business's page. What each business offers is read once per request."""
    offered = g.setdefault("offered_pairs", {})
    if booking.organisation_id not in offered:
        offered[booking.organisation_id] = rebooking.offered_pairs(booking.organisation_id)
    again = rebooking.book_again(booking, offered[booking.organisation_id])
    if again.service_id is None:
        return url_for("public.organisation", slug=again.slug)
    return url_for(
        "booking.when", slug=again.slug, service_id=again.service_id, provider=again.provider_id
    )


@bp.after_app_request
def remember_business(response: Response) -> Response:
    """A business page that was found: "Book" leads back to it."""
    slug = (request.view_args or {}).get("slug")
    if (
        slug
        and response.status_code == 200
        and response.mimetype == "text/html"
        and request.blueprint in SHOP_BLUEPRINTS
        and request.method == "GET"
        and session.get(REMEMBERED) != slug
    ):
        session[REMEMBERED] = slug
    return response

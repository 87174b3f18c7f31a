"""Booking from the schedule: tap a free time, pick the service and the customer (found
by active search, or new: a walk-in or a phone call), book. The same rules and the same
double-booking protection as a customer's own booking apply (services/workspace/desk.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, make_response, redirect, request, url_for
from jinja2_fragments.flask import render_block

from services import access
from services.errors import DomainError, Invalid, SlotTaken
from services.validation import DEFAULT_REGION
from services.workspace import customers, desk
from views.errors import status_for
from views.support import now, parse_instant, parse_int
from views.web import page, wants_fragment
from views.workspace import bp, staff_only
from views.workspace.bookings import panel

FORM = "workspace/new_booking.html"


class Asked:
    """What the form holds so far, read from the query string or the posted form."""

    def __init__(self, values) -> None:
        self.values = values
        self.provider_id = parse_int(values.get("provider"), "provider", "Choose a provider.")
        self.start = parse_instant(values.get("start"), "start")
        service = values.get("service")
        self.service_id = parse_int(service, "service", "Choose a service.") if service else None
        customer = values.get("customer")
        self.customer_id = (
            parse_int(customer, "customer", "Choose a customer.") if customer else None
        )

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def _form(asked: Asked, status: int = 200, problems: dict | None = None, **extra):
    org = g.staff.organisation
    tz = ZoneInfo(org.timezone)
    provider = access.provider_for(g.staff, asked.provider_id)
    offered = desk.services_of(provider)
    service = next(
        (s for s in offered if s.id == asked.service_id), offered[0] if offered else None
    )
    day = asked.start.astimezone(tz).date()
    starts = desk.free_starts(provider, service, day, now()) if service else []
    chosen = (
        asked.start
        if asked.start in starts
        else next((s for s in starts if s >= asked.start), None)
    )
    found = customers.search(g.staff, asked.get("q")) if asked.get("q").strip() else []
    return page(
        FORM,
        "panel",
        status=status,
        org=org,
        provider=provider,
        services=offered,
        service=service,
        day=day,
        starts=starts,
        chosen=chosen,
        asked=asked,
        found=found,
        problems=problems or {},
        source=asked.get("source") or _likely_source(asked.start),
        **extra,
    )


def _likely_source(start: datetime) -> str:
    """Someone booked for within the hour is probably standing at the desk."""
    return "walk_in" if (start - now()).total_seconds() < 3600 else "phone"


@bp.get("/bookings/new")
@staff_only
def new_booking():
    return _form(Asked(request.args))


@bp.get("/bookings/new/customers")
@staff_only
def find_customer():
    """Active search: the matching customers, as choices for the form."""
    asked = request.args.get("q", "")
    found = customers.search(g.staff, asked) if asked.strip() else []
    # Only ever a fragment: without JavaScript the form's Search button reloads the form.
    html = render_block(
        FORM, "customers", org=g.staff.organisation, found=found, asked=None, q=asked
    )
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/bookings/new")
@staff_only
def create_booking():
    form = request.form
    asked = Asked(form)
    new = None
    if asked.customer_id is None and form.get("new_name", "").strip():
        new = desk.NewCustomer(
            form.get("new_name", ""), form.get("new_email", ""), form.get("new_phone", "")
        )
    try:
        made = desk.book_for(
            g.staff,
            provider_id=asked.provider_id,
            service_id=asked.service_id or 0,
            start=asked.start,
            source=form.get("source", ""),
            now=now(),
            customer_id=asked.customer_id,
            new_customer=new,
            region=current_app.config.get("PHONE_REGION", DEFAULT_REGION),
            dispatch=g.dispatch,
        )
    except SlotTaken:
        return _form(asked, 409, {"start": "That time was just taken. Pick another."})
    except Invalid as invalid:
        return _form(asked, 422, invalid.fields)
    except DomainError as refused:
        return _form(asked, status_for(refused), {"start": refused.message})
    at = made.start_at.astimezone(ZoneInfo(g.staff.organisation.timezone))
    message = f"Booked {made.customer.name} for {at:%H:%M}."
    if wants_fragment():
        return panel(access.booking_for(g.staff, made.id), status=201, message=message)
    flash(message, "success")
    return redirect(url_for(".booking", slug=g.staff.organisation.slug, booking_id=made.id), 303)

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
from services.formats import local_time, money
from services.validation import DEFAULT_REGION
from services.workspace import customers, desk
from views import forms
from views.errors import status_for
from views.limits import limited
from views.support import now, parse_instant, parse_int
from views.web import page, wants_fragment
from views.workspace import bp, staff_only
from views.workspace.bookings import panel
from views.workspace.forms import DeskForm

FORM = "workspace/new_booking.html"


class Asked:
    """What the form holds so far (from the query string or the post), as the service
    wants it: ids and an instant. Unreadable ones are a 422 page, as for any request."""

    def __init__(self, form: DeskForm) -> None:
        self.provider_id = parse_int(form.provider.data, "provider", "Choose a provider.")
        self.start = parse_instant(form.start.data, "start")
        service, customer = form.service.data, form.customer.data
        self.service_id = parse_int(service, "service", "Choose a service.") if service else None
        self.customer_id = (
            parse_int(customer, "customer", "Choose a customer.") if customer else None
        )


def _form(form: DeskForm, asked: Asked, status: int = 200, **extra):
    """The form with the provider's services and the day's free times as choices."""
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
    form.service.choices = {str(s.id): _service_label(s, org.currency) for s in offered}
    form.service.data = str(service.id) if service else None
    form.start.choices = {
        local_time(s, org.timezone, "iso"): local_time(s, org.timezone) for s in starts
    }
    form.start.data = local_time(chosen, org.timezone, "iso") if chosen else None
    form.source.data = form.source.data or _likely_source(asked.start)
    if not starts:  # no time to choose: say what is wrong with the one asked for
        form.form_errors.extend(form.start.errors)
    q = (form.q.data or "").strip()
    return page(
        FORM,
        "panel",
        status=status,
        org=org,
        provider=provider,
        service=service,
        day=day,
        starts=starts,
        asked=asked,
        form=form,
        found=customers.search(g.staff, q) if q else [],
        **extra,
    )


def _service_label(service, currency: str) -> str:
    return (
        f"{service.name} · {service.duration_minutes} min · {money(service.price_cents, currency)}"
    )


def _likely_source(start: datetime) -> str:
    """Someone booked for within the hour is probably standing at the desk."""
    return "walk_in" if (start - now()).total_seconds() < 3600 else "phone"


@bp.get("/bookings/new")
@staff_only
def new_booking():
    form = DeskForm(formdata=request.args)
    return _form(form, Asked(form))


@bp.get("/bookings/new/customers")
@staff_only
def find_customer():
    """Active search: the matching customers, as choices for the form."""
    asked = request.args.get("q", "")
    found = customers.search(g.staff, asked) if asked.strip() else []
    # Only ever a fragment: without JavaScript the form's Search button reloads the form.
    html = render_block(
        FORM, "customers", org=g.staff.organisation, found=found, form=None, q=asked
    )
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/bookings/new")
@staff_only
@limited("desk_booking")
def create_booking():
    form = DeskForm()
    asked = Asked(form)
    new = None
    if asked.customer_id is None and (form.new_name.data or "").strip():
        new = desk.NewCustomer(
            form.new_name.data, form.new_email.data or "", form.new_phone.data or ""
        )
    try:
        made = desk.book_for(
            g.staff,
            provider_id=asked.provider_id,
            service_id=asked.service_id or 0,
            start=asked.start,
            source=form.source.data or "",
            now=now(),
            customer_id=asked.customer_id,
            new_customer=new,
            region=current_app.config.get("PHONE_REGION", DEFAULT_REGION),
            dispatch=g.dispatch,
        )
    except SlotTaken:
        form.start.errors = ["That time was just taken. Pick another."]
        return _form(form, asked, 409)
    except Invalid as invalid:
        forms.show_problems(form, invalid, DeskForm.PROBLEM_FIELDS)
        return _form(form, asked, 422)
    except DomainError as refused:
        form.start.errors = [refused.message]
        return _form(form, asked, status_for(refused))
    at = made.start_at.astimezone(ZoneInfo(g.staff.organisation.timezone))
    message = f"Booked {made.customer.name} for {at:%H:%M}."
    if wants_fragment():
        return panel(access.booking_for(g.staff, made.id), status=201, message=message)
    flash(message, "success")
    return redirect(url_for(".booking", slug=g.staff.organisation.slug, booking_id=made.id), 303)

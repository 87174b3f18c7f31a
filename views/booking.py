"""The customer's booking journey: service → provider → day and time → review → confirm.

Every step is a real URL that works without JavaScript; htmx only swaps the picker.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_login import current_user, login_url

from models import BookingStatus
from scheduling import change_deadline, customer_may_change
from services.booking import appointments as bookings
from services.booking import catalogue, journey
from services.booking.slots import providers_for
from services.errors import Invalid, LimitReached, SlotTaken, StartPassed
from services.notifications import preferences
from views.limits import limited
from views.support import now, parse_date, parse_instant, picker_context
from views.web import login_manager, page

bp = Blueprint("booking", __name__)


def _service(slug: str, service_id: int):
    org = catalogue.organisation(slug)
    try:
        return org, catalogue.service_of(org, service_id)
    except Invalid:
        abort(404, "This service is not offered here.")


@bp.get("/<slug>/book/<id:service_id>")
def choose_provider(slug: str, service_id: int):
    org, service = _service(slug, service_id)
    providers = providers_for(service)
    if len(providers) == 1:
        return redirect(
            url_for(".when", slug=slug, service_id=service_id, provider=providers[0].id)
        )
    return page("booking/provider.html", org=org, service=service, providers=providers)


@bp.get("/<slug>/book/<id:service_id>/when")
def when(slug: str, service_id: int):
    org, service = _service(slug, service_id)
    provider = journey.provider_choice(request.args.get("provider"), service)
    pid = provider.id if provider else None
    day_asked = parse_date(request.args["day"], "day") if request.args.get("day") else None
    shown = journey.picker(
        service, now(), month_asked=request.args.get("month"), day_asked=day_asked, provider_id=pid
    )
    args = {"slug": slug, "service_id": service_id, "provider": pid or "any"}
    return page(
        "booking/when.html",
        "picker",
        org=org,
        service=service,
        provider=provider,
        **picker_context(shown, "booking.when", "booking.review", args),
    )


@bp.get("/<slug>/book/<id:service_id>/review")
def review(slug: str, service_id: int):
    org, service = _service(slug, service_id)
    start = parse_instant(request.args.get("start"))
    provider = journey.provider_choice(request.args.get("provider"), service)
    window = timedelta(hours=service.cancellation_window_hours)
    return page(
        "booking/review.html",
        org=org,
        service=service,
        start=start,
        provider=provider,
        next=request.full_path,
        deadline=change_deadline(start, window),
        changeable=customer_may_change(start, window, now()),
    )


@bp.post("/<slug>/book/<id:service_id>/confirm")
@limited("booking")
def confirm(slug: str, service_id: int):
    if not current_user.is_authenticated:
        return _sign_in_first(slug, service_id)
    org, service = _service(slug, service_id)
    start = parse_instant(request.form.get("start"))
    provider = journey.provider_choice(request.form.get("provider"), service)
    try:
        made = bookings.book_once(
            customer_id=current_user.id,
            service_id=service.id,
            start=start,
            provider_id=provider.id if provider else None,
            now=now(),
            dispatch=g.dispatch,
        )
    except (SlotTaken, StartPassed, LimitReached) as gone:
        return page(
            "booking/review.html",
            status=422 if isinstance(gone, StartPassed) else 409,
            org=org,
            service=service,
            start=start,
            provider=provider,
            taken=gone,
            next=request.full_path,
        )
    preferences.set_timezone(current_user, request.form.get("tz"))
    if made.status == BookingStatus.PENDING_PAYMENT:  # held while they pay
        return redirect(url_for("payments.pay_page", booking_id=made.id), 303)
    return redirect(url_for("appointments.confirmed", booking_id=made.id), 303)


def _sign_in_first(slug: str, service_id: int):
    """Signed out before confirming (the session ended on the review page): after signing
    in, come back to the same selection on the review page, not to this POST-only URL."""
    back = url_for(
        ".review",
        slug=slug,
        service_id=service_id,
        start=request.form.get("start"),
        provider=request.form.get("provider"),
    )
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=back))

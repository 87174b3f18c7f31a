"""The customer's booking journey: service → provider → day and time → review → confirm.

Every step is a real URL that works without JavaScript; htmx only swaps the picker.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user, login_required

from models import Booking
from services import booking as bookings
from services import catalogue, journey
from services.availability import providers_for
from services.errors import Invalid, SlotTaken
from views.support import now, parse_date, parse_instant
from views.web import page

bp = Blueprint("booking", __name__)


def _service(slug: str, service_id: int):
    org = catalogue.organisation(slug)
    try:
        return org, catalogue.service_of(org, service_id)
    except Invalid:
        abort(404, "This service is not offered here.")


@bp.get("/<slug>/book/<int:service_id>")
def choose_provider(slug: str, service_id: int):
    org, service = _service(slug, service_id)
    providers = providers_for(service)
    if len(providers) == 1:
        return redirect(
            url_for(".when", slug=slug, service_id=service_id, provider=providers[0].id)
        )
    return page("booking/provider.html", org=org, service=service, providers=providers)


@bp.get("/<slug>/book/<int:service_id>/when")
def when(slug: str, service_id: int):
    org, service = _service(slug, service_id)
    provider = journey.provider_choice(request.args.get("provider"), service)
    moment = now()
    today = moment.astimezone(ZoneInfo(org.timezone)).date()
    asked = request.args.get("month")
    first = max(journey.parse_month(asked, today), today.replace(day=1))
    pid = provider.id if provider else None
    month = journey.month_availability(service, first, moment, pid)
    if not asked and not month.free and month.next:  # nothing left this month: show the next
        month = journey.month_availability(service, month.next, moment, pid)
    day = parse_date(request.args["day"], "day") if request.args.get("day") else None
    day = day if day in month.free else month.first_free_day()
    slots = journey.by_part_of_day(month.free.get(day, []), ZoneInfo(org.timezone))
    args = {"slug": slug, "service_id": service_id, "provider": pid or "any"}
    return page(
        "booking/when.html",
        "picker",
        org=org,
        service=service,
        provider=provider,
        month=month,
        day=day,
        slots=slots,
        picker_endpoint="booking.when",
        picker_args=args,
        slot_endpoint="booking.review",
        slot_args=args,
    )


@bp.get("/<slug>/book/<int:service_id>/review")
def review(slug: str, service_id: int):
    org, service = _service(slug, service_id)
    start = parse_instant(request.args.get("start"))
    provider = journey.provider_choice(request.args.get("provider"), service)
    return page(
        "booking/review.html",
        org=org,
        service=service,
        start=start,
        provider=provider,
        next=request.full_path,
    )


@bp.post("/<slug>/book/<int:service_id>/confirm")
@login_required
def confirm(slug: str, service_id: int):
    org, service = _service(slug, service_id)
    start = parse_instant(request.form.get("start"))
    provider = journey.provider_choice(request.form.get("provider"), service)
    try:
        made = bookings.book(
            customer_id=current_user.id,
            service_id=service.id,
            start=start,
            provider_id=provider.id if provider else None,
            now=now(),
        )
    except SlotTaken as taken:
        mine = _already_mine(service.id, start)  # a second tap on "Confirm"
        if mine is None:
            return page(
                "booking/review.html",
                status=409,
                org=org,
                service=service,
                start=start,
                provider=provider,
                taken=taken,
                next=request.full_path,
            )
        made = mine
    return redirect(url_for("appointments.confirmed", booking_id=made.id), 303)


def _already_mine(service_id: int, start) -> Booking | None:
    return Booking.get_or_none(
        (Booking.customer == current_user.id)
        & (Booking.service == service_id)
        & (Booking.start_at == start)
        & (Booking.status == "confirmed")
        & (Booking.created_at > now() - timedelta(minutes=10))
    )

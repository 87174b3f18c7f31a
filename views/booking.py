"""The customer's booking journey: service → provider → day and time → review → confirm.

Every step is a real URL that works without JavaScript; htmx only swaps the picker.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_url

from models import BookingStatus
from scheduling import change_deadline, customer_may_change
from services.booking import appointments as bookings
from services.booking import catalogue, guests, journey
from services.booking.slots import providers_for
from services.errors import Invalid, LimitReached, PaymentUnavailable, SlotTaken, StartPassed
from services.notifications import preferences
from views import account_support, forms
from views.booking_forms import GuestBookingForm
from views.limits import limited
from views.support import (
    now,
    parse_date,
    parse_instant,
    phone_region,
    picker_context,
    start_session,
)
from views.web import login_manager, page

bp = Blueprint("booking", __name__)


def _service(slug: str, service_id: int):
    try:
        return catalogue.service_at(slug, service_id)
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
    return _review(org, service, start, provider)


def _review(org, service, start, provider, *, status: int = 200, **context):
    """The review page; ``context`` has the guest form as typed, or why the time is gone."""
    window = timedelta(hours=service.cancellation_window_hours)
    guest_form = context.pop("guest_form", None) or GuestBookingForm(
        formdata=None, **session.get(TYPED, {})
    )
    return page(
        "booking/review.html",
        status=status,
        org=org,
        service=service,
        start=start,
        provider=provider,
        next=url_for(
            ".review",
            slug=org.slug,
            service_id=service.id,
            provider=provider.id if provider else "any",
            start=start.isoformat(),
        ),
        deadline=change_deadline(start, window),
        changeable=customer_may_change(start, window, now()),
        guest_form=guest_form,
        **context,
    )


# What a new customer typed, kept while they pick another time (a 409) or sign in.
TYPED = "booking_details"


@bp.post("/<slug>/book/<id:service_id>/confirm")
@limited("booking")
def confirm(slug: str, service_id: int):
    org, service = _service(slug, service_id)
    start = parse_instant(request.form.get("start"))
    provider = journey.provider_choice(request.form.get("provider"), service)
    if not current_user.is_authenticated:
        if "email" not in request.form:  # signed out since the page was shown
            return _sign_in_first(slug, service_id)
        return _book_as_guest(org, service, start, provider)
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
        return _gone(org, service, start, provider, gone)
    preferences.set_timezone(current_user, request.form.get("tz"))
    return _booked(made)


def _gone(org, service, start, provider, gone: Exception, **context):
    status = 422 if isinstance(gone, StartPassed) else 409
    return _review(org, service, start, provider, status=status, taken=gone, **context)


def _booked(made):
    if made.status == BookingStatus.PENDING_PAYMENT:  # held while they pay
        return redirect(url_for("payments.pay_page", booking_id=made.id), 303)
    return redirect(url_for("appointments.confirmed", booking_id=made.id), 303)


def _book_as_guest(org, service, start, provider):
    """A new customer books with a name and email: a passwordless account and the
    booking, and this browser signed in to it until it closes. An address with an
    account gets a sign-in link back to this page instead."""
    form = GuestBookingForm()
    if not form.validate_on_submit():
        return _review(org, service, start, provider, status=422, guest_form=form)
    typed = {"name": form.name.data, "email": form.email.data, "phone": form.phone.data}
    try:
        made = guests.book_as_guest(
            **typed,
            region=phone_region(),
            service_id=service.id,
            start=start,
            provider_id=provider.id if provider else None,
            now=now(),
            dispatch=g.dispatch,
        )
    except Invalid as exc:
        forms.show_problems(form, exc)
        return _review(org, service, start, provider, status=422, guest_form=form)
    except (SlotTaken, StartPassed, LimitReached) as gone:
        session[TYPED] = typed  # kept for the review page of the time they pick next
        return _gone(org, service, start, provider, gone, guest_form=form)
    except PaymentUnavailable as exc:  # the time was let go; the account is theirs
        if getattr(exc, "customer", None) is None:
            form.form_errors.append(exc.message)
            return _review(org, service, start, provider, status=503, guest_form=form)
        start_session(exc.customer, method="booking")  # trying again is one tap, signed in
        flash(exc.message, "error")
        here = url_for(".review", slug=org.slug, service_id=service.id, **_choice())
        return redirect(here, 303)
    except guests.AddressHasAccount as held:
        session[TYPED] = typed
        here = url_for(".review", slug=org.slug, service_id=service.id, **_choice())
        account_support.queue_link("magic", held.email, here)
        return redirect(
            url_for(".sign_in_sent", slug=org.slug, service_id=service.id, **_choice()), 303
        )
    start_session(made.customer, method="booking")  # not remembered: this browser, until it closes
    preferences.set_timezone(made.customer, request.form.get("tz"))
    return _booked(made)


def _choice() -> dict:
    return {"start": request.form.get("start"), "provider": request.form.get("provider")}


@bp.get("/<slug>/book/<id:service_id>/sign-in-sent")
def sign_in_sent(slug: str, service_id: int):
    """After booking with an address that has an account: its link is on the way."""
    org, service = _service(slug, service_id)
    start = parse_instant(request.args.get("start"))
    provider = journey.provider_choice(request.args.get("provider"), service)
    return page(
        "booking/sign_in_sent.html",
        org=org,
        service=service,
        start=start,
        provider=provider,
        email=session.get(TYPED, {}).get("email", ""),
    )


def _sign_in_first(slug: str, service_id: int):
    """Signed out before confirming (the session ended on the review page): after signing
    in, come back to the same selection on the review page, not to this POST-only URL."""
    back = url_for(".review", slug=slug, service_id=service_id, **_choice())
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=back))

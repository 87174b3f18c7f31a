"""JSON API v1: a stable contract for other clients and our own checks."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from models import Booking
from services import access
from services.accounts import account as accounts
from services.accounts import auth
from services.booking import appointments as bookings
from services.booking import catalogue, idempotency
from services.booking.slots import MAX_RANGE_DAYS, find_slots
from services.calendar import feeds, two_way
from services.calendar import imports as calendar_imports
from services.errors import Invalid
from services.payments import checkout
from views import calendar as calendar_views
from views.api_json import (
    booking_json,
    external_calendar_json,
    organisation_json,
    service_json,
    slot_json,
)
from views.identity import phone as phone_views
from views.limits import limited
from views.support import now, parse_date, parse_instant, parse_int, read_json, read_json_object

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = auth.user_for_token(token.strip(), now()) if scheme.lower() == "bearer" else None
        if user is None:
            raise Unauthorized(
                "Send a valid API token: Authorization: Bearer <token>.",
                www_authenticate=WWWAuthenticate("bearer"),
            )
        g.api_user, g.api_token = user, token.strip()
        return view(*args, **kwargs)

    return wrapper


def json_body() -> dict:
    body = read_json()
    if not isinstance(body, dict):
        raise Invalid({"body": "Send a JSON object with Content-Type: application/json."})
    return body


def booking_response(booking_id: int, status: int = 200):
    return jsonify(
        booking_json(Booking.with_details().where(Booking.id == booking_id).get())
    ), status


@bp.get("")
def index():
    return jsonify({"version": 1, "docs": "/api/v1/orgs/<slug>"})


@bp.post("/auth/phone-code")
def phone_code():
    """Text a sign-in code: 202 and the same empty body for every number."""
    phone_views.api_text_code(json_body())
    return jsonify({}), 202


@bp.post("/tokens")
@limited("sign_in")
def create_token():
    body = json_body()
    if "phone" in body:  # a texted code (views/identity/phone.py)
        user = phone_views.api_user_for_code(body)
    else:
        missing = {
            f: "Required." for f in ("email", "password") if not isinstance(body.get(f), str)
        }
        if missing:
            raise Invalid(missing)
        user = auth.authenticate(body["email"], body["password"])
    token, expires_at = auth.issue_token(user, now())
    return jsonify({"token": token, "expires_at": expires_at.isoformat()}), 201


@bp.delete("/tokens/current")
@token_required
def revoke_token():
    auth.revoke_token(g.api_token, now())
    return "", 204


@bp.delete("/me")
@token_required
def delete_me():
    """Delete the account, as Account → Delete does; the token is the proof (as the
    password is on the web). Every sign-in and token of the person ends with it."""
    accounts.delete_account(g.api_user, now(), dispatch=g.dispatch)
    return "", 204


@bp.get("/me/calendar-feed")
@token_required
def calendar_feed():
    """The address of the provider's own calendar feed (made on the first call). 403
    for anyone who is not a provider: a customer's appointments are in
    /api/v1/me/export.ics."""
    address = feeds.own_feed(g.api_user.id, now(), calendar_views.secret())
    return jsonify({"url": calendar_views.feed_urls(address.token)[0]})


@bp.get("/orgs/<slug>")
def organisation(slug: str):
    return jsonify(organisation_json(catalogue.organisation(slug)))


@bp.get("/orgs/<slug>/services")
def services(slug: str):
    org = catalogue.organisation(slug)
    offered = catalogue.services_with_providers(org)
    return jsonify([service_json(service, org.currency, people) for service, people in offered])


@bp.get("/orgs/<slug>/slots")
def slots(slug: str):
    args = request.args
    service_id = parse_int(args.get("service"), "service", "Give the id of a service.")
    org, service = catalogue.service_at(slug, service_id)
    first_day = parse_date(args.get("date"))
    days = parse_int(args.get("days", 1), "days", f"Give a number of days, 1 to {MAX_RANGE_DAYS}.")
    if not 1 <= days <= MAX_RANGE_DAYS:
        raise Invalid({"days": f"Give a number of days, 1 to {MAX_RANGE_DAYS}."})
    provider_id = None
    if args.get("provider"):
        provider_id = parse_int(args["provider"], "provider", "Give the id of a provider.")
    last_day = first_day + timedelta(days=days - 1)
    found = find_slots(service, first_day, last_day, now(), provider_id=provider_id)
    tz = ZoneInfo(org.timezone)
    return jsonify(
        {
            "timezone": org.timezone,
            "date": first_day.isoformat(),
            "days": days,
            "slots": [slot_json(slot, tz) for slot in found],
        }
    )


@bp.post("/bookings")
@token_required
@limited("booking")
def create_booking():
    body = json_body()
    service_id = parse_int(body.get("service"), "service", "Give the id of a service.")
    start = parse_instant(body.get("start"))
    provider_id = None
    if body.get("provider") is not None:
        provider_id = parse_int(body["provider"], "provider", "Give the id of a provider.")

    def work() -> Response:
        booking = bookings.book(
            customer_id=g.api_user.id,
            service_id=service_id,
            start=start,
            provider_id=provider_id,
            now=now(),
            dispatch=g.dispatch,
        )
        return jsonify(booking_json(booking)), 201

    return idempotent(work, json.dumps(body, sort_keys=True))


def idempotent(work, fingerprint: str):
    """Run ``work`` once per Idempotency-Key; replay its first answer to a retry."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return work()
    user_id = g.api_user.id
    digest = idempotency.request_hash(request.method, request.path, fingerprint)
    replay = idempotency.claim(user_id, key, digest, now())
    if replay is not None:
        return Response(replay.body, replay.status_code, mimetype="application/json")
    try:
        response, status = work()
    except BaseException:
        idempotency.release(user_id, key)
        raise
    idempotency.complete(user_id, key, status, response.get_data(as_text=True))
    return response, status


@bp.get("/bookings")
@token_required
def list_bookings():
    mine = access.customer_bookings(g.api_user.id)
    moment = now()
    upcoming = mine.where(Booking.start_at >= moment).order_by(Booking.start_at)
    past = mine.where(Booking.start_at < moment).order_by(Booking.start_at.desc())
    return jsonify([booking_json(b) for b in [*upcoming, *past]])


@bp.get("/bookings/<id:booking_id>")
@token_required
def show_booking(booking_id: int):
    return jsonify(booking_json(access.customer_booking(g.api_user.id, booking_id)))


@bp.post("/bookings/<id:booking_id>/cancel")
@token_required
def cancel_booking(booking_id: int):
    reason = read_json_object().get("reason")
    if reason is not None and not isinstance(reason, str):
        raise Invalid({"reason": "Give the reason as text."})
    access.customer_booking(g.api_user.id, booking_id)
    bookings.cancel(
        booking_id=booking_id,
        actor_id=g.api_user.id,
        reason=reason or "",
        now=now(),
        dispatch=g.dispatch,
    )
    return booking_response(booking_id)


@bp.post("/bookings/<id:booking_id>/payment")
@token_required
@limited("payment")
def pay_booking(booking_id: int):
    """Pay for a booking held for its payment with what Stripe's client gave: a card
    token ({"token": "tok_…"}) or a payment method ({"payment_method": "pm_…"}). The
    answer is the booking: confirmed when the payment succeeded; still pending with
    payment.next_action "authenticate" when the bank asks for 3-D Secure (done with
    the client secret; then POST …/payment/check). A declined card: 402."""
    body = json_body()
    token, method = body.get("token"), body.get("payment_method")
    if not isinstance(token, str) and not isinstance(method, str):
        raise Invalid({"token": "Give a card token, or a payment method."})
    booking = access.customer_booking(g.api_user.id, booking_id)
    done = checkout.pay(
        booking,
        now(),
        g.dispatch,
        token=token if isinstance(token, str) else None,
        payment_method=method if isinstance(method, str) else None,
    )
    return _with_attempt(booking_id, done)


@bp.post("/bookings/<id:booking_id>/payment/check")
@token_required
@limited("payment")
def check_payment(booking_id: int):
    """Ask Stripe where the booking's payment stands (after 3-D Secure) and act on it."""
    booking = access.customer_booking(g.api_user.id, booking_id)
    return _with_attempt(booking_id, checkout.check(booking, now(), g.dispatch))


def _with_attempt(booking_id: int, done: checkout.Attempt):
    body = booking_json(Booking.with_details().where(Booking.id == booking_id).get())
    if done.status == "requires_action" and body["payment"] is not None:
        body["payment"]["next_action"] = "authenticate"
    return jsonify(body)


@bp.post("/bookings/<id:booking_id>/reschedule")
@token_required
def reschedule_booking(booking_id: int):
    body = json_body()
    start = parse_instant(body.get("start"))
    provider_id = None
    if body.get("provider") is not None:
        provider_id = parse_int(body["provider"], "provider", "Give the id of a provider.")
    access.customer_booking(g.api_user.id, booking_id)
    moved = bookings.reschedule(
        booking_id=booking_id,
        actor_id=g.api_user.id,
        start=start,
        provider_id=provider_id,
        now=now(),
        dispatch=g.dispatch,
    )
    return booking_response(moved.id)


@bp.get("/me/calendars")
@token_required
def list_calendars():
    provider = calendar_imports.provider_of(g.api_user.id)
    return jsonify([external_calendar_json(c) for c in calendar_imports.listed(provider.id)])


@bp.post("/me/calendars")
@token_required
@limited("calendar_sync")
def add_calendar():
    """Import busy time from an ICS address (``url``), or connect a CalDAV calendar both
    ways (``url``, ``username``, ``password``, optional ``show_names``); the first sync
    is the worker's (or POST …/sync). A refused address: 422 on "url", nothing fetched."""
    provider = calendar_imports.provider_of(g.api_user.id)
    body = json_body()
    if "username" in body or "password" in body:
        calendar = two_way.add_caldav(
            provider.id,
            body.get("url"),
            body.get("username"),
            body.get("password"),
            now(),
            _allow_hosts(),
            show_names=body.get("show_names") is True,
        )
    else:
        calendar = calendar_imports.add(provider.id, body.get("url"), now(), _allow_hosts())
    return jsonify(external_calendar_json(calendar)), 201


@bp.patch("/me/calendars/<id:calendar_id>")
@token_required
def change_calendar(calendar_id: int):
    """``{"show_names": true|false}``: customers' names in the events written to a
    two-way calendar; the upcoming ones are written again."""
    provider = calendar_imports.provider_of(g.api_user.id)
    show = json_body().get("show_names")
    if not isinstance(show, bool):
        raise Invalid({"show_names": "Give true or false."})
    calendar = two_way.show_names(provider.id, calendar_id, show, now())
    return jsonify(external_calendar_json(calendar))


@bp.delete("/me/calendars/<id:calendar_id>")
@token_required
def remove_calendar(calendar_id: int):
    calendar_imports.remove(calendar_imports.provider_of(g.api_user.id).id, calendar_id)
    return "", 204


@bp.post("/me/calendars/<id:calendar_id>/sync")
@token_required
@limited("calendar_sync")
def sync_calendar(calendar_id: int):
    """Sync now, both ways; 200 with how it went (a calendar server that failed is the
    calendar's "error" status and last_error, not an error of this request)."""
    provider = calendar_imports.provider_of(g.api_user.id)
    calendar = calendar_imports.calendar_of(provider.id, calendar_id)
    settings = current_app.config["SETTINGS"]
    return jsonify(external_calendar_json(two_way.sync(calendar.id, now(), settings)))


def _allow_hosts() -> tuple[str, ...]:
    return current_app.config["SETTINGS"].calendar_allow_hosts

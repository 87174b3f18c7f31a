"""One customer's parallel bookings against the live server (gunicorn, 2 workers × 8
threads) can't get past the per-customer limits: each request books a different
provider, so the provider locks don't put them in a row; the customer's own does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import Booking, BookingStatus, Organisation
from services.accounts.auth import issue_token
from tests import factories
from tests.integration.test_concurrency import Call, at, race, statuses, weekdays_ahead

pytestmark = pytest.mark.live

PROVIDERS = 8


@pytest.fixture
def busy_customer(app):
    org = factories.make_org("race")
    providers = [factories.make_provider(org, f"Provider {n}") for n in range(PROVIDERS)]
    service = factories.make_service(org, providers, "Treatment", 60, max_days_ahead=365)
    customer = factories.make_user("eager@example.com", "Eager Customer")
    token = issue_token(customer, datetime.now(UTC))[0]
    return org, providers, service, customer, token


def held(customer) -> list[Booking]:
    return list(
        Booking.select().where(
            (Booking.customer == customer.id) & (Booking.status == BookingStatus.CONFIRMED)
        )
    )


def test_parallel_bookings_of_one_customer_stop_at_the_limits(live_server, busy_customer):
    org, providers, service, customer, token = busy_customer
    days = weekdays_ahead(PROVIDERS + 1)

    # The same day, each with another provider: two of them (the default a day).
    same_day = [
        Call(
            "/api/v1/bookings",
            token,
            {"service": service.id, "start": at(days[0], 10).isoformat(), "provider": p.id},
        )
        for p in providers
    ]
    answers = race(live_server, same_day)
    assert statuses(answers) == {201: 2, 409: PROVIDERS - 2}, answers
    assert {a.error for a in answers if a.status == 409} == {"limit_reached"}
    assert len(held(customer)) == 2

    # A day each, each with another provider: up to the upcoming limit (here 5 in all).
    Organisation.update(max_future_bookings=5).where(Organisation.id == org.id).execute()
    each_day = [
        Call(
            "/api/v1/bookings",
            token,
            {"service": service.id, "start": at(day, 14).isoformat(), "provider": p.id},
        )
        for day, p in zip(days[1:], providers, strict=True)
    ]
    answers = race(live_server, each_day)
    assert statuses(answers) == {201: 3, 409: PROVIDERS - 3}, answers
    assert {a.body.get("limit") for a in answers if a.status == 409} == {"upcoming"}
    assert len(held(customer)) == 5

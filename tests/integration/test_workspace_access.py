"""The workspace's access matrix: every route × who is asking → the expected answer."""

from datetime import UTC, datetime

import pytest

from models import Membership
from services import booking as bookings
from tests import factories

MON_10 = datetime(2026, 11, 30, 10, tzinfo=UTC)


@pytest.fixture
def world(clinic, clock):
    """The clinic with a booking for each provider, and a second business with its owner."""
    tom_user = factories.make_user("tom@clinic.test", "Tom Reed")
    clinic["tom"].user = tom_user
    clinic["tom"].save()
    Membership.create(user=tom_user, organisation=clinic["org"], role="provider")
    anas = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["assessment"].id,
        start=MON_10,
        now=clock(),
    )
    toms = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["massage"].id,
        start=MON_10,
        now=clock(),
    )
    other = factories.make_org("elsewhere")
    other_owner = factories.make_owner(other, "boss@elsewhere.test")
    return {
        "anonymous": None,
        "customer": clinic["customer"],
        "provider": clinic["ana_user"],
        "owner": clinic["owner"],
        "other owner": other_owner,
        "ana's booking": anas.id,
        "tom's booking": toms.id,
    }


def as_user(app, user):
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = str(user.id), True
    return client


MATRIX = {
    # route: (anonymous, customer, provider (Ana), owner, owner of another business)
    "/w/clinic": (302, 403, 200, 200, 403),
    "/w/clinic?date=2026-11-30": (302, 403, 200, 200, 403),
    "/w/clinic/bookings/{ana's booking}": (302, 403, 200, 200, 403),
    "/w/clinic/bookings/{tom's booking}": (302, 403, 404, 200, 403),  # not Ana's to see
    "/w/clinic/bookings/999999": (302, 403, 404, 404, 403),
    "/w/elsewhere/bookings/{ana's booking}": (302, 403, 403, 403, 404),  # another org's id
    "/w/nowhere": (302, 404, 404, 404, 404),
}
WHO = ("anonymous", "customer", "provider", "owner", "other owner")


@pytest.mark.parametrize("route", MATRIX)
def test_access_matrix(app, world, route):
    url = route.format(**world)
    answers = tuple(as_user(app, world[who]).get(url).status_code for who in WHO)
    assert dict(zip(WHO, answers, strict=True)) == dict(zip(WHO, MATRIX[route], strict=True))


def test_owner_sees_every_provider_and_a_provider_only_themself(app, world):
    owner_page = as_user(app, world["owner"]).get("/w/clinic?date=2026-11-30").data.decode()
    ana_page = as_user(app, world["provider"]).get("/w/clinic?date=2026-11-30").data.decode()

    assert owner_page.count('class="ws-column"') == 2
    assert owner_page.count('class="ws-booking') == 2
    assert ana_page.count('class="ws-column"') == 1
    assert ana_page.count('class="ws-booking') == 1
    assert "Initial assessment" in ana_page
    assert "Sports massage" not in ana_page

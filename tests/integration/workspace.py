"""What the workspace tests share: a clinic with staff in each role, and the access matrix.

Each part of the workspace has its own matrix: route → the answer expected for each of
WHO. ``{names}`` in a route are filled from the world (ids of its bookings and people).
"""

from __future__ import annotations

from datetime import UTC, datetime

from models import Membership
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.webpages import csrf_token

MON_10 = datetime(2026, 11, 30, 10, tzinfo=UTC)
WHO = ("anonymous", "customer", "provider", "owner", "other owner")


def make_world(clinic, clock) -> dict:
    """The clinic with Tom signed up as a provider too, a booking for each provider,
    and a second business with its own owner, service, customer and booking."""
    tom_user = factories.make_user("tom@clinic.test", "Tom Reed")
    clinic["tom"].user = tom_user
    clinic["tom"].save()
    Membership.create(user=tom_user, organisation=clinic["org"], role="provider")
    anas = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["assessment"].id,
        start=MON_10,
        now=clock(),
        dispatch=Dispatch(),
    )
    toms_customer = factories.make_user("sam@example.com", "Sam Lee")
    toms = bookings.book(
        customer_id=toms_customer.id,
        service_id=clinic["massage"].id,
        start=MON_10,
        now=clock(),
        dispatch=Dispatch(),
    )
    other = factories.make_org("elsewhere")
    other_owner = factories.make_owner(other, "boss@elsewhere.test")
    other_provider = factories.make_provider(other, "Elsa Where")
    other_service = factories.make_service(other, [other_provider], "Elsewhere cut", 30)
    other_customer = factories.make_user("otto@example.com", "Otto Other")
    others = bookings.book(
        customer_id=other_customer.id,
        service_id=other_service.id,
        start=MON_10,
        now=clock(),
        dispatch=Dispatch(),
    )
    return {
        "anonymous": None,
        "customer": clinic["customer"],
        "provider": clinic["ana_user"],
        "owner": clinic["owner"],
        "other owner": other_owner,
        "ana's booking": anas.id,
        "tom's booking": toms.id,
        "other's booking": others.id,
        "ana": clinic["ana"].id,
        "tom": clinic["tom"].id,
        "other provider": other_provider.id,
        "ana's customer": clinic["customer"].id,
        "tom's customer": toms_customer.id,
        "other customer": other_customer.id,
        "assessment": clinic["assessment"].id,
        "other service": other_service.id,
    }


def answers(
    signed_in, world, route: str, method: str = "GET", data: dict | None = None, who=WHO
) -> dict:
    """Who (each of ``who``, keys of the world) gets which status for ``route``. A POST
    carries a valid CSRF token (from the home page, for the same session), so that only
    the access rules decide the answer."""
    url = route.format(**world)
    found = {}
    for person in who:
        client = signed_in(world[person])
        headers = {}
        if method != "GET":
            headers["X-CSRFToken"] = csrf_token(client.get("/"))
        found[person] = client.open(url, method=method, data=data, headers=headers).status_code
    return found


def expect(
    signed_in, world, route: str, expected: tuple[int, ...], method="GET", data=None, who=WHO
):
    """Assert the access matrix row for ``route``: one status per member of ``who``."""
    got = answers(signed_in, world, route, method, data, who)
    assert got == dict(zip(who, expected, strict=True)), f"{method} {route}: {got}"

"""Payments in the workspace: who may do what (the access matrix of every payment
route, Settings → Payments's included), the booking panel's payments, refunds and
balance, recording a payment taken at the venue, the schedule's paid/deposit/unpaid
marks, and the dashboard's revenue taken."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from models import AuditEntry, Booking, BookingEvent, Payment, db
from services import access
from services.errors import DomainError
from services.payments import venue
from tests import factories
from tests.integration.payments import held, pay
from tests.integration.test_ws_customers import add_booking
from tests.integration.webpages import csrf_token, parse
from tests.integration.workspace import expect

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
KEYS = {
    "publishable_key": "pk_test_clinic1234",
    "secret_key": "sk_test_clinicSecret9876",
    "webhook_secret": "whsec_clinicSigning5555",
}
RECORD = {"kind": "cash", "amount": "10"}
MON_14 = "2026-11-30T14:00:00+00:00"  # Ana and Tom are both free then
ANAS, TOMS = "ana's booking", "tom's booking"

# Who may ------------------------------------------------------------------------------

MATRIX = {
    # (method, route, form): (anonymous, customer, provider (Ana), owner, other owner)
    ("GET", "/w/clinic/settings/payments", None): (302, 403, 403, 200, 403),
    ("POST", "/w/clinic/settings/payments", "keys"): (302, 403, 403, 303, 403),
    ("POST", "/w/clinic/settings/payments/disconnect", None): (302, 403, 403, 303, 403),
    ("GET", "/w/elsewhere/settings/payments", None): (302, 403, 403, 403, 200),
    ("POST", "/w/elsewhere/settings/payments/disconnect", None): (302, 403, 403, 403, 303),
    ("GET", "/w/nowhere/settings/payments", None): (302, 404, 404, 404, 404),
    # A payment at the venue: whoever may manage the booking (Ana her own column's).
    ("POST", "/w/clinic/bookings/{ana's booking}/payments", "record"): (302, 403, 303, 303, 403),
    ("POST", "/w/clinic/bookings/{tom's booking}/payments", "record"): (302, 403, 404, 303, 403),
    ("POST", "/w/elsewhere/bookings/{ana's booking}/payments", "record"): (
        302,
        403,
        403,
        403,
        404,
    ),
}
FORMS = {None: None, "keys": KEYS, "record": RECORD}


@pytest.mark.parametrize(("method", "route", "form"), MATRIX)
def test_access_matrix(signed_in, world, method, route, form):
    data = dict(FORMS[form]) if FORMS[form] else None
    expect(signed_in, world, route, MATRIX[method, route, form], method=method, data=data)


# The booking panel ------------------------------------------------------------------


@pytest.fixture
def owner(signed_in, world):
    client = signed_in(world["owner"])
    client.token = csrf_token(client.get("/"))
    return client


@pytest.fixture
def ana(signed_in, world):
    client = signed_in(world["provider"])
    client.token = csrf_token(client.get("/"))
    return client


def record(client, booking_id: int, htmx: bool = True, **data):
    headers = (HTMX if htmx else {}) | {"X-CSRFToken": client.token}
    return client.post(f"/w/clinic/bookings/{booking_id}/payments", data=data, headers=headers)


def money_facts(response) -> dict[str, str]:
    facts = parse(response).one("dl", class_="ws-money")
    return dict(
        zip(
            [dt.text for dt in facts.find_all("dt")],
            [dd.text for dd in facts.find_all("dd")],
            strict=True,
        )
    )


def payment_rows(response, label: str = "Payments") -> list[str]:
    found = parse(response).find("ul", aria_label=label)
    return [li.text for li in found.find_all("li")] if found else []


def test_the_panel_shows_the_balance_and_offers_to_record_it(ana, world):
    response = ana.get(f"/w/clinic/bookings/{world[ANAS]}")

    assert money_facts(response) == {"Paid": "£0", "Due at the venue": "£65"}
    form = parse(response).one("details", class_="ws-record")
    assert form.one("summary").text == "Record a payment at the venue"
    assert form.one("input", name="amount").attrs["value"] == "65"
    assert form.one("input", name="kind", value="cash").attrs.get("checked") is not None
    assert "£65 is due" in form.text


def test_a_part_payment_in_cash_then_the_rest_on_the_terminal(ana, world, clock):
    booking_id = world["ana's booking"]

    first = record(ana, booking_id, kind="cash", amount="20")

    assert first.status_code == 200
    assert first.headers["HX-Trigger"] == "schedule-changed"
    assert money_facts(first) == {"Paid": "£20", "Due at the venue": "£45"}
    assert payment_rows(first) == ["£20 Cash Paid · Wed 25 Nov 12:00 · by Ana Silva"]
    assert parse(first).one("input", name="amount").attrs["value"] == "45"
    paid = Payment.get(Payment.booking == booking_id)
    assert (paid.kind, paid.amount_cents, paid.status, paid.currency) == (
        "cash",
        2000,
        "succeeded",
        "GBP",
    )
    assert (paid.recorded_by_id, paid.paid_at) == (world["provider"].id, clock())

    rest = record(ana, booking_id, kind="terminal", amount="45.00")

    assert money_facts(rest) == {"Paid": "£65", "Due at the venue": "£0"}
    assert payment_rows(rest)[1] == "£45 Card terminal Paid · Wed 25 Nov 12:00 · by Ana Silva"
    assert parse(rest).find("details", class_="ws-record") is None  # nothing left to record
    entries = list(
        AuditEntry.select()
        .where(AuditEntry.action == "bookings.payment_recorded")
        .order_by(AuditEntry.id)
    )
    assert [e.summary for e in entries] == [
        f"Recorded £20 paid by cash for booking #{booking_id}.",
        f"Recorded £45 paid by card terminal for booking #{booking_id}.",
    ]
    assert entries[1].details == {"amount_cents": 4500, "kind": "terminal", "balance_after": 0}
    history = [e.action for e in BookingEvent.select().where(BookingEvent.booking == booking_id)]
    assert history.count("payment_recorded") == 2


def test_without_javascript_recording_redirects_back_to_the_booking(owner, world):
    response = record(owner, world["tom's booking"], htmx=False, kind="cash", amount="5")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/w/clinic/bookings/{world[TOMS]}")
    assert "Payment recorded." in parse(owner.get(response.headers["Location"])).text


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", "Enter the amount received."),
        ("twenty", "Type the amount as a number, like 45 or 45.50."),
        ("-5", "The amount can't be negative."),
        ("0", "Enter an amount more than 0."),
        ("1.234", "Use at most 2 decimal places, like 45.50."),
        ("65.01", "At most the balance due, £65."),
    ],
)
def test_a_bad_amount_is_refused_beside_the_field_and_kept(ana, world, typed, problem):
    response = record(ana, world["ana's booking"], kind="cash", amount=typed)

    assert response.status_code == 422
    form = parse(response).one("details", class_="ws-record")
    assert "open" in form.attrs
    assert form.one("p", class_="error").text == f"Error: {problem}"
    assert form.one("input", name="amount").attrs["value"] == typed
    assert Payment.select().count() == 0


def test_more_than_what_is_left_is_refused(ana, world):
    record(ana, world["ana's booking"], kind="cash", amount="60")

    response = record(ana, world["ana's booking"], kind="terminal", amount="6")

    assert response.status_code == 422
    assert "At most the balance due, £5." in parse(response).one("p", class_="error").text
    assert [p.amount_cents for p in Payment.select()] == [6000]


def test_a_way_of_paying_not_offered_is_refused(ana, world):
    response = record(ana, world["ana's booking"], kind="cheque", amount="10")

    assert response.status_code == 422
    assert "Choose cash or card terminal." in parse(response).one("p", class_="error").text
    assert Payment.select().count() == 0


def test_a_cancelled_booking_takes_no_payment(ana, world, clock):
    Booking.update(status="cancelled").where(Booking.id == world["ana's booking"]).execute()

    response = record(ana, world["ana's booking"], kind="cash", amount="10")

    assert response.status_code == 409
    assert "it takes no payment at the venue" in parse(response).one("p", class_="form-error").text
    assert parse(response).find("details", class_="ws-record") is None
    assert Payment.select().count() == 0


def test_a_no_show_may_still_pay(ana, world, clock):
    Booking.update(status="no_show").where(Booking.id == world["ana's booking"]).execute()

    assert record(ana, world["ana's booking"], kind="cash", amount="65").status_code == 200


def test_two_people_recording_the_whole_balance_at_once_record_it_once(world, clock):
    """Real threads, each with its own database connection, as two workers would."""
    staff = access.staff_of(world["owner"].id, "clinic")
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def attempt() -> None:
        with db.connection_context():
            start.wait()
            try:
                venue.record(staff, world["ana's booking"], "cash", "65", clock())
                outcomes.append("recorded")
            except DomainError as refused:
                outcomes.append(refused.message)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["Nothing is due: this booking is paid."] * 3 + ["recorded"]
    assert [p.amount_cents for p in Payment.select()] == [6500]


# Online payments in the panel (localstripe) ---------------------------------------------


@pytest.mark.stripe
def test_a_held_booking_says_until_when_and_looks_tentative(owner, world, paid, customer_api):
    made = held(customer_api, paid["assessment"], MON_14)

    panel = owner.get(f"/w/clinic/bookings/{made['id']}")

    assert "Awaiting online payment until 12:10." in parse(panel).one("p", class_="ws-held").text
    assert parse(panel).find("details", class_="ws-record") is None  # paid online, not here
    assert payment_rows(panel) == ["£20 Deposit, online Not paid yet"]
    block = parse(owner.get("/w/clinic?date=2026-11-30")).one("a", data_booking=str(made["id"]))
    assert "status-pending_payment" in block.classes
    assert block.one("em").text == "Held"
    assert "awaiting payment" in block.text


@pytest.mark.stripe
def test_a_deposit_paid_online_shows_with_its_card_and_the_rest_is_due(
    owner, world, paid, customer_api, stripe_local
):
    made = held(customer_api, paid["assessment"], MON_14)
    pay(customer_api, made["id"], stripe_local.card_token())

    panel = owner.get(f"/w/clinic/bookings/{made['id']}")

    assert money_facts(panel) == {"Paid": "£20", "Due at the venue": "£45"}
    assert payment_rows(panel) == ["£20 Deposit, online · Visa ···· 4242 Paid · Wed 25 Nov 12:00"]
    assert parse(panel).one("input", name="amount").attrs["value"] == "45"
    block = parse(owner.get("/w/clinic?date=2026-11-30")).one("a", data_booking=str(made["id"]))
    assert block.one("em").text == "Deposit"


@pytest.mark.stripe
def test_a_cancellation_by_the_business_lists_its_refund(
    owner, world, paid, customer_api, stripe_local
):
    made = held(customer_api, paid["massage"], MON_14)
    pay(customer_api, made["id"], stripe_local.card_token())
    cancel = owner.post(
        f"/w/clinic/bookings/{made['id']}/cancel",
        data={"reason": "Tom is ill"},
        headers=HTMX | {"X-CSRFToken": owner.token},
    )
    assert cancel.status_code == 200

    panel = owner.get(f"/w/clinic/bookings/{made['id']}")

    assert money_facts(panel) == {"Paid": "£0 (£55 refunded)", "Due at the venue": "£55"}
    assert payment_rows(panel) == ["£55 Paid online · Visa ···· 4242 Refunded · Wed 25 Nov 12:00"]
    assert payment_rows(panel, "Refunds") == ["£55 you cancelled Refunded · Wed 25 Nov 12:00"]
    assert parse(panel).find("details", class_="ws-record") is None  # cancelled


# The schedule ---------------------------------------------------------------------------


def marks(client, day: str = "2026-11-30") -> dict[int, str]:
    page = parse(client.get(f"/w/clinic?date={day}"))
    return {
        int(a.attrs["data-booking"]): (
            a.find("em", class_="ws-mark").text if a.find("em", class_="ws-mark") else ""
        )
        for a in page.find_all("a", class_="ws-booking")
    }


def test_each_booking_is_marked_unpaid_deposit_or_paid_in_words(owner, world, clinic, clock):
    free = factories.make_service(clinic["org"], [clinic["tom"]], "Free chat", 30, price_cents=0)
    chat = add_booking(
        clinic, clinic["tom"], free, clinic["customer"], datetime(2026, 11, 30, 15, tzinfo=UTC)
    )
    assert marks(owner) == {
        world["ana's booking"]: "Unpaid",
        world["tom's booking"]: "Unpaid",
        chat.id: "",
    }

    record(owner, world["ana's booking"], kind="cash", amount="20")
    record(owner, world["tom's booking"], kind="terminal", amount="55")

    assert marks(owner) == {
        world["ana's booking"]: "Deposit",
        world["tom's booking"]: "Paid",
        chat.id: "",
    }


def test_the_polling_schedule_sees_a_payment_recorded_elsewhere(owner, ana, world):
    url = "/w/clinic?date=2026-11-30"
    tag = owner.get(url, headers=HTMX).headers["ETag"]
    assert owner.get(url, headers=HTMX | {"If-None-Match": tag}).status_code == 304

    record(ana, world["ana's booking"], kind="cash", amount="65")

    again = owner.get(url, headers=HTMX | {"If-None-Match": tag})
    assert again.status_code == 200
    block = parse(again).one("a", data_booking=str(world["ana's booking"]))
    assert block.one("em").text == "Paid"


# The dashboard --------------------------------------------------------------------------


def revenue(client, week: str) -> dict[str, list[str]]:
    page = parse(client.get(f"/w/clinic/dashboard?week={week}"))
    boxes = page.one("dl", class_="db-figures").find_all("div")
    found = {box.one("dt").text: [dd.text for dd in box.find_all("dd")] for box in boxes}
    return {name: found[name][0:1] for name in ("Revenue booked", "Revenue taken")}


def test_revenue_taken_counts_what_was_paid_in_the_week_less_refunds(
    owner, ana, world, clinic, clock
):
    record(ana, world["ana's booking"], kind="cash", amount="20")  # Wed 25 Nov
    record(owner, world["tom's booking"], kind="terminal", amount="10")
    online = add_booking(
        clinic,
        clinic["ana"],
        clinic["follow_up"],
        clinic["customer"],
        datetime(2026, 12, 1, 9, tzinfo=UTC),
    )
    paid_at = datetime(2026, 11, 26, 9, tzinfo=UTC)
    taken = {"booking": online, "organisation": clinic["org"], "paid_at": paid_at}
    Payment.create(
        **taken,
        kind="full",
        intent_id="pi_test_dashboard",
        amount_cents=4500,
        refunded_cents=1500,
        status="partially_refunded",
        currency="GBP",
    )
    # In another currency (the business changed it since): not counted.
    Payment.create(**taken, kind="cash", amount_cents=999, status="succeeded", currency="EUR")

    # Taken in the week of 23 November (20 + 10 + 30), for appointments the week after.
    assert revenue(owner, "2026-11-23") == {"Revenue booked": ["£0"], "Revenue taken": ["£60"]}
    assert revenue(owner, "2026-11-30") == {"Revenue booked": ["£165"], "Revenue taken": ["£0"]}
    # Ana sees her own bookings' payments only.
    assert revenue(ana, "2026-11-23") == {"Revenue booked": ["£0"], "Revenue taken": ["£50"]}

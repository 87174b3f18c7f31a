"""The owner's side of payments: Settings → Payments (connecting the business's own
Stripe account, replacing its keys, disconnecting it) and each service's payment rule on
the service form. Their access matrix rows are in test_ws_payments.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import AuditEntry, Organisation, Service, db
from services.payments import gateway
from tests.integration.payments import held
from tests.integration.test_ws_customers import add_booking
from tests.integration.test_ws_payments import KEYS, MON_14
from tests.integration.webpages import csrf_token, parse
from tests.integration.workspace import MON_10

PAGE = "/w/clinic/settings/payments"
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
SECRETS = (KEYS["secret_key"], KEYS["webhook_secret"])


@pytest.fixture
def owner(signed_in, world):
    client = signed_in(world["owner"])
    client.token = csrf_token(client.get("/"))
    return client


def post(client, path: str, data: dict | None = None, htmx: bool = False):
    headers = (HTMX if htmx else {}) | {"X-CSRFToken": client.token}
    return client.post(path, data=data or {}, headers=headers)


def status(response) -> str:
    return parse(response).one("section", class_="pay-status").text


def clinic_org() -> Organisation:
    return Organisation.get(Organisation.slug == "clinic")


def assert_no_secret_in(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
        assert secret[-8:] not in text


# Settings → Payments ------------------------------------------------------------------


def test_without_keys_payments_are_off_and_the_page_asks_for_them(owner, app):
    response = owner.get(PAGE)

    assert response.status_code == 200
    assert status(response).startswith("Online payments are off Customers pay at the venue.")
    form = parse(response).one("form", class_="pay-form")
    assert [i.attrs["name"] for i in form.find_all("input") if i.attrs.get("type") != "hidden"] == [
        "publishable_key",
        "secret_key",
        "webhook_secret",
    ]
    assert form.one("input", name="secret_key").attrs["type"] == "password"
    assert form.one("input", name="webhook_secret").attrs["type"] == "password"
    base = app.config["SETTINGS"].base_url
    assert parse(response).one("code", id="webhook-url").text == f"{base}/stripe/webhook"
    assert "payment_intent.succeeded" in parse(response).one("ul", class_="pay-events").text
    assert parse(response).find("section", class_="pay-disconnect") is None


def test_the_settings_page_links_to_it(owner):
    links = parse(owner.get("/w/clinic/settings")).find_all("a", href=PAGE)
    assert [a.text for a in links] == ["Payments and Stripe"]


def test_connecting_keeps_the_secrets_encrypted_and_never_shows_them_again(owner, world):
    response = post(owner, PAGE, {k: f"  {v} " for k, v in KEYS.items()})  # pasted with spaces

    assert response.status_code == 303
    assert response.headers["Location"].endswith(PAGE)
    org = clinic_org()
    assert (org.stripe_publishable_key, org.stripe_secret_key, org.stripe_webhook_secret) == (
        KEYS["publishable_key"],
        KEYS["secret_key"],
        KEYS["webhook_secret"],
    )
    stored = [  # the columns as the database holds them, past the model's fields
        value or ""
        for row in db.execute_sql(
            "SELECT stripe_secret_key, stripe_webhook_secret FROM organisation"
        )
        for value in row
    ]
    assert any(stored)
    assert_no_secret_in(" ".join(stored))  # encrypted at rest
    assert gateway.account_for(org).own

    page = owner.get(PAGE)
    assert "Stripe connected: customers can pay online." in parse(page).text
    assert "through your own Stripe account , in test mode: no real money moves" in status(page)
    facts = parse(page).one("dl", class_="pay-facts").text
    assert "Publishable key pk_test_…1234" in facts
    assert "Saved Wed 25 Nov at 12:00 by Olive Owner" in facts
    assert_no_secret_in(page.get_data(as_text=True))
    assert parse(page).one("h2", id="pay-keys-title").text == "Replace the keys"
    entry = AuditEntry.get(AuditEntry.action == "settings.payments_connected")
    assert entry.summary == "Connected the Stripe keys (test mode)."
    assert entry.details == {"mode": "test", "publishable key ends": "1234"}


BAD = [
    ("publishable_key", "sk_test_abcd1234", "it starts with pk_test_ or pk_live_"),
    ("publishable_key", "", "it starts with pk_test_ or pk_live_"),
    ("secret_key", "pk_test_abcd1234", "it starts with sk_test_ or sk_live_"),
    ("secret_key", "sk_test_ab", "it starts with sk_test_ or sk_live_"),  # too short
    ("secret_key", "sk_test_abc<script>", "it starts with sk_test_ or sk_live_"),
    ("webhook_secret", "whsec", "it starts with whsec_"),
    ("secret_key", "sk_live_abcd1234", "This is a live key and the publishable key is a test key"),
]


@pytest.mark.parametrize(("field", "typed", "problem"), BAD)
def test_a_key_of_the_wrong_shape_is_refused_beside_its_field(owner, field, typed, problem):
    response = post(owner, PAGE, KEYS | {field: typed}, htmx=True)

    assert response.status_code == 422
    form = parse(response)
    assert form.children[0].tag == "form"  # htmx gets the form alone
    assert problem in form.one("p", class_="error").text
    assert form.one("input", name=field).attrs["aria-invalid"] == "true"
    kept = KEYS["publishable_key"] if field != "publishable_key" else typed
    assert form.one("input", name="publishable_key").attrs.get("value", "") == kept
    assert "paste them again" in form.one("p", class_="pay-again").text
    assert_no_secret_in(response.get_data(as_text=True))
    assert clinic_org().stripe_secret_key is None


def test_replacing_and_disconnecting_are_logged_without_the_keys(owner):
    post(owner, PAGE, KEYS)
    live = {
        "publishable_key": "pk_live_newAccount42",
        "secret_key": "rk_live_restricted77",
        "webhook_secret": "whsec_rolled0000",
    }

    replaced = post(owner, PAGE, live)

    assert replaced.status_code == 303
    assert clinic_org().stripe_secret_key == "rk_live_restricted77"
    assert "in live mode." in status(owner.get(PAGE))

    gone = post(owner, "/w/clinic/settings/payments/disconnect")

    assert gone.status_code == 303
    org = clinic_org()
    assert (org.stripe_publishable_key, org.stripe_secret_key, org.stripe_webhook_secret) == (
        None,
        None,
        None,
    )
    page = owner.get(PAGE)
    assert "Stripe disconnected." in parse(page).text
    assert status(page).startswith("Online payments are off")
    entries = list(AuditEntry.select().order_by(AuditEntry.id))
    assert [(e.action, e.summary) for e in entries] == [
        ("settings.payments_connected", "Connected the Stripe keys (test mode)."),
        ("settings.payments_replaced", "Replaced the Stripe keys (live mode)."),
        ("settings.payments_disconnected", "Disconnected Stripe."),
    ]
    logged = " ".join(e.summary + e.detail for e in entries)
    for secret in (*SECRETS, live["secret_key"], live["webhook_secret"]):
        assert secret not in logged


def test_keys_stay_while_a_booking_waits_for_its_online_payment(owner, world, clinic, clock):
    post(owner, PAGE, KEYS)
    waiting = add_booking(
        clinic, clinic["tom"], clinic["massage"], clinic["customer"], MON_10 + timedelta(hours=4)
    )
    waiting.status, waiting.hold_expires_at = "pending_payment", clock() + timedelta(minutes=10)
    waiting.save()

    replaced = post(owner, PAGE, KEYS | {"secret_key": "sk_test_another1"}, htmx=True)
    gone = post(owner, "/w/clinic/settings/payments/disconnect")

    assert replaced.status_code == 409
    assert (
        "1 booking is waiting for an online payment"
        in parse(replaced).one("div", class_="form-error").text
    )
    assert gone.status_code == 409
    assert (
        "1 booking is waiting for an online payment"
        in parse(gone).one("p", class_="form-error").text
    )
    assert "1 booking is waiting for an online payment now" in status(gone)
    assert clinic_org().stripe_secret_key == KEYS["secret_key"]


@pytest.mark.stripe
def test_the_environments_keys_are_the_installations(owner):
    page = owner.get(PAGE)

    assert "Online payments are on" in status(page)
    assert "this installation's Stripe account" in status(page)
    assert parse(page).one("h2", id="pay-keys-title").text == "Connect your Stripe account"
    assert parse(page).find("section", class_="pay-disconnect") is None


# The service form's payment rule ----------------------------------------------------


def service_form(world, **changes) -> dict:
    """The assessment's edit form as saved (£65, Ana), with ``changes``."""
    return {
        "name": "Initial assessment",
        "duration": "60",
        "price": "65",
        "max_days_ahead": "180",
        "cancellation_window": "24",
        "providers": [str(world["ana"])],
    } | changes


def edit(owner, world, **changes):
    return post(owner, f"/w/clinic/services/{world['assessment']}", service_form(world, **changes))


def assessment() -> Service:
    return Service.get(Service.name == "Initial assessment")


def rule(service: Service) -> tuple:
    return (
        service.payment_mode,
        service.deposit_cents,
        service.deposit_percent,
        service.late_cancel_refund_percent,
    )


def test_without_stripe_the_choices_are_shown_off_with_a_link(owner, world):
    page = parse(owner.get(f"/w/clinic/services/{world['assessment']}"))

    off = page.one("p", class_="svc-off")
    assert "Online payment is off: connect Stripe in Settings" in off.text
    assert off.one("a").attrs["href"] == PAGE
    choices = page.one("fieldset", class_="svc-pay")
    assert "disabled" in choices.attrs
    assert [r.attrs["value"] for r in choices.find_all("input", type="radio")] == [
        "none",
        "deposit_amount",
        "deposit_percent",
        "full",
    ]
    assert choices.one("input", value="none").attrs.get("checked") is not None
    assert "disabled" in page.one("input", name="late_refund").attrs


def test_without_stripe_a_rule_cannot_be_set_and_one_set_before_is_kept(owner, world):
    refused = edit(owner, world, payment="full")

    assert refused.status_code == 422
    assert "Online payment is off: connect Stripe in Settings first." in parse(refused).text
    assert rule(assessment()) == ("none", None, None, 0)

    Service.update(payment_mode="deposit", deposit_cents=2000).where(
        Service.id == world["assessment"]
    ).execute()
    saved = edit(
        owner, world, description="Now with a report."
    )  # the disabled choices are not sent

    assert saved.status_code == 303
    assert rule(assessment()) == ("deposit", 2000, None, 0)
    listed = parse(owner.get("/w/clinic/services")).text
    assert "£20 deposit online (off: Stripe not connected)" in listed


@pytest.mark.stripe
def test_a_fixed_deposit_is_saved_listed_and_asked_when_booking(owner, world, customer_api):
    response = edit(
        owner, world, payment="deposit_amount", deposit_amount="20.50", late_refund="50"
    )

    assert response.status_code == 303
    assert rule(assessment()) == ("deposit", 2050, None, 50)
    assert "£20.50 deposit online" in parse(owner.get("/w/clinic/services")).text
    form = parse(owner.get(f"/w/clinic/services/{world['assessment']}"))
    assert form.one("input", name="deposit_amount").attrs["value"] == "20.50"
    assert form.one("input", id="payment-deposit_amount").attrs.get("checked") is not None
    assert held(customer_api, assessment(), MON_14)["payment"]["amount_cents"] == 2050
    changes = AuditEntry.get(AuditEntry.action == "services.edited").details["changes"]
    assert changes == {
        "Payment": ["none", "deposit"],
        "Deposit": [None, "20.50"],
        "Late cancellation refund (%)": [0, 50],
    }


@pytest.mark.stripe
def test_a_share_of_the_price_and_full_prepayment(owner, world, customer_api):
    assert edit(owner, world, payment="deposit_percent", deposit_percent="30%").status_code == 303
    assert rule(assessment()) == ("deposit", None, 30, 0)
    assert "30% deposit online" in parse(owner.get("/w/clinic/services")).text
    assert held(customer_api, assessment(), MON_14)["payment"]["amount_cents"] == 1950

    assert edit(owner, world, payment="full").status_code == 303
    assert rule(assessment()) == ("full", None, None, 0)
    assert "Paid online in full" in parse(owner.get("/w/clinic/services")).text

    assert edit(owner, world, payment="none").status_code == 303
    assert rule(assessment()) == ("none", None, None, 0)


BAD_RULES = [  # (the choice, the field typed into, what was typed there, the problem)
    ("deposit_amount", "deposit_amount", "0", "Make the deposit more than 0."),
    ("deposit_amount", "deposit_amount", "65.01", "Make the deposit at most the price (65)."),
    ("deposit_amount", "deposit_amount", "", "Enter the deposit, like 20 or 20.50."),
    ("deposit_amount", "deposit_amount", "-5", "The deposit can't be negative."),
    ("deposit_percent", "deposit_percent", "0", "Give a whole number from 1 to 100."),
    ("deposit_percent", "deposit_percent", "101", "Give a whole number from 1 to 100."),
    ("deposit_percent", "deposit_percent", "half", "Give a whole number from 1 to 100."),
    ("full", "late_refund", "101", "Give a whole number from 0 to 100."),
    ("bitcoin", "payment", "bitcoin", "Choose how it is paid."),
]


@pytest.mark.stripe
@pytest.mark.parametrize(("choice", "field", "typed", "problem"), BAD_RULES)
def test_a_bad_rule_is_refused_beside_its_field_and_kept(
    owner, world, choice, field, typed, problem
):
    response = edit(owner, world, **{"payment": choice, field: typed})

    assert response.status_code == 422
    page = parse(response)
    assert problem in page.one("p", class_="error").text
    if field != "payment":
        kept = page.one("input", name=field)
        assert (kept.attrs["aria-invalid"], kept.attrs.get("value", "")) == ("true", typed)
    assert rule(assessment()) == ("none", None, None, 0)


@pytest.mark.stripe
def test_a_free_service_has_nothing_to_pay_online(owner, world):
    response = edit(owner, world, payment="full", price="0")

    assert response.status_code == 422
    assert (
        "A free service has nothing to pay online" in parse(response).one("p", class_="error").text
    )
    assert rule(assessment()) == ("none", None, None, 0)

"""The customer's payment pages, against localstripe: money on the review step, the
payment step (its countdown, its Content Security Policy, paying through it), a hold
that ran out, the receipt and refunds on the booking's page, and the appointments list.

The clock stands at Wed 25 Nov 2026, 12:00 in London; the booking is Monday 10:00.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from services.notifications.outbox import Dispatch
from services.payments import checkout
from tests.integration.payments import MONDAY_10, status_of
from tests.integration.webpages import csrf_token, parse, text_of
from tests.localstripe import CARD_3DS, CARD_DECLINED, CARD_OK

pytestmark = pytest.mark.stripe

MONDAY = datetime.fromisoformat(MONDAY_10)
REVIEW = "/clinic/book/{id}/review?provider=any&start=2026-11-30T10:00:00%2B00:00"


@pytest.fixture
def casey(paid, signed_in):
    """Casey's browser, signed in."""
    return signed_in(paid["customer"])


def review(client, service):
    return client.get(REVIEW.format(id=service.id))


def hold(client, service) -> int:
    """Press "Continue to payment" on the review step; the held booking's id."""
    token = csrf_token(review(client, service))
    response = client.post(
        f"/clinic/book/{service.id}/confirm",
        data={"csrf_token": token, "start": MONDAY_10, "provider": "any"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    booking_id = int(response.headers["Location"].split("/")[2])
    assert response.headers["Location"] == f"/appointments/{booking_id}/pay"
    return booking_id


def pay_json(client, booking_id: int, body: dict, path: str = "pay"):
    """What static/js/pay.js sends: JSON with the page's CSRF token in a header."""
    token = csrf_token(client.get(f"/appointments/{booking_id}"))
    return client.post(
        f"/appointments/{booking_id}/{path}", json=body, headers={"X-CSRFToken": token}
    )


def csp(response) -> dict[str, set[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split()[0]: set(d.split()[1:]) for d in policy.split(";")}


# --- before paying: the review step and the public page --------------------------------


def test_the_review_step_shows_the_deposit_and_the_policy_before_confirming(casey, paid):
    page = parse(review(casey, paid["assessment"]))

    facts = page.one("dl", class_="facts").text
    assert "Price £65 Deposit now £20 by card when you book; the rest (£45) at Clinic" in facts
    assert page.one("p", id="refund-policy").text == (
        "The deposit of £20 is refunded in full if you cancel at least 24 hours before;"
        " after that it is kept. If the business cancels, you get it all back."
    )
    assert page.one("form", class_="confirm").find("button").text == "Continue to payment"


def test_the_review_step_of_a_prepaid_service_says_the_full_price_is_paid_now(casey, paid):
    facts = parse(review(casey, paid["massage"])).one("dl", class_="facts").text

    assert "Price £55 Paid now £55 by card when you book Cancellation" in facts


def test_a_service_paid_at_the_venue_is_confirmed_as_before(casey, paid):
    page = parse(review(casey, paid["follow_up"]))

    assert "Price £45, paid at Clinic" in page.one("dl", class_="facts").text
    assert page.find("p", id="refund-policy") is None
    assert page.one("form", class_="confirm").find("button").text == "Confirm booking"


def test_the_public_page_says_what_is_paid_online(client, paid):
    page = parse(client.get("/clinic"))

    meta = {
        a.find("strong").text: a.one("span", class_="service-meta").text
        for a in page.find_all("a", class_="service")
    }
    assert meta == {
        "Follow-up": "£45 30 min",
        "Initial assessment": "£65 60 min £20 deposit",
        "Sports massage": "£55 45 min Paid online",
    }


# --- the payment step ------------------------------------------------------------------


def test_the_payment_step_shows_what_is_paid_the_policy_and_the_time_held(casey, paid):
    booking_id = hold(casey, paid["assessment"])

    response = casey.get(f"/appointments/{booking_id}/pay")

    assert response.status_code == 200
    page = parse(response)
    facts = page.one("dl", class_="pay-facts").text
    assert "Initial assessment · 60 min" in facts
    assert "Mon 30 Nov, 10:00–11:00" in facts
    assert "Deposit now £20 , the rest at Clinic" in facts
    assert "refunded in full if you cancel at least 24 hours before" in page.text
    held = page.one("div", class_="hold")
    assert held.attrs["data-seconds-left"] == "600"
    assert held.one("strong", role="timer").text == "10:00"
    assert "hidden" in held.one("section", class_="alert").attrs  # not run out
    form = page.one("form", id="pay-form")
    assert form.attrs["data-key"] == "pk_test_kairos"
    assert form.attrs["data-pay-url"] == f"/appointments/{booking_id}/pay"
    assert form.attrs["data-check-url"] == f"/appointments/{booking_id}/pay/check"
    assert (form.attrs["data-amount"], form.attrs["data-currency"]) == ("2000", "gbp")
    assert form.attrs["data-country"] == "GB"  # for Stripe's wallet button
    assert form.one("button", type="submit").text == "Pay £20"
    assert "secret" not in response.get_data(as_text=True)  # no client secret in the page
    scripts = [s.attrs["src"] for s in page.find_all("script")]
    assert form.attrs["data-stripe-js"] in scripts
    assert scripts.index(form.attrs["data-stripe-js"]) < scripts.index("/static/js/pay.js")
    give_up = page.one("form", class_="give-up")
    assert give_up.attrs["action"] == f"/appointments/{booking_id}/pay/cancel"


def test_a_reload_shows_the_time_really_left(casey, paid, clock):
    booking_id = hold(casey, paid["assessment"])
    clock.advance(minutes=3, seconds=21)

    held = parse(casey.get(f"/appointments/{booking_id}/pay")).one("div", class_="hold")

    assert held.attrs["data-seconds-left"] == "399"
    assert held.one("strong", role="timer").text == "06:39"


def test_the_payment_step_may_load_stripe_and_talk_to_it_and_no_other_page_may(
    casey, paid, stripe_local
):
    booking_id = hold(casey, paid["assessment"])
    stripe_origin = stripe_local.base_url  # its Stripe.js and its API, on one origin

    allowed = casey.get(f"/appointments/{booking_id}/pay")

    policy = csp(allowed)
    assert policy["script-src"] == {"'self'", stripe_origin}
    assert policy["frame-src"] == {"'self'", stripe_origin}
    assert policy["connect-src"] == {"'self'", stripe_origin}
    assert policy["object-src"] == {"'none'"}
    assert policy["frame-ancestors"] == {"'none'"}
    assert f'payment=(self "{stripe_origin}")' in allowed.headers["Permissions-Policy"]
    for path in (
        f"/appointments/{booking_id}",
        "/appointments",
        REVIEW.format(id=paid["assessment"].id),
    ):
        other = casey.get(path)
        assert other.status_code == 200, path
        assert stripe_origin not in other.headers["Content-Security-Policy"], path
        assert csp(other)["script-src"] == {"'self'"}, path
        assert "payment=()" in other.headers["Permissions-Policy"], path


def test_stripes_own_stripe_js_gets_its_3ds_frames_too(app):
    """With Stripe's own URLs (the defaults), its frames and API are what is allowed."""
    from flask import Response

    from views import security

    response = security.allow_stripe(
        Response(), "https://js.stripe.com/v3/", "https://api.stripe.com"
    )

    policy = csp(response)
    assert policy["script-src"] == {"'self'", "https://js.stripe.com"}
    assert policy["frame-src"] == {"'self'", "https://js.stripe.com", "https://hooks.stripe.com"}
    assert policy["connect-src"] == {"'self'", "https://api.stripe.com"}


def test_paying_through_the_page_confirms_and_leads_to_the_confirmation(casey, paid, stripe_local):
    booking_id = hold(casey, paid["assessment"])

    done = pay_json(casey, booking_id, {"token": stripe_local.card_token(CARD_OK)})

    assert done.status_code == 200
    assert done.json == {
        "status": "succeeded",
        "next": f"/appointments/{booking_id}/confirmed",
    }
    assert status_of(booking_id) == "confirmed"
    again = casey.get(f"/appointments/{booking_id}/pay")  # nothing left to pay
    assert again.headers["Location"] == f"/appointments/{booking_id}/confirmed"


def test_three_d_secure_asks_the_browser_then_the_check_confirms(casey, paid, stripe_local):
    booking_id = hold(casey, paid["assessment"])

    asked = pay_json(casey, booking_id, {"token": stripe_local.card_token(CARD_3DS)})

    assert asked.status_code == 200
    assert asked.json["status"] == "requires_action"
    secret = asked.json["client_secret"]
    stripe_local.authenticate(secret.split("_secret_")[0], secret, success=True)
    done = pay_json(casey, booking_id, {}, path="pay/check")
    assert done.json["status"] == "succeeded"
    assert status_of(booking_id) == "confirmed"


def test_a_declined_card_answers_stripes_message_and_the_page_stays(casey, paid, stripe_local):
    booking_id = hold(casey, paid["assessment"])

    declined = pay_json(casey, booking_id, {"token": stripe_local.card_token(CARD_DECLINED)})

    assert declined.status_code == 402
    assert declined.json == {"error": "payment_declined", "message": "Your card was declined."}
    assert status_of(booking_id) == "pending_payment"
    assert casey.get(f"/appointments/{booking_id}/pay").status_code == 200


def test_the_pay_endpoint_needs_the_csrf_token(casey, paid, stripe_local):
    booking_id = hold(casey, paid["assessment"])

    refused = casey.post(
        f"/appointments/{booking_id}/pay", json={"token": stripe_local.card_token()}
    )

    assert refused.status_code == 400
    assert status_of(booking_id) == "pending_payment"


def test_a_hold_that_ran_out_says_so_and_offers_another_time(casey, paid, clock):
    booking_id = hold(casey, paid["assessment"])
    clock.advance(minutes=10)  # run out; the sweep has not been yet

    page = parse(casey.get(f"/appointments/{booking_id}/pay"))

    held = page.one("div", class_="hold")
    assert held.attrs["data-seconds-left"] == "0"
    assert "hidden" in held.one("p", class_="hold-running").attrs
    expired = held.one("section", class_="alert")
    assert "hidden" not in expired.attrs
    assert "The time held for you ran out" in expired.text
    assert expired.one("a").attrs["href"] == f"/clinic/book/{paid['assessment'].id}"
    assert "disabled" in page.one("form", id="pay-form").one("button").attrs
    assert "hidden" in page.one("form", class_="give-up").attrs  # nothing left to release


def test_an_expired_hold_leads_to_its_page_which_says_it_ran_out(casey, paid, clock):
    booking_id = hold(casey, paid["assessment"])
    clock.advance(minutes=11)
    checkout.expire_due(clock(), Dispatch())

    response = casey.get(f"/appointments/{booking_id}/pay")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/appointments/{booking_id}"
    page = parse(casey.get(response.headers["Location"]))
    assert "ran out before it was paid" in page.one("main").text
    again = next(a.attrs["href"] for a in page.find_all("a") if a.text == "Book again")
    assert again.startswith(f"/clinic/book/{paid['assessment'].id}/when?provider=")
    assert page.find("section", class_="receipt") is None  # nothing was paid


def test_giving_up_releases_the_time_and_says_so(casey, paid, other_api):
    booking_id = hold(casey, paid["assessment"])
    token = csrf_token(casey.get(f"/appointments/{booking_id}/pay"))

    response = casey.post(f"/appointments/{booking_id}/pay/cancel", data={"csrf_token": token})

    assert response.status_code == 303
    assert status_of(booking_id) == "cancelled"
    page = text_of(casey.get(response.headers["Location"]))
    assert "You released this time without paying, so it was not booked." in page
    body = {"service": paid["assessment"].id, "start": MONDAY_10}
    assert other_api.post("/api/v1/bookings", json=body).status_code == 201  # free again


# --- after paying: the receipt and the list --------------------------------------------


def test_the_booking_page_shows_the_receipt_and_then_the_refund(casey, paid, stripe_local):
    booking_id = hold(casey, paid["assessment"])
    pay_json(casey, booking_id, {"token": stripe_local.card_token(CARD_OK)})

    receipt = parse(casey.get(f"/appointments/{booking_id}")).one("section", class_="receipt")

    paid_line = "Paid £20 deposit How Visa •••• 4242 Date Wed 25 Nov 2026, 12:00"
    assert receipt.one("dl").text == paid_line
    assert receipt.find("ul") is None  # no refunds
    token = csrf_token(casey.get(f"/appointments/{booking_id}/cancel"))
    cancelled = casey.post(f"/appointments/{booking_id}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 303
    refunds = parse(casey.get(f"/appointments/{booking_id}")).one("ul", class_="receipt-refunds")
    assert refunds.text == "£20 refunded · Wed 25 Nov 2026 (you cancelled)"


def test_the_list_shows_a_held_booking_as_awaiting_payment_and_an_expired_one_as_not_paid(
    casey, paid, clock
):
    booking_id = hold(casey, paid["assessment"])

    page = parse(casey.get("/appointments"))

    upcoming = page.one("section", aria_labelledby="upcoming-title")
    card = upcoming.one("a", href=f"/appointments/{booking_id}")
    assert card.one("span", class_="badge").text == "awaiting payment"
    detail = parse(casey.get(f"/appointments/{booking_id}"))
    pay_now = detail.one("section", class_="hold-notice")
    assert "held for you until 12:10" in pay_now.text
    assert pay_now.one("a").attrs["href"] == f"/appointments/{booking_id}/pay"

    clock.advance(minutes=11)
    checkout.expire_due(clock(), Dispatch())
    page = parse(casey.get("/appointments"))
    assert page.one("section", aria_labelledby="upcoming-title").find("a", class_="appt") is None
    past = page.one("section", aria_labelledby="past-title")
    assert past.one("span", class_="badge").text == "not paid in time"


def test_cancelling_in_time_says_the_deposit_comes_back(casey, paid, stripe_local):
    booking_id = hold(casey, paid["assessment"])
    pay_json(casey, booking_id, {"token": stripe_local.card_token(CARD_OK)})

    page = text_of(casey.get(f"/appointments/{booking_id}/cancel"))

    assert "£20 of what you paid will be refunded to your card." in page
    assert "is kept" not in page


def test_inside_the_window_a_paid_booking_can_still_be_cancelled_and_says_what_is_kept(
    casey, paid, stripe_local, clock
):
    booking_id = hold(casey, paid["assessment"])
    pay_json(casey, booking_id, {"token": stripe_local.card_token(CARD_OK)})
    clock.advance(days=4)  # Sunday noon: inside the 24 hours

    detail = parse(casey.get(f"/appointments/{booking_id}"))
    cancel_page = casey.get(f"/appointments/{booking_id}/cancel")
    token = csrf_token(cancel_page)
    done = casey.post(f"/appointments/{booking_id}/cancel", data={"csrf_token": token})

    assert [
        a.text for a in detail.find_all("a", class_="button") if a.text in ("Cancel", "Move")
    ] == ["Cancel"]  # no Move
    assert "£20 of what you paid is kept by" in text_of(cancel_page)
    assert done.status_code == 303
    assert status_of(booking_id) == "cancelled"


def test_inside_the_window_an_unpaid_booking_still_says_contact_them(casey, paid, clock):
    token = csrf_token(review(casey, paid["follow_up"]))
    made = casey.post(
        f"/clinic/book/{paid['follow_up'].id}/confirm",
        data={"csrf_token": token, "start": MONDAY_10, "provider": "any"},
    )
    booking_id = int(made.headers["Location"].split("/")[2])
    clock.advance(days=4)

    page = text_of(casey.get(f"/appointments/{booking_id}/cancel"))

    assert "To change it now, please contact Clinic" in page
    assert "Yes, cancel it" not in page

"""Rate limits (issue 12, finding 3) through the front door, on both kinds of store: the
database (the default) and a real Redis at 127.0.0.1:6379 (keys under a prefix of the
test's own, deleted afterwards). Each test also runs on SQLite and PostgreSQL.

The probe signed in after sixty wrong passwords, on the web and the API, and sent
unlimited reset, sign-in link, invitation and sign-up emails. Now each is limited per
address, account or business, answered with 429 and Retry-After, and the page says when
to try again. The clock is the test's: waiting is ``clock.advance``.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import requests

from app import create_app
from config import Settings
from models import Organisation, RateLimit
from services.accounts import auth
from services.ratelimits import LIMITS, Limiter, RateLimited
from services.ratelimits.stores import DatabaseStore, RedisStore
from tests.integration.test_accounts import (
    PARTIAL,
    body,
    csrf_token,
    mails,
    signed_in_user_id,
    use_outbox,
)
from tests.integration.test_business_signup import GOOD as BUSINESS
from tests.integration.test_customer_limits import at, post_booking
from tests.integration.test_journey import THU_10, confirm
from tests.integration.test_ws_desk import AT_14, form, post
from tests.integration.webpages import csrf_token as page_csrf_token
from tests.server import gunicorn

REDIS_URL = "redis://127.0.0.1:6379/0"
WRONG = "not the password at all"


@pytest.fixture(params=["database", "redis"])
def store(request, app):
    if request.param == "database":
        yield DatabaseStore()  # its table is emptied before every test, with the others
        return
    store = RedisStore(REDIS_URL, f"kairos-test:{secrets.token_hex(6)}:")
    yield store
    store.clear()


@pytest.fixture
def limits(app, store):
    """The app's limits on ``store``; ``limits(scale)`` multiplies every count."""

    def use(scale: float = 1.0) -> Limiter:
        app.extensions["ratelimits"] = Limiter(store, scale)
        return app.extensions["ratelimits"]

    use()
    return use


def count(name: str) -> int:
    return LIMITS[name].count


def sign_in(client, email: str, password: str, ip: str = "127.0.0.1", headers=None):
    """The sign-in form, posted from ``ip``."""
    token = csrf_token(client, "/account/sign-in")
    return client.post(
        "/account/sign-in",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
        headers=headers,
    )


def token_request(client, email: str, password: str, ip: str = "127.0.0.1"):
    return client.post(
        "/api/v1/tokens",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def form_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    value = found and re.search(r'value="([^"]*)"', found.group(0))
    return value.group(1) if value else None


# Signing in ------------------------------------------------------------------------------


def test_ten_wrong_passwords_for_an_email_stop_even_the_right_one_from_anywhere(
    client, clinic, limits, clock
):
    for n in range(count("sign_in_per_email")):  # each from another address
        response = sign_in(client, "casey@example.com", WRONG, ip=f"203.0.113.{n}")
        assert response.status_code == 422
        assert "Email or password is not right." in body(response)

    refused = sign_in(client, "Casey@Example.com ", "correct horse battery", ip="198.51.100.7")

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "90"  # one more try every 15 min / 10
    page = body(refused)
    assert "Too many tries. Try again in 2 minutes." in page
    assert form_value(page, "email") == "Casey@Example.com "  # what was typed stays
    assert "correct horse battery" not in page  # the password never comes back
    assert signed_in_user_id(client) is None

    clock.advance(seconds=89)
    assert sign_in(client, "casey@example.com", "correct horse battery").status_code == 429
    clock.advance(seconds=1)
    assert sign_in(client, "casey@example.com", "correct horse battery").status_code == 303
    assert signed_in_user_id(client) == str(clinic["customer"].id)


def test_one_address_trying_many_emails_is_stopped(client, app, limits):
    for n in range(count("sign_in_per_ip")):
        assert sign_in(client, f"guess{n}@example.com", WRONG).status_code == 422

    refused = sign_in(client, "another@example.com", WRONG)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 30  # 15 minutes / 30
    assert "Too many tries. Try again in 30 seconds." in body(refused)
    # Another address is not affected.
    assert sign_in(client, "another@example.com", WRONG, ip="192.0.2.1").status_code == 422


def test_the_api_answers_429_json_and_shares_the_count_with_the_web(
    client, anonymous_api, clinic, limits
):
    for _ in range(5):
        assert sign_in(client, "casey@example.com", WRONG).status_code == 422
    for _ in range(count("sign_in_per_email") - 5):
        assert token_request(client, "casey@example.com", WRONG).status_code == 401

    refused = token_request(client, "casey@example.com", "correct horse battery")

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "90"
    assert refused.json == {
        "error": "rate_limited",
        "message": "Too many tries. Try again in 2 minutes.",
        "retry_after": 90,
    }
    assert sign_in(client, "casey@example.com", "correct horse battery").status_code == 429


def test_right_passwords_do_not_count(client, clinic, limits):
    for _ in range(count("sign_in_per_email") + 2):
        assert (
            token_request(client, "casey@example.com", "correct horse battery").status_code == 201
        )
    assert token_request(client, "casey@example.com", WRONG).status_code == 401


def test_htmx_gets_the_form_back_in_place_saying_when(client, clinic, limits):
    limits(0.1)  # one failed sign-in per email
    assert sign_in(client, "casey@example.com", WRONG).status_code == 422

    refused = sign_in(client, "casey@example.com", WRONG, headers=PARTIAL)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "900"
    fragment = body(refused)
    assert "<html" not in fragment
    assert fragment.lstrip().startswith("<form")
    assert "Too many tries. Try again in 15 minutes." in fragment
    assert form_value(fragment, "email") == "casey@example.com"


def test_a_busy_server_answers_503_and_the_try_does_not_count(client, clinic, limits):
    limits(0.1)  # one failed sign-in per email
    held = 0
    while auth._admitted.acquire(blocking=False):  # every hashing slot and queue place
        held += 1
    try:
        busy = token_request(client, "casey@example.com", WRONG)
        page = sign_in(client, "casey@example.com", WRONG)
    finally:
        for _ in range(held):
            auth._admitted.release()

    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "2"
    assert busy.json["error"] == "busy"
    assert page.status_code == 503
    assert "Many people are signing in right now. Try again in a few seconds." in body(page)
    # Neither was a guess: the one failed try allowed is still there.
    assert token_request(client, "casey@example.com", WRONG).status_code == 401
    assert token_request(client, "casey@example.com", WRONG).status_code == 429


# Emails ----------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["casey@example.com", "nobody@example.com"])
def test_five_emailed_links_per_address_an_hour_whether_or_not_it_has_an_account(
    client, app, clinic, limits, clock, tmp_path, email
):
    outbox = use_outbox(app, tmp_path)
    for n, path in enumerate(["/account/reset"] * 3 + ["/account/magic"] * 2):
        token = csrf_token(client, path)
        response = client.post(
            path,
            data={"csrf_token": token, "email": email},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
        assert response.status_code == 303

    token = csrf_token(client, "/account/reset")
    refused = client.post("/account/reset", data={"csrf_token": token, "email": email.upper()})

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "720"
    assert "Too many emails asked for. Try again in 12 minutes." in body(refused)
    assert form_value(body(refused), "email") == email.upper()
    # An address with no account is told so for each sign-in link asked (issue 15, item 1).
    assert len(mails(outbox)) == (5 if email == "casey@example.com" else 2)
    clock.advance(minutes=12)
    response = client.post("/account/reset", data={"csrf_token": token, "email": email})
    assert response.status_code == 303


def test_sign_ups_from_one_address_customer_and_business_alike(client, app, limits):
    # Input sent back to be corrected does not count.
    for _ in range(3):
        token = csrf_token(client, "/account/sign-up")
        weak = {
            "csrf_token": token,
            "name": "Robin",
            "email": "r@example.com",
            "password": "password1234",
        }
        assert client.post("/account/sign-up", data=weak).status_code == 422
    for n in range(count("sign_up_per_ip")):
        fresh = app.test_client()  # a new visitor each time: signing up signs in
        if n % 2:
            data = BUSINESS | {"slug": f"physio-{n}", "email": f"owner{n}@example.com"}
            path = "/business/sign-up"
        else:
            data = {"name": "Robin", "email": f"robin{n}@example.com", "password": "long enough pw"}
            path = "/account/sign-up"
        token = csrf_token(fresh, path)
        assert fresh.post(path, data={"csrf_token": token, **data}).status_code == 303

    token = csrf_token(client, "/business/sign-up")
    data = BUSINESS | {"csrf_token": token, "email": "late@example.com"}
    refused = client.post("/business/sign-up", data=data)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "360"
    page = body(refused)
    assert "Too many new accounts from this network. Try again in 6 minutes." in page
    assert form_value(page, "email") == "late@example.com"
    assert form_value(page, "business_name") == "City  Physio"
    assert "long enough pw" not in page


def test_invitations_per_business(signed_in, world, limits, app, tmp_path):
    outbox = use_outbox(app, tmp_path)
    owner = signed_in(world["owner"])
    token = csrf_token(owner, "/w/clinic/staff")
    for n in range(count("invitations_per_business")):
        data = {"csrf_token": token, "name": f"Nia {n}", "email": f"nia{n}@example.com"}
        assert owner.post("/w/clinic/staff", data=data).status_code == 303

    data = {"csrf_token": token, "name": "Late Comer", "email": "late@example.com"}
    refused = owner.post("/w/clinic/staff", data=data)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "180"
    page = body(refused)
    assert "Too many invitations. Try again in 3 minutes." in page
    assert (form_value(page, "name"), form_value(page, "email")) == (
        "Late Comer",
        "late@example.com",
    )
    assert len(mails(outbox)) == count("invitations_per_business")


def test_email_changes_per_account(client, clinic, limits, signed_in, app, tmp_path):
    use_outbox(app, tmp_path)
    signed_in(clinic["customer"], client)
    token = csrf_token(client, "/account/profile")
    for n in range(count("email_change_per_account")):
        data = {"csrf_token": token, "new_email": f"c{n}@example.com", "email_password": WRONG}
        assert client.post("/account/profile/email", data=data).status_code == 422  # counts too

    data = {
        "csrf_token": token,
        "new_email": "late@example.com",
        "email_password": "correct horse battery",
    }
    refused = client.post("/account/profile/email", data=data)

    assert refused.status_code == 429
    assert "Too many tries. Try again in 12 minutes." in body(refused)
    assert form_value(body(refused), "new_email") == "late@example.com"


# Bookings --------------------------------------------------------------------------------


def test_bookings_per_customer_on_the_api_and_failed_ones_do_not_count(
    customer_api, clinic, limits
):
    Organisation.update(max_future_bookings=100, max_bookings_per_day=100).execute()
    starts = [at(day, hour) for day in range(8) for hour in (9, 11, 14)]
    for start in starts[: count("bookings_per_customer") - 1]:
        response = post_booking(customer_api, clinic["follow_up"], start)
        assert response.status_code == 201, response.json
    taken = post_booking(customer_api, clinic["follow_up"], starts[0], clinic["ana"])
    assert taken.status_code == 409  # not made: not counted
    last = starts[count("bookings_per_customer") - 1]
    assert post_booking(customer_api, clinic["follow_up"], last).status_code == 201

    refused = post_booking(customer_api, clinic["follow_up"], at(9, 9))

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "180"
    assert refused.json["error"] == "rate_limited"
    assert refused.json["message"] == "Too many bookings. Try again in 3 minutes."


def test_a_web_booking_refused_says_when_to_try_again(client, clinic, limits, signed_in):
    limits(0.05)  # one booking per customer an hour
    Organisation.update(max_future_bookings=100, max_bookings_per_day=100).execute()
    signed_in(clinic["customer"], client)
    assert confirm(client, clinic["follow_up"], THU_10).status_code == 303

    refused = confirm(client, clinic["follow_up"], THU_10 + timedelta(hours=2))

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3600"
    assert refused.headers["Cache-Control"] == "no-store"
    page = body(refused)
    assert "<h1>Try again later</h1>" in page
    assert "Too many bookings. Try again in 60 minutes." in page


def test_desk_bookings_per_staff_member(signed_in, world, clinic, limits):
    limits(1 / 120)  # one booking per staff member an hour
    ana = signed_in(world["provider"])
    ana.token = page_csrf_token(ana.get("/"))
    customer = {"customer": world["ana's customer"]}
    assert post(ana, form(world, clinic, **customer)).status_code == 201

    refused = post(ana, form(world, clinic, start=AT_14.replace("14:00", "15:00"), **customer))

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3600"
    assert "<html" not in body(refused)  # htmx: a fragment
    assert "Too many bookings. Try again in 60 minutes." in body(refused)


# Where the counts live ---------------------------------------------------------------------


def test_a_refused_try_counts_against_none_of_its_limits(limits, clock):
    limiter = limits()
    for _ in range(count("sign_in_per_email")):
        limiter.take([("sign_in_per_email", "x@example.com")], clock())

    both = [("sign_in_per_ip", "192.0.2.9"), ("sign_in_per_email", "x@example.com")]
    with pytest.raises(RateLimited):
        limiter.take(both, clock())

    for _ in range(count("sign_in_per_ip")):  # the address's whole burst is still there
        limiter.take([("sign_in_per_ip", "192.0.2.9")], clock())
    with pytest.raises(RateLimited):
        limiter.take([("sign_in_per_ip", "192.0.2.9")], clock())


def test_two_app_instances_share_the_count(app, database_url, client, clinic, limits, store):
    other = create_app(
        Settings(database_url=database_url, secret_key="test-secret", env="testing"),
        TESTING=True,
        CLOCK=app.config["CLOCK"],
    )
    again = store if isinstance(store, DatabaseStore) else RedisStore(REDIS_URL, store.prefix)
    other.extensions["ratelimits"] = Limiter(again)
    clients = [client, other.test_client()]
    for n in range(count("sign_in_per_email")):
        assert token_request(clients[n % 2], "casey@example.com", WRONG).status_code == 401
    for one in clients:
        assert token_request(one, "casey@example.com", WRONG).status_code == 429


def test_the_counters_hold_no_email_address(client, clinic, limits, store):
    assert token_request(client, "casey@example.com", WRONG).status_code == 401
    if isinstance(store, DatabaseStore):
        keys = [row.bucket for row in RateLimit.select()]
    else:
        keys = [k.decode() for k in store.redis.scan_iter(match=store.prefix + "*")]
    assert len(keys) == 2  # this email, and this address
    assert not any("casey" in key or "127.0.0.1" in key for key in keys)


def test_redis_counters_expire_once_run_down(client, clinic, app):
    store = RedisStore(REDIS_URL, f"kairos-test:{secrets.token_hex(6)}:")
    app.extensions["ratelimits"] = Limiter(store)
    try:
        assert token_request(client, "casey@example.com", WRONG).status_code == 401
        ttls = [store.redis.pttl(key) for key in store.redis.scan_iter(match=store.prefix + "*")]
        assert sorted(ttls) == [pytest.approx(30_000, abs=1000), pytest.approx(90_000, abs=1000)]
    finally:
        store.clear()


def test_without_redis_tries_go_through_and_are_logged(client, clinic, app, caplog):
    # Nothing listens on port 1; a client name of its own: a breaker of its own, which
    # opens at the first failure and logs it once, not once per try.
    nowhere = f"redis://127.0.0.1:1/0?client_name=t{secrets.token_hex(4)}"
    app.extensions["ratelimits"] = Limiter(RedisStore(nowhere, "kairos-test:"))
    for _ in range(count("sign_in_per_email") + 1):
        assert token_request(client, "casey@example.com", WRONG).status_code == 401
    assert caplog.text.count("redis.unavailable") == 1
    assert "during=ratelimit.take" in caplog.text


def test_limits_are_set_from_the_environment_and_can_be_switched_off(database_url, clinic):
    assert Settings.from_env({"RATE_LIMIT_SCALE": "off"}).rate_limit_scale == 0
    assert Settings.from_env({"RATE_LIMIT_SCALE": "2.5"}).rate_limit_scale == 2.5
    assert Settings.from_env({"REDIS_URL": REDIS_URL}).redis_url == REDIS_URL
    settings = Settings.from_env({"DATABASE_URL": database_url, "RATE_LIMIT_SCALE": "0"})
    client = create_app(settings, TESTING=True).test_client()
    for _ in range(count("sign_in_per_email") + 1):
        assert token_request(client, "casey@example.com", WRONG).status_code == 401


def test_run_down_database_counters_are_purged(app, clock):
    from services import ratelimits

    limiter = Limiter(DatabaseStore())
    for _ in range(2):  # 12 minutes each
        limiter.take([("mail_per_address", "a@example.com")], clock())
    limiter.take([("sign_in_per_email", "b@example.com")], clock())  # 90 seconds
    clock.advance(minutes=13)
    assert ratelimits.purge(clock().timestamp()) == 1
    assert [row.bucket.split(":")[0] for row in RateLimit.select()] == ["mail_per_address"]


def test_a_redis_server_is_there():
    """The Redis tests need a real server, as the machine and CI provide."""
    assert redis.Redis.from_url(REDIS_URL).ping()


@pytest.mark.live
@pytest.mark.parametrize("kind", ["database", "redis"])
def test_two_server_processes_share_the_count(production_database, clinic, kind):
    """Two instances of the app under gunicorn, one process each, on the same database
    (and, for "redis", the same Redis): failed tries sent to either count for both."""
    prefix = f"kairos-test:{secrets.token_hex(6)}:"
    env = {"REDIS_URL": REDIS_URL, "RATE_LIMIT_PREFIX": prefix} if kind == "redis" else {}
    try:
        with (
            gunicorn(production_database, workers=1, threads=4, env=env) as one,
            gunicorn(production_database, workers=1, threads=4, env=env) as two,
        ):
            bases = [one, two]
            body = {"email": "casey@example.com", "password": WRONG}
            for n in range(count("sign_in_per_email")):
                answer = requests.post(f"{bases[n % 2]}/api/v1/tokens", json=body, timeout=20)
                assert answer.status_code == 401, answer.text
            for base in bases:
                answer = requests.post(f"{base}/api/v1/tokens", json=body, timeout=20)
                assert answer.status_code == 429
                assert answer.json()["error"] == "rate_limited"
                assert 85 <= int(answer.headers["Retry-After"]) <= 90
    finally:
        if kind == "redis":
            RedisStore(REDIS_URL, prefix).clear()


def test_the_readme_lists_every_limit_as_it_is():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, limit in LIMITS.items():
        minutes = int(limit.period.total_seconds() // 60)
        period = "hour" if minutes == 60 else f"{minutes} min"
        assert f"| `{name}` | {limit.count} per {period} |" in readme, name

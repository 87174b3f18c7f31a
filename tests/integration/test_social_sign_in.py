"""Signing in and up with Google, Apple and Facebook (issue 17), against local stand-ins
that speak OpenID Connect (their own keys, JWKS and discovery document) and Facebook's
OAuth 2 and Graph ``/me``: a new identity makes an account, a known one signs in, a
verified email links to its account and an unverified one does not; the ID token's
signature, ``iss``, ``aud``, ``exp`` and ``nonce`` and the ``state`` are each checked;
Apple's cross-site form_post comes back to a same-site GET; Account → Sign-in methods
adds an identity to the signed-in account."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import requests

from models import Identity, SignIn, User, db
from services.accounts.account import anonymise
from services.identity import oauth_client, social
from tests import factories
from tests.integration.webpages import csrf_token, parse, path_of, query, text_of
from tests.standins._oauth import consent
from tests.standins.facebook import FacebookLogin
from tests.standins.oidc import APPLE_PATHS, GOOGLE_PATHS, OidcProvider, Person

CASEY = "casey@example.com"
METHODS = "/account/sign-in-methods"
SIGN_IN = "/account/sign-in"


@pytest.fixture
def google(clock):
    with OidcProvider(GOOGLE_PATHS, now=lambda: clock().timestamp()) as standin:
        yield standin


@pytest.fixture
def apple(clock):
    with OidcProvider(APPLE_PATHS, now=lambda: clock().timestamp(), names_in_token=False) as s:
        s.person = Person(
            sub="001234.abcdef0123456789.0042",
            email="x7k2p9q4mz@privaterelay.appleid.com",
            email_verified="true",
            name=None,
            extra={"is_private_email": "true"},
        )
        yield s


@pytest.fixture
def facebook():
    with FacebookLogin() as standin:
        yield standin


@pytest.fixture
def app_settings(google, apple, facebook) -> dict:
    return {
        "google_client_id": google.client_id,
        "google_client_secret": google.client_secret,
        "google_metadata_url": google.metadata_url,
        "apple_client_id": apple.client_id,
        "apple_client_secret": apple.client_secret,
        "apple_metadata_url": apple.metadata_url,
        "facebook_client_id": facebook.client_id,
        "facebook_client_secret": facebook.client_secret,
        "facebook_authorize_url": facebook.authorize_url,
        "facebook_token_url": facebook.token_url,
        "facebook_graph_url": facebook.graph_url,
    }


@pytest.fixture
def casey(app):
    return factories.make_user(CASEY, "Casey Morgan")


def start(client, provider: str, next_path: str | None = None, path: str | None = None):
    started = client.get(path or f"/sign-in/{provider}", query_string={"next": next_path or ""})
    assert started.status_code == 302, started.get_data(as_text=True)
    return started.headers["Location"]


def come_back(client, provider: str, params: dict):
    return client.get(f"/sign-in/{provider}/back", query_string=params)


def round_trip(client, provider: str, next_path: str | None = None, path: str | None = None):
    """Press "Continue with ...", agree at the provider, come back: the answer."""
    return come_back(client, provider, consent(start(client, provider, next_path, path)))


def signed_in_as(client) -> User | None:
    response = client.get("/account/profile")
    if response.status_code != 200:
        return None
    return SignIn.select().order_by(SignIn.id.desc()).first().user


def test_the_buttons_show_for_configured_providers_and_keep_next(app, client):
    for page in (SIGN_IN, "/account/sign-up"):
        html = parse(client.get(page, query_string={"next": "/clinic"}))
        links = {a.text: a.attrs["href"] for a in html.find_all("a", class_="social-button")}
        assert links == {
            "Continue with Google": "/sign-in/google?next=/clinic",
            "Continue with Apple": "/sign-in/apple?next=/clinic",
            "Continue with Facebook": "/sign-in/facebook?next=/clinic",
        }
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = replace(settings, apple_client_id="", facebook_client_secret="")
    html = parse(client.get(SIGN_IN))
    assert [a.text for a in html.find_all("a", class_="social-button")] == ["Continue with Google"]
    assert client.get("/sign-in/apple").status_code == 404
    app.config["SETTINGS"] = replace(
        settings, google_client_id="", apple_client_id="", facebook_client_id=""
    )
    assert parse(client.get(SIGN_IN)).find("a", class_="social-button") is None
    assert "sign-in-ways" not in client.get(SIGN_IN).get_data(as_text=True)


def test_the_consent_asks_with_state_nonce_and_pkce(client, google):
    asked = query(start(client, "google"))
    assert asked["response_type"] == "code"
    assert asked["scope"] == "openid email profile"
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43
    assert len(asked["state"]) >= 20
    assert len(asked["nonce"]) >= 20
    assert asked["redirect_uri"] == "http://127.0.0.1:5000/sign-in/google/back"


def test_a_new_google_identity_makes_an_account_and_signs_it_in(client, google, clock):
    google.person = Person(sub="g-42", email="Jo@Example.com", name="Jo Bloggs")

    came_back = round_trip(client, "google", next_path="/clinic")

    assert came_back.status_code == 303
    assert came_back.headers["Location"] == "/clinic"
    assert came_back.headers["Cache-Control"] == "no-store"
    assert came_back.headers["Referrer-Policy"] == "no-referrer"
    user = User.get(User.email == "jo@example.com")
    assert (user.name, user.password_hash) == ("Jo Bloggs", None)
    identity = Identity.get()
    assert (identity.user_id, identity.provider, identity.subject) == (user.id, "google", "g-42")
    assert (identity.email, identity.email_verified) == ("jo@example.com", True)
    assert identity.last_used_at == clock.now
    assert "Welcome, Jo Bloggs." in text_of(client.get("/account/profile"))
    assert signed_in_as(client) == user
    assert SignIn.get().method == "google"


def test_a_known_identity_signs_in_again(app, client, google, clock):
    google.person = Person(sub="g-42", email="jo@example.com")
    round_trip(client, "google")
    clock.advance(days=3)

    again = app.test_client()
    came_back = round_trip(again, "google")

    assert came_back.status_code == 303
    assert User.select().count() == 1
    assert Identity.get().last_used_at == clock.now
    assert signed_in_as(again).email == "jo@example.com"


def test_a_verified_email_links_to_its_account(client, google, casey, clock):
    google.person = Person(sub="g-7", email="CASEY@example.com", email_verified=True)

    came_back = round_trip(client, "google")

    assert came_back.status_code == 303
    assert User.select().count() == 1
    identity = Identity.get()
    assert identity.user_id == casey.id
    assert identity.created_at == clock.now
    assert signed_in_as(client) == casey


def test_an_unverified_email_of_an_account_is_not_linked(client, google, casey):
    google.person = Person(sub="g-7", email=CASEY, email_verified=False)

    refused = round_trip(client, "google")

    assert refused.status_code == 409
    said = text_of(refused)
    assert "sign in with your password or an emailed link" in said
    assert "then add Google from Account → Sign-in methods" in said
    assert parse(refused).find("a", href="/account/sign-in?next=/account/sign-in-methods")
    assert Identity.select().count() == 0
    assert User.select().count() == 1
    assert signed_in_as(client) is None


def test_facebook_makes_an_account_from_graph_me(client, facebook):
    came_back = round_trip(client, "facebook")

    assert came_back.status_code == 303
    (user,) = User.select()
    assert user.name == "Frankie Fb"
    # Facebook does not say whether the address was verified: it is not the account's.
    assert user.email is None
    identity = Identity.get()
    assert (identity.provider, identity.subject) == ("facebook", "4180733592051234")
    assert (identity.email, identity.email_verified) == ("frankie@example.com", False)
    assert facebook.me_requests[0]["fields"] == "id,name,email"
    assert signed_in_as(client) == user
    assert SignIn.get().method == "facebook"


def test_facebook_with_an_accounts_email_is_not_linked(client, facebook, casey):
    facebook.person["email"] = CASEY

    refused = round_trip(client, "facebook")

    assert refused.status_code == 409
    assert "then add Facebook from Account → Sign-in methods" in text_of(refused)
    assert Identity.select().count() == 0


def apple_form_post(app, client, apple, next_path: str | None = None, user: dict | None = None):
    """Apple's page POSTs the code to the callback from appleid.apple.com: cross-site, so
    without the browser's SameSite=Lax cookies (a client with none). The 303 it gets is
    followed by the browser, this time with its cookies."""
    apple.first_time_user = user
    answer = requests.get(start(client, "apple", next_path), timeout=5)
    form = parse(answer.text).one("form")
    assert form.attrs["action"] == "http://127.0.0.1:5000/sign-in/apple/back"
    fields = {i.attrs["name"]: i.attrs["value"] for i in form.find_all("input")}
    posted = app.test_client().post("/sign-in/apple/back", data=fields)
    return posted, fields


def test_apple_form_post_comes_back_to_a_same_site_get(app, client, apple, clock):
    name = {"name": {"firstName": "Ada", "lastName": "Lovelace"}, "email": "ignored@x.test"}
    posted, fields = apple_form_post(app, client, apple, next_path="/clinic", user=name)

    assert posted.status_code == 303
    assert "Set-Cookie" not in posted.headers  # nothing happened without the session
    location = posted.headers["Location"]
    assert path_of(location) == "/sign-in/apple/back"
    assert query(location) == {k: v for k, v in fields.items() if k in ("code", "state", "user")}
    assert User.select().count() == 0

    came_back = client.get(location)

    assert came_back.status_code == 303
    assert came_back.headers["Location"] == "/clinic"
    user = User.get()
    assert user.name == "Ada Lovelace"
    assert user.email == "x7k2p9q4mz@privaterelay.appleid.com"  # a relay address is fine
    identity = Identity.get()
    assert (identity.provider, identity.email_verified) == ("apple", True)
    assert SignIn.get().method == "apple"


def test_apple_without_a_name_or_email_gets_a_plain_name(app, client, apple):
    apple.person = Person(sub="001.x.1", email=None, name=None)
    posted, _ = apple_form_post(app, client, apple)
    assert client.get(posted.headers["Location"]).status_code == 303
    user = User.get()
    assert (user.name, user.email) == ("Apple user", None)


def test_the_apple_post_is_the_only_route_without_csrf(app, client):
    assert client.post("/sign-in/google/back", data={"code": "x", "state": "y"}).status_code in (
        400,
        405,
    )
    refused = client.post("/sign-in/apple/back", data={"error": "user_cancelled_authorize"})
    assert refused.status_code == 303  # on to the GET, where the state is checked
    assert client.get(refused.headers["Location"]).status_code == 400


FORGERIES = {
    "a key not in the JWKS": lambda standin, now: setattr(standin, "sign_with_stranger", True),
    "expired": lambda standin, now: standin.tamper.update(exp=int(now.timestamp()) - 600),
    "another audience": lambda standin, now: standin.tamper.update(aud="someone-else"),
    "another issuer": lambda standin, now: standin.tamper.update(iss="https://evil.example"),
    "another nonce": lambda standin, now: standin.tamper.update(nonce="not-the-one-sent"),
    "no nonce": lambda standin, now: standin.tamper.update(nonce=None),
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_or_stale_id_token_signs_nobody_in(client, google, clock, caplog, forgery):
    FORGERIES[forgery](google, clock.now)

    refused = round_trip(client, "google")

    assert refused.status_code == 400, forgery
    assert "could not sign you in" in text_of(refused)
    assert User.select().count() == 0
    assert Identity.select().count() == 0
    assert signed_in_as(client) is None
    assert "social.refused provider=google reason=id_token" in caplog.text


def test_the_unforged_token_of_those_tests_is_accepted(client, google, clock):
    """So that the refusals above are the forgeries' doing."""
    google.tamper.update(exp=int(clock.now.timestamp()) + 60)
    assert round_trip(client, "google").status_code == 303


def test_a_wrong_state_is_refused(client, google):
    asked = consent(start(client, "google"))
    refused = come_back(client, "google", {**asked, "state": "not-the-state-we-sent"})
    assert refused.status_code == 400
    assert User.select().count() == 0
    # The state is used once: the right one no longer works either.
    assert come_back(client, "google", asked).status_code == 400
    assert User.select().count() == 0


def test_a_trip_that_took_too_long_is_refused(client, google, clock):
    asked = consent(start(client, "google"))
    clock.advance(minutes=16)  # the stand-in's token is fresh at the new time
    assert come_back(client, "google", asked).status_code == 400
    assert User.select().count() == 0


def test_a_state_from_another_browser_is_refused(app, client, google):
    asked = consent(start(client, "google"))
    other = app.test_client()
    assert come_back(other, "google", asked).status_code == 400
    assert User.select().count() == 0


def test_cancelled_at_the_provider_is_a_friendly_page(client, google, facebook):
    google.refuse = True
    cancelled = round_trip(client, "google", next_path="/clinic")
    assert cancelled.status_code == 400
    said = text_of(cancelled)
    assert "You cancelled signing in with Google" in said
    assert parse(cancelled).find("a", href="/account/sign-in?next=/clinic")
    facebook.refuse = True
    assert round_trip(client, "facebook").status_code == 400
    assert User.select().count() == 0


def test_a_provider_that_is_down_is_a_friendly_page(client, google):
    google.down = True
    down = client.get("/sign-in/google")
    assert down.status_code == 400
    assert "Google is not answering" in text_of(down)

    google.down = False
    asked = consent(start(client, "google"))
    google.down = True
    down = come_back(client, "google", asked)
    assert down.status_code == 400
    assert User.select().count() == 0


def test_a_provider_too_slow_to_answer_is_a_friendly_page(client, google, monkeypatch):
    monkeypatch.setattr(oauth_client, "TIMEOUT", (2, 0.2))
    google.slow = 0.6
    slow = round_trip(client, "google")
    assert slow.status_code == 400
    assert "Google is not answering just now." in text_of(slow)
    assert User.select().count() == 0


def test_an_unsafe_next_is_dropped(client, google):
    came_back = round_trip(client, "google", next_path="//evil.example/x")
    assert came_back.status_code == 303
    assert came_back.headers["Location"] == "/appointments"


# Account → Sign-in methods ----------------------------------------------------------


@pytest.fixture
def casey_browser(signed_in, casey):
    return signed_in(casey)


def test_methods_page_offers_the_providers_not_yet_added(casey_browser, casey, clock):
    html = parse(casey_browser.get(METHODS))
    links = {a.text: a.attrs["href"] for a in html.find_all("a", class_="social-button")}
    assert links == {
        "Add Google": "/account/sign-in-methods/add/google",
        "Add Apple": "/account/sign-in-methods/add/apple",
        "Add Facebook": "/account/sign-in-methods/add/facebook",
    }
    Identity.create(user=casey, provider="apple", subject="a-1", created_at=clock.now)
    html = parse(casey_browser.get(METHODS))
    assert [a.text for a in html.find_all("a", class_="social-button")] == [
        "Add Google",
        "Add Facebook",
    ]


def test_adding_an_identity_links_it_to_the_signed_in_account(casey_browser, casey, google):
    # Another address, unverified even: signing in to both proved them.
    google.person = Person(sub="g-9", email="casey.m@gmail.com", email_verified=False)
    path = "/account/sign-in-methods/add/google"

    came_back = round_trip(casey_browser, "google", path=path)

    assert came_back.status_code == 303
    assert came_back.headers["Location"] == METHODS
    identity = Identity.get()
    assert (identity.user_id, identity.email) == (casey.id, "casey.m@gmail.com")
    page = text_of(casey_browser.get(METHODS))
    assert "Google is added: you can sign in with it now." in page
    assert User.select().count() == 1
    assert signed_in_as(casey_browser) == casey  # still the same sign-in
    assert SignIn.select().count() == 1


def test_an_identity_of_another_account_is_not_added(casey_browser, casey, google, clock):
    dana = factories.make_user("dana@example.com", "Dana Lee")
    Identity.create(user=dana, provider="google", subject="g-9", created_at=clock.now)
    google.person = Person(sub="g-9", email="dana@example.com")

    refused = round_trip(casey_browser, "google", path="/account/sign-in-methods/add/google")

    assert refused.status_code == 409
    assert "already signs in to another Kairos account" in text_of(refused)
    assert Identity.get().user_id == dana.id


def test_adding_needs_a_signed_in_account(client):
    answer = client.get("/account/sign-in-methods/add/google")
    assert answer.status_code == 302
    assert "/account/sign-in" in answer.headers["Location"]


def test_the_link_mode_is_not_taken_over_by_a_later_sign_in(app, casey_browser, casey, google):
    """A link started, then the browser signed out: the callback does not add the identity
    to whoever is signed in now, nor sign anyone in."""
    asked = consent(start(casey_browser, "google", path="/account/sign-in-methods/add/google"))
    token = csrf_token(casey_browser.get(METHODS))
    assert casey_browser.post("/account/sign-out", data={"csrf_token": token}).status_code == 303
    answer = come_back(casey_browser, "google", asked)
    assert answer.status_code == 400
    assert Identity.select().count() == 0
    assert User.select().count() == 1
    assert signed_in_as(casey_browser) is None


def test_start_and_callback_are_rate_limited_per_address(client, google):
    allowed = social_limit()
    for _ in range(allowed):
        assert client.get("/sign-in/google").status_code == 302
    refused = client.get("/sign-in/google")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert come_back(client, "google", {"code": "x", "state": "y"}).status_code == 429


def social_limit() -> int:
    from services.ratelimits import LIMITS

    return LIMITS["social_sign_in_per_ip"].count


def test_providers_are_read_from_the_settings(app):
    settings = app.config["SETTINGS"]
    names = [p.name for p in social.configured(settings)]
    assert names == ["google", "apple", "facebook"]
    assert social.configured(replace(settings, google_client_secret=""))[0].name == "apple"


def test_staff_land_in_their_workspace(client, google, clinic, clock):
    Identity.create(user=clinic["owner"], provider="google", subject="g-owner")
    google.person = Person(sub="g-owner", email="owner@clinic.test")
    came_back = round_trip(client, "google")
    assert came_back.status_code == 303
    assert came_back.headers["Location"].startswith("/w/clinic")


def test_an_identity_of_a_deleted_account_signs_in_nobody_there(client, google, casey, clock):
    Identity.create(user=casey, provider="google", subject="g-7", created_at=clock.now)
    with db.atomic():
        anonymise(casey.id)
    google.person = Person(sub="g-7", email=CASEY)

    came_back = round_trip(client, "google")

    assert came_back.status_code == 303
    user = signed_in_as(client)
    assert user != casey
    assert user.email == CASEY
    assert Identity.get().user_id == user.id


@pytest.mark.parametrize("email", ["race@example.com", None])
def test_one_new_identity_back_twice_at_once_makes_one_account(app, clock, email):
    profile = social.Profile("google", "g-race", email, email is not None, "Race Person")
    together = threading.Barrier(4)

    def sign_in(_):
        with db.connection_context():
            together.wait()
            return social.sign_in(profile, clock.now).user.id

    with ThreadPoolExecutor(4) as pool:
        users = set(pool.map(sign_in, range(4)))

    assert len(users) == 1
    assert User.select().count() == 1
    assert Identity.select().count() == 1

"""Signing in with Google in a real browser, at phone and tablet sizes: "Continue with
Google" on the sign-in page → the stand-in's consent page → signed in, on the page
asked for; Account → Sign-in methods lists Google and offers Apple and Facebook; a
cancelled consent and an address Google does not vouch for each get a page that says
what to do. The server here has its own settings (the providers point at local
stand-ins), so it is a server of this module's own."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from models import Identity, User
from tests import factories
from tests.e2e.conftest import screenshot
from tests.e2e.test_accounts_e2e import check_page
from tests.server import gunicorn
from tests.standins.facebook import FacebookLogin
from tests.standins.oidc import APPLE_PATHS, GOOGLE_PATHS, OidcProvider, Person


@pytest.fixture(scope="module")
def providers():
    with (
        OidcProvider(GOOGLE_PATHS) as google,
        OidcProvider(APPLE_PATHS, names_in_token=False) as apple,
        FacebookLogin() as facebook,
    ):
        google.interactive = True
        yield google, apple, facebook


@pytest.fixture(scope="module")
def social_server(database_url, providers):
    google, apple, facebook = providers
    env = {
        "GOOGLE_CLIENT_ID": google.client_id,
        "GOOGLE_CLIENT_SECRET": google.client_secret,
        "GOOGLE_METADATA_URL": google.metadata_url,
        "APPLE_CLIENT_ID": apple.client_id,
        "APPLE_CLIENT_SECRET": apple.client_secret,
        "APPLE_METADATA_URL": apple.metadata_url,
        "FACEBOOK_CLIENT_ID": facebook.client_id,
        "FACEBOOK_CLIENT_SECRET": facebook.client_secret,
        "FACEBOOK_AUTHORIZE_URL": facebook.authorize_url,
        "FACEBOOK_TOKEN_URL": facebook.token_url,
        "FACEBOOK_GRAPH_URL": facebook.graph_url,
    }
    with gunicorn(database_url, workers=1, threads=4, env=env) as base:
        yield base


@pytest.fixture
def google(providers):
    standin = providers[0]
    standin.person, standin.refuse = Person(sub="g-e2e", email="jo.e2e@example.com"), False
    return standin


def test_continue_with_google_signs_up_and_in(screen, social_server, app, google):
    base = social_server
    screen.goto(f"{base}/account/sign-in?next=/account/profile")
    buttons = screen.locator(".sign-in-ways a")
    expect(buttons).to_have_text(
        ["Continue with Google", "Continue with Apple", "Continue with Facebook"]
    )
    for box in (buttons.nth(i).bounding_box() for i in range(3)):
        assert box["height"] >= 44
    check_page(screen)
    screenshot(screen, "social-sign-in")

    screen.get_by_role("link", name="Continue with Google").tap()
    screen.get_by_role("link", name="Continue as Jo Bloggs").tap()  # the stand-in's consent

    expect(screen).to_have_url(f"{base}/account/profile")
    expect(screen.get_by_text("Welcome, Jo Bloggs.")).to_be_visible()
    assert User.get(User.email == "jo.e2e@example.com").name == "Jo Bloggs"
    assert Identity.get().provider == "google"

    screen.goto(f"{base}/account/sign-in-methods")
    expect(screen.locator(".sign-in-method[data-kind=google]")).to_contain_text(
        "jo.e2e@example.com"
    )
    expect(screen.get_by_role("link", name="Add Apple")).to_be_visible()
    expect(screen.get_by_role("link", name="Add Facebook")).to_be_visible()
    check_page(screen)
    screenshot(screen, "social-sign-in-methods")


def test_a_cancelled_consent_and_an_unverified_address_say_what_to_do(
    screen, social_server, app, google
):
    base = social_server
    google.refuse = True
    screen.goto(f"{base}/account/sign-in")
    screen.get_by_role("link", name="Continue with Google").tap()
    screen.get_by_role("link", name=re.compile("Continue as")).tap()
    expect(screen.get_by_text("You cancelled signing in with Google.")).to_be_visible()
    check_page(screen)
    screenshot(screen, "social-cancelled")

    factories.make_user("casey.e2e@example.com", "Casey Morgan")
    google.refuse = False
    google.person = Person(sub="g-e2e-2", email="casey.e2e@example.com", email_verified=False)
    screen.get_by_role("link", name="Try Google again").tap()
    screen.get_by_role("link", name=re.compile("Continue as")).tap()
    expect(screen.get_by_role("heading", name="You already have an account")).to_be_visible()
    check_page(screen)
    screenshot(screen, "social-not-linked")
    screen.locator("#main").get_by_role("link", name="Sign in", exact=True).tap()
    expect(screen).to_have_url(re.compile(r"/account/sign-in\?next=/account/sign-in-methods$"))
    assert Identity.select().count() == 0

"""The URL map, walked: every route that changes something is guarded (a CSRF token on
the web, a bearer token on the API), and every route is either public for a stated
reason or has a row in an access matrix. A new route fails here until it has both."""

from __future__ import annotations

import importlib
import re

from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.integration.webpages import csrf_token

CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
FILLERS = {
    "slug": "clinic",
    "day": "2026-11-30",
    "action": "hours",
    "token": "x" * 43,
    "filename": "css/app.css",
    "kind": "google",
    "provider": "google",
}

# Routes anyone may use, and why; everything else must be in an access matrix.
PUBLIC = {
    "static": "the CSS, scripts and icons",
    "pwa.manifest": "the web app manifest",
    "pwa.business_manifest": "a business's web app manifest, linked from its public pages",
    "pwa.service_worker": "the service worker",
    "pwa.offline": "the page shown offline",
    "health.health": "the load balancer's probe",
    "health.ready": "a deploy's readiness check: says only whether the database and Redis answer",
    "metrics.metrics": "Prometheus' scrape: loopback or METRICS_TOKEN only, else 404"
    " (test_observability.py)",
    "public.home": "the front page",
    "privacy.page": "what is stored and why",
    "public.organisation": "a business's public booking page",
    "public.logo": "a business's logo on its public page",
    "booking.choose_provider": "the public booking journey",
    "booking.when": "the public booking journey",
    "booking.review": "the public booking journey (a name and email, or signing in, at the end)",
    "booking.confirm": "booking: a new customer with a name and email, else signed in",
    "booking.sign_in_sent": "after booking with an address that has an account: check your email",
    "account.sign_in": "signing in",
    "account.sign_up": "signing up",
    "account.check_email": "the 'check your email' page after asking for a link",
    "account.sign_up_code": "entering the code emailed at sign-up (the session holds which)",
    "account.resend_sign_up_code": "a new code for the sign-up the session holds",
    "account.forgot_password": "asking for a reset link",
    "account.reset_password": "the emailed reset link: the token is the proof",
    "account.magic_link": "asking for a sign-in link",
    "account.magic_sign_in": "the emailed sign-in link: the token is the proof",
    "account.confirm_email": "the emailed email-change link: the token is the proof",
    "business.sign_up": "a business signing up",
    "business.suggest_address": "a free booking page address for a business's name, as it"
    " is typed (booking pages are public)",
    "claims.claim": "the emailed link to add a desk booking to an account: the token is the "
    "proof, and adding it asks for a signed-in account",
    "workspace.join": "the emailed staff invitation: the token is the proof",
    "api.index": "the API's description",
    "api.organisation": "a business's public details",
    "api.services": "a business's public services",
    "api.slots": "a business's free times",
    "api.create_token": "signing in to the API with email and password, or a texted code",
    # Signing in with a texted code (issue 17): the session holds the number being proven.
    "phone.start": "signing in with a code texted to a phone: the number",
    "phone.code": "entering the texted code for the number the session holds",
    "phone.resend": "a new code for the number the session holds (limited per number and IP)",
    "phone.name": "a new number's name, once its code proved it (the session holds that)",
    "api.phone_code": "asking for a texted sign-in code: 202 {} for every number",
    "calendar.feed": "a private calendar feed: the token in the URL is the proof",
    "stripe_webhook.stripe_webhook": "Stripe's events: each is signed, and refused (400) "
    "unless the signature holds (test_payments_webhooks.py)",
    "social.start": "Continue with Google, Apple or Facebook: on to the provider's consent",
    "social.callback": "back from the provider: the state kept in the session is the proof",
    "social.apple_form_post": "Apple's cross-site POST back: only a 303 to social.callback",
    "passkeys.sign_in_options": "a challenge for signing in with a passkey (rate limited)",
    "passkeys.sign_in": "signing in with a passkey: its signature is the proof (test_passkeys.py)",
}

# Modules whose module-level tables are access matrices: each key names a route (a string
# starting with "/", alone or in a tuple, with "{names}" from the world) and, in a tuple,
# maybe its method; without one, tables named POST* are POSTs and the rest GETs.
MATRICES = (
    "test_calendar_feed",
    "test_customer_access",
    "test_workspace_access",
    "test_ws_audit",
    "test_ws_availability_access",
    "test_ws_calendars",
    "test_ws_customers",
    "test_ws_dashboard",
    "test_ws_payments",
    "test_ws_services",
    "test_ws_settings",
    "test_ws_setup",
    "test_ws_staff",
)
TABLES = ("MATRIX", "POSTS", "POST_MATRIX", "GET", "POST", "PAGES", "ACTIONS", "API")
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def concrete(rule) -> str:
    """A path for ``rule``: each id 1, each other part a plausible value."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        return "1" if name.endswith("_id") else FILLERS[name]

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", fill, rule.rule)


def routes(app, methods) -> list[tuple[str, str, str]]:
    """(method, path, endpoint) for every rule answering one of ``methods``."""
    return [
        (method, concrete(rule), rule.endpoint)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods & methods)
    ]


def matrix_rows():
    """(method, route) of every row of every access matrix."""
    for name in MATRICES:
        module = importlib.import_module(f"tests.integration.{name}")
        for table_name in TABLES:
            for key in getattr(module, table_name, None) or ():
                parts = key if isinstance(key, tuple) else (key,)
                default = "POST" if table_name.startswith(("POST", "ACTIONS")) else "GET"
                method = next((p for p in parts if p in METHODS), default)
                yield method, next(p for p in parts if isinstance(p, str) and p.startswith("/"))


# Web routes that change something without a CSRF token, and what protects them instead.
NO_CSRF = {
    "stripe_webhook.stripe_webhook": "Stripe signs each event; no cookie is read",
    "social.apple_form_post": "changes nothing: a 303 to the GET, where the state is checked",
}


def test_every_web_route_that_changes_something_needs_a_csrf_token(app, world, signed_in):
    found = [
        (m, path)
        for m, path, endpoint in routes(app, CHANGES)
        if not path.startswith("/api/") and endpoint not in NO_CSRF
    ]
    assert len(found) > 40  # the walk found the routes
    answers = {}
    for who in ("anonymous", "owner"):
        client = signed_in(world[who])
        client.get("/")  # a session, as a browser has
        for method, path in found:
            response = client.open(path, method=method, data={"name": "x"})
            answers[who, method, path] = (response.status_code, b"CSRF" in response.data)
    assert {key: got for key, got in answers.items() if got != (400, True)} == {}


def test_a_csrf_token_lets_the_request_through_to_the_view(app, world, signed_in):
    """So that the 400s above are the token's doing, not the route's."""
    owner = signed_in(world["owner"])
    token = csrf_token(owner.get("/"))
    response = owner.post(
        "/account/profile", data={"name": "Olive Owner"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 303


def test_every_api_route_that_changes_something_needs_a_bearer_token(app, world, signed_in):
    browser = signed_in(world["customer"])  # a session cookie is not a bearer token
    answers = {}
    for method, path, endpoint in routes(app, CHANGES):
        if not path.startswith("/api/") or endpoint in PUBLIC:
            continue
        for name, client in (("nobody", app.test_client()), ("cookie", browser)):
            response = client.open(path, method=method, json={})
            answers[name, method, path] = (response.status_code, response.json["error"])
    assert answers  # the walk found the routes
    assert {k: got for k, got in answers.items() if got != (401, "unauthorized")} == {}


def test_every_route_is_public_for_a_reason_or_in_an_access_matrix(app):
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, route in matrix_rows():
        path = re.sub(r"\{[^}]+\}", "1", route).split("?")[0]
        try:
            endpoint, _ = adapter.match(path, method=method)
        except (NotFound, MethodNotAllowed):  # a row showing that no route matches
            continue
        covered.add((method, endpoint))
    missing = sorted(
        (method, endpoint, path)
        for method, path, endpoint in routes(app, METHODS)
        if endpoint not in PUBLIC and (method, endpoint) not in covered
    )
    assert missing == []
    assert sorted(set(PUBLIC) - {rule.endpoint for rule in app.url_map.iter_rules()}) == []

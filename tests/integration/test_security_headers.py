"""The security headers on every response (views/security.py), and pages that run no
inline code, so the Content Security Policy can refuse all of it."""

from __future__ import annotations

import re

import pytest

from app import create_app
from config import Settings
from tests.integration.webpages import parse

HTMX = {"HX-Request": "true"}
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def assert_secure_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no inline code, no eval
    assert directives["style-src-elem"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = response.headers["Permissions-Policy"]
    assert "camera=()" in permissions
    assert "geolocation=()" in permissions
    assert "notifications" not in permissions  # push reminders still work
    assert "push" not in permissions


def test_a_public_page_has_the_headers_and_may_be_cached(client, clinic):
    response = client.get("/clinic")
    assert response.status_code == 200
    assert_secure_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert "Strict-Transport-Security" not in response.headers  # not in production


def test_a_signed_in_page_is_never_stored(signed_in, clinic):
    response = signed_in(clinic["customer"]).get("/appointments")
    assert response.status_code == 200
    assert_secure_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_signed_in_public_page_is_never_stored_either(signed_in, clinic):
    # It shows the person's name and links in the header.
    response = signed_in(clinic["customer"]).get("/clinic")
    assert response.headers["Cache-Control"] == "no-store"


def test_api_responses_have_the_headers_and_are_never_stored(customer_api, anonymous_api, clinic):
    mine = customer_api.get("/api/v1/bookings")
    assert mine.status_code == 200
    assert_secure_headers(mine)
    assert mine.headers["Cache-Control"] == "no-store"
    refused = anonymous_api.get("/api/v1/bookings")
    assert refused.status_code == 401
    assert_secure_headers(refused)


def test_a_new_api_token_is_never_stored(anonymous_api, clinic):
    from tests import factories

    body = {"email": "casey@example.com", "password": factories.PASSWORD}
    response = anonymous_api.post("/api/v1/tokens", json=body)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_own_caching(signed_in, clinic):
    response = signed_in(clinic["customer"]).get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_service_worker_and_manifest_are_revalidated_not_refused(signed_in, clinic):
    client = signed_in(clinic["customer"])
    for path in ("/sw.js", "/manifest.webmanifest"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"
        assert_secure_headers(response)


def test_the_schedule_keeps_its_etag_polling(signed_in, world):
    ana = signed_in(world["provider"])
    first = ana.get("/w/clinic", headers=HTMX)
    assert first.headers["Cache-Control"] == "no-cache, private"
    assert_secure_headers(first)
    again = ana.get("/w/clinic", headers=HTMX | {"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == "no-cache, private"


def test_a_view_that_sets_a_header_keeps_it(client, clinic):
    # A page with a token in its address sends no referrer at all.
    response = client.get("/account/reset/not-a-real-token")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_in_production(app, database_url):
    production = create_app(
        Settings(database_url=database_url, secret_key="prod-secret", env="production"),
        TESTING=True,
    )
    response = production.test_client().get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    for env in ("development", "testing"):
        other = create_app(Settings(database_url=database_url, secret_key="x", env=env))
        assert "Strict-Transport-Security" not in other.test_client().get("/").headers


def _pages(app) -> list[str]:
    """Every GET page with no parameter but the business's slug, for the clinic."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static" and set(rule.arguments) <= {"slug"}:
            urls.append(rule.build({"slug": "clinic"} if rule.arguments else {})[1])
    return sorted(set(urls))


def assert_no_inline_code(html: str, url: str) -> None:
    page = parse(html)
    for script in page.find_all("script"):
        assert script.attrs.get("src"), f"inline <script> on {url}"
    assert not INLINE_HANDLER.search(html), f"inline event handler on {url}"
    assert "javascript:" not in html.lower(), f"javascript: URL on {url}"


@pytest.mark.parametrize("who", [None, "customer", "owner", "provider"])
def test_no_page_runs_inline_code(app, signed_in, world, clinic, who):
    client = signed_in(world[who] if who else None)
    service, booking = clinic["assessment"].id, world["ana's booking"]
    seen = 0
    more = [
        f"/clinic/book/{service}",
        f"/clinic/book/{service}/when?date=2026-11-30",
        f"/appointments/{booking}",
        f"/w/clinic/bookings/{booking}",
        "/w/clinic/week?date=2026-11-30",
        "/w/clinic?date=2026-11-30",
    ]
    for url in [*_pages(app), *more]:
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            assert_secure_headers(response)
            assert_no_inline_code(response.get_data(as_text=True), url)
            seen += 1
    assert seen >= 10

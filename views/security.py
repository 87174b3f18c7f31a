"""The security headers every response carries: a Content Security Policy that lets
only the site's own files run, no framing, no sniffing, a modest referrer, and no
storing of signed-in pages in any cache.

A view that sets one of these headers itself keeps its own (the logo's sandboxing
CSP, a token page's ``no-referrer``, the schedule's ``no-cache`` for its ETag polling);
this hook only fills in what is missing. A dozen lines, so no library for it: Flask-Talisman
would also redirect to HTTPS and rewrite cookie flags, which app.py already decides."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        # Scripts: only files from static/ (and the service worker); no inline code, no eval.
        "script-src 'self'",
        # Stylesheets: only static/css. The schedule grid places each booking with a
        # style attribute (top and height in %, from minutes), which only
        # 'unsafe-inline' allows; style-src-elem (CSP 3) still refuses inline <style>
        # elements and foreign sheets, so only the attributes are let through.
        "style-src 'self' 'unsafe-inline'",
        "style-src-elem 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers without CSP 2
    "Referrer-Policy": "strict-origin-when-cross-origin",
    # Nothing here uses these; notifications and push stay allowed.
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    app.after_request(security_headers)


def security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["SETTINGS"].env == "production":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if "Cache-Control" not in response.headers and _personal():
        response.headers["Cache-Control"] = "no-store"
    return response


def _personal() -> bool:
    """Whether the response is for someone in particular: a signed-in page, or the API
    (tokens, bookings). Static files are the same for everyone, and are not asked about
    the user (that would load them from the database)."""
    if request.endpoint == "static":
        return False
    if request.blueprint == "api" or g.get("api_user") is not None:
        return True
    return current_user.is_authenticated

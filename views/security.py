"""The security headers every response carries: a Content Security Policy that lets
only the site's own files run, no framing, no sniffing, a modest referrer, and no
storing of signed-in pages in any cache.

A view that sets one of these headers itself keeps its own (the logo's sandboxing
CSP, a token page's ``no-referrer``, the schedule's ``no-cache`` for its ETag polling);
this hook only fills in what is missing. A dozen lines, so no library for it: Flask-Talisman
would also redirect to HTTPS and rewrite cookie flags, which app.py already decides."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from flask_login import current_user

# Each directive and its sources; the payment page adds Stripe's (allow_stripe below).
DIRECTIVES = {
    "default-src": ("'self'",),
    # Scripts: only files from static/ (and the service worker); no inline code, no eval.
    "script-src": ("'self'",),
    # Stylesheets: only static/css. The schedule grid places each booking with a
    # style attribute (top and height in %, from minutes), which only
    # 'unsafe-inline' allows; style-src-elem (CSP 3) still refuses inline <style>
    # elements and foreign sheets, so only the attributes are let through.
    "style-src": ("'self'", "'unsafe-inline'"),
    "style-src-elem": ("'self'",),
    "img-src": ("'self'",),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "frame-src": ("'self'",),
    "manifest-src": ("'self'",),
    "worker-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}


def content_security_policy(extra: dict[str, tuple[str, ...]] | None = None) -> str:
    """The policy, with ``extra`` sources added to some directives."""
    extra = extra or {}
    return "; ".join(
        " ".join((name, *sources, *extra.get(name, ()))) for name, sources in DIRECTIVES.items()
    )


CONTENT_SECURITY_POLICY = content_security_policy()
# Nothing here uses these; notifications and push stay allowed. The payment page lets
# Stripe's frames ask for a wallet payment (allow_stripe).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers without CSP 2
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
# Stripe.js opens its 3-D Secure pages in frames from here; a stand-in (localstripe)
# shows its own, so this is added only for Stripe's own Stripe.js.
STRIPE_JS_ORIGIN = "https://js.stripe.com"
STRIPE_3DS_FRAMES = "https://hooks.stripe.com"


def init_app(app: Flask) -> None:
    app.after_request(security_headers)


def security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    settings = current_app.config["SETTINGS"]
    if settings.env == "production" and settings.https_only:
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


def allow_stripe(response: Response, js_url: str, api_base: str) -> Response:
    """The payment page only: Stripe.js may load from ``js_url``'s origin and open its
    frames there (the card field, 3-D Secure), the page may call Stripe's API at
    ``api_base`` (localstripe's Stripe.js calls the origin it came from), and Stripe's
    frames may ask for a wallet payment (Apple Pay, Google Pay). Every other page keeps
    the strict policy."""
    js, api = origin(js_url), origin(api_base)
    frames = (js, STRIPE_3DS_FRAMES) if js == STRIPE_JS_ORIGIN else (js,)
    extra = {"script-src": (js,), "frame-src": frames, "connect-src": (api,)}
    response.headers["Content-Security-Policy"] = content_security_policy(extra)
    response.headers["Permissions-Policy"] = PERMISSIONS_POLICY.replace(
        "payment=()", f'payment=(self "{js}")'
    )
    return response


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"

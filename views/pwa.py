"""The installable app: the web app manifest, the service worker at the site root (so its
scope is the whole site) and the page it shows when the network is gone."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_login import current_user

from config import ROOT
from models import Organisation
from services.booking import catalogue

bp = Blueprint("pwa", __name__)

MANIFEST = ROOT / "manifest.webmanifest"
# Sent with every HTML page: who is signed in, as an opaque marker. The service worker
# wipes its saved private pages as soon as the marker changes.
USER_HEADER = "X-Kairos-User"
# What the offline page needs; the worker fetches these into its static cache on install.
OFFLINE_ASSETS = (
    "css/app.css",
    "vendor/htmx.min.js",
    "js/app.js",
    "js/pwa.js",
    "icons/favicon-32.png",
    "icons/apple-touch-icon.png",
)
# The templates that shape the pre-cached offline page: changing one renews the cache too.
OFFLINE_TEMPLATES = (
    "base.html",
    "pwa/offline.html",
    "partials/_pwa_head.html",
    "partials/_pwa_body.html",
    "partials/_bottom_nav.html",
)
VERSION_KEY = "kairos.pwa.cache_version"


def asset_version(paths: Iterable[Path]) -> str:
    """A short hash of the files under ``paths`` (names and contents): it names the
    worker's static cache, so any change to a file gives the worker a fresh cache."""
    digest = hashlib.sha256()
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.exists() and not path.name.startswith("."):
                name = path.relative_to(root) if root.is_dir() else Path(path.name)
                digest.update(f"{name.as_posix()}\0{path.stat().st_size}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cache_version(app: Flask) -> str:
    templates = Path(app.root_path) / (app.template_folder or "templates")
    sources = [Path(app.static_folder or ROOT / "static")]
    sources += [templates / name for name in OFFLINE_TEMPLATES]
    return asset_version(sources)


@bp.record_once
def _compute_version_at_start(state: BlueprintSetupState) -> None:
    state.app.extensions[VERSION_KEY] = cache_version(state.app)


def user_marker(user_id: str | None) -> str:
    """An opaque, stable marker for the signed-in user ('' for nobody)."""
    if not user_id:
        return ""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"pwa-user:{user_id}".encode(), hashlib.sha256).hexdigest()[:20]


@bp.after_app_request
def mark_signed_in_user(response: Response) -> Response:
    if response.mimetype == "text/html":
        # The person, not the sign-in (the session carries a sign-in's key, new at every
        # sign-in, and perhaps one that has ended). Pages have asked who is signed in
        # already (base.html), so this loads nobody again.
        signed_in = current_user.is_authenticated
        response.headers[USER_HEADER] = user_marker(str(current_user.id) if signed_in else None)
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    response = make_response(MANIFEST.read_bytes())
    response.mimetype = "application/manifest+json"
    response.cache_control.no_cache = True
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/<slug>/manifest.webmanifest")
def business_manifest(slug: str):
    """The manifest a business's pages link: installed from there, the app is named
    after the business and opens on its page; the rest of the site stays in scope."""
    org = catalogue.organisation(slug)
    body = json.dumps(manifest_for(org), ensure_ascii=False, separators=(",", ":"))
    response = make_response(body)
    response.mimetype = "application/manifest+json"
    response.cache_control.no_cache = True
    response.add_etag()
    return response.make_conditional(request)


SHORT_NAME = 12  # characters a home screen shows under an icon
SMALLEST_ICON = 144  # pixels: a smaller or oblong logo alone would not make an app icon


def manifest_for(org: Organisation) -> dict:
    """The site's manifest, as ``org``'s app: its name, its page, its logo."""
    shown = json.loads(MANIFEST.read_bytes())
    home = url_for("public.organisation", slug=org.slug)
    short = org.name if len(org.name) <= SHORT_NAME else org.name[: SHORT_NAME - 1].rstrip() + "…"
    shown |= {
        "id": home,
        "name": f"{org.name} — book",
        "short_name": short,
        "description": f"Book, move and cancel appointments with {org.name}.",
        "start_url": home,
        "scope": "/",
    }
    if org.logo_version:
        logo = {
            "src": url_for("public.logo", slug=org.slug, v=org.logo_version),
            "sizes": f"{org.logo_width}x{org.logo_height}",
            "type": org.logo_type,
            "purpose": "any",
        }
        # Browsers install with a square PNG or WebP icon of 144 px or more; a logo that
        # is not one still heads the list, with Kairos's icons after it to install with.
        usable = org.logo_type in ("image/png", "image/webp")
        square = org.logo_width == org.logo_height >= SMALLEST_ICON
        shown["icons"] = [logo] if usable and square else [logo, *shown["icons"]]
    return shown


@bp.get("/sw.js")
def service_worker():
    if current_app.debug or current_app.config["SETTINGS"].is_development:
        # Files change under a running development server; browsers fetch this script on
        # every navigation, so production hashes them once, at start.
        current_app.extensions[VERSION_KEY] = cache_version(current_app)
    static = Path(current_app.static_folder or ROOT / "static")
    precache = [url_for("pwa.offline")] + [
        url_for("static", filename=name) for name in OFFLINE_ASSETS if (static / name).is_file()
    ]
    script = render_template(
        "pwa/sw.js",
        version=current_app.extensions[VERSION_KEY],
        offline_url=url_for("pwa.offline"),
        precache=precache,
        user_header=USER_HEADER,
    )
    response = make_response(script)
    response.mimetype = "application/javascript"
    response.headers["Service-Worker-Allowed"] = "/"
    response.cache_control.no_cache = True
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/offline")
def offline():
    return render_template("pwa/offline.html")

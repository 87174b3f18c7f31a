"""The installable app: manifest, icons, the service worker's headers and cache version,
the offline page, and the marker that tells the worker who is signed in."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from config import ROOT
from scripts import make_icons
from views import pwa

STATIC = ROOT / "static"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, which always comes first."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    return struct.unpack(">II", data[16:24])


def png_pixels(data: bytes) -> bytes:
    """The raw rows of a PNG written by scripts/make_icons.py (one IDAT, filter 0)."""
    start = data.index(b"IDAT") + 4
    (length,) = struct.unpack(">I", data[start - 8 : start - 4])
    return zlib.decompress(data[start : start + length])


def test_manifest_is_served_as_a_web_app_manifest(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get("/manifest.webmanifest", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    manifest = json.loads(response.data)
    assert manifest == json.loads((ROOT / "manifest.webmanifest").read_text())
    assert manifest["name"] == "Kairos"
    assert manifest["short_name"] == "Kairos"
    assert manifest["description"]
    assert (manifest["start_url"], manifest["scope"]) == ("/", "/")
    assert manifest["display"] == "standalone"
    css = (STATIC / "css" / "app.css").read_text()
    assert manifest["theme_color"] == "#0b6e69"
    assert "--accent: #0b6e69" in css
    assert manifest["background_color"] == "#f7f7f4"
    assert "--bg: #f7f7f4" in css


def test_manifest_icons_are_pngs_of_their_declared_sizes(client):
    icons = json.loads(client.get("/manifest.webmanifest").data)["icons"]
    declared = {(icon["sizes"], icon["purpose"]) for icon in icons}
    for size in ("192x192", "512x512"):
        assert {(size, "any"), (size, "maskable")} <= declared
    for icon in icons:
        response = client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        assert response.mimetype == icon["type"] == "image/png"
        width, height = png_size(response.data)
        assert f"{width}x{height}" == icon["sizes"]
        response.close()


def test_pages_link_the_manifest_icons_and_ios_tags(client):
    html = client.get("/offline").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert '<meta name="theme-color" content="#0b6e69"' in html
    assert '<meta name="apple-mobile-web-app-capable" content="yes">' in html
    assert '<meta name="apple-mobile-web-app-status-bar-style" content="default">' in html
    assert '<meta name="apple-mobile-web-app-title" content="Kairos">' in html
    touch_icon = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', html)[1]
    assert png_size((ROOT / touch_icon.lstrip("/")).read_bytes()) == (180, 180)
    assert '<script src="/static/js/pwa.js" defer></script>' in html


def test_icons_are_the_ones_the_script_draws():
    for icon in make_icons.ICON_SET:
        if icon.size <= 192:  # the big ones take seconds in pure Python; same code path
            drawn = make_icons.render(icon)
            assert png_pixels((STATIC / "icons" / icon.name).read_bytes()) == drawn, icon.name


def test_service_worker_is_served_from_the_root_and_never_cached(app, client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    version = app.extensions[pwa.VERSION_KEY]
    assert version == pwa.cache_version(app)
    assert f'const STATIC_CACHE = "kairos-static-" + "{version}";' in script
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", script)[1])
    assert precache[0] == "/offline"
    assert {"/static/css/app.css", "/static/js/pwa.js"} <= set(precache)
    # Browsers ask for it on every navigation: unchanged, it costs a 304.
    etag = response.headers["ETag"]
    assert client.get("/sw.js", headers={"If-None-Match": etag}).status_code == 304


def test_cache_version_changes_when_a_static_file_changes(tmp_path):
    (tmp_path / "css").mkdir()
    style = tmp_path / "css" / "app.css"
    style.write_text("body { color: black; }")
    first = pwa.asset_version([tmp_path])
    assert pwa.asset_version([tmp_path]) == first  # stable for the same files
    style.write_text("body { color: navy; }")
    edited = pwa.asset_version([tmp_path])
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "new.js").write_text("")
    added = pwa.asset_version([tmp_path])
    style.rename(tmp_path / "css" / "site.css")
    renamed = pwa.asset_version([tmp_path])
    assert len({first, edited, added, renamed}) == 4


def test_served_worker_names_a_new_cache_after_a_static_change(app, client, tmp_path):
    shutil.copytree(STATIC, tmp_path / "static", ignore=shutil.ignore_patterns("icons"))
    app.static_folder = str(tmp_path / "static")
    # In development the version is recomputed on every request (in production, at start).
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(env="development")

    def served_version() -> str:
        return re.search(r'"kairos-static-" \+ "(\w+)"', client.get("/sw.js").get_data(True))[1]

    before = served_version()
    assert served_version() == before
    with (tmp_path / "static" / "css" / "app.css").open("a") as css:
        css.write("\n.changed { color: red; }\n")
    assert served_version() != before


@pytest.mark.skipif(not shutil.which("node"), reason="node is installed with the front end")
def test_worker_and_page_script_are_valid_javascript(client, tmp_path):
    worker = tmp_path / "sw.js"
    worker.write_text(client.get("/sw.js").get_data(as_text=True))
    for script in (worker, STATIC / "js" / "pwa.js"):
        checked = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


def test_offline_page_is_a_styled_page_for_nobody_in_particular(client):
    response = client.get("/offline")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>You're offline</h1>" in html
    assert 'class="button" href="">Try again</a>' in html
    assert '<meta name="robots" content="noindex">' in html
    assert "/static/css/app.css" in html
    assert response.headers[pwa.USER_HEADER] == ""


def test_html_pages_tell_the_worker_who_is_signed_in(signed_in, clinic):
    def marker_for(user) -> str:
        return signed_in(user).get("/offline").headers[pwa.USER_HEADER]

    casey, ana = marker_for(clinic["customer"]), marker_for(clinic["ana_user"])
    assert marker_for(None) == ""
    assert casey != ana
    assert marker_for(clinic["customer"]) == casey  # stable across sessions
    assert re.fullmatch(r"[0-9a-f]{20}", casey)  # opaque: an HMAC, not the id


def test_non_html_responses_carry_no_user_marker(client):
    for path in ("/sw.js", "/manifest.webmanifest", "/health", "/static/css/app.css"):
        response = client.get(path)
        assert pwa.USER_HEADER not in response.headers, path
        response.close()


def test_the_script_writes_valid_pngs(tmp_path):
    icon = make_icons.Icon("tiny.png", 8, rounded=True, glyph_scale=1.0)
    data = make_icons.png(icon.size, icon.size, make_icons.render(icon))
    assert png_size(data) == (8, 8)
    assert len(png_pixels(data)) == 8 * (1 + 8 * 4)
    assert Path(make_icons.ICONS) == STATIC / "icons"

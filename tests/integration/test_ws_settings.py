"""The owner's organisation settings, the logo upload, and the booking page showing them."""

from __future__ import annotations

import html
import io
import mimetypes
import struct
import zlib
from datetime import time

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from models import Booking, Organisation, WeeklyHours
from tests import factories
from tests.integration.webpages import csrf_token, parse
from tests.integration.workspace import MON_10, expect

PATH = "/w/clinic/settings"
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
GOOD = {
    "business_name": "Clinic  North",
    "timezone": "America/New_York",
    "currency": "USD",
    "booking_intro": "Welcome!\r\nFree parking behind the building.\r\n\r\nBring your referral.",
}


def png(width: int = 3, height: int = 2) -> bytes:
    """A real, decodable PNG of ``width`` × ``height`` grey pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg_header(width: int, height: int) -> bytes:
    """The start of a baseline JPEG: SOI, an APP0 segment, then the frame with its size."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def webp_lossless_header(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    body = b"VP8L" + struct.pack("<I", 5) + b"\x2f" + struct.pack("<I", bits)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def with_logo(world, data: bytes = b"", content_type: str = "image/png") -> None:
    factories.give_logo("clinic", data or png(), content_type)


# Who may ------------------------------------------------------------------------------

MATRIX = {
    ("GET", PATH, None): (302, 403, 403, 200, 403),
    ("POST", PATH, "good"): (302, 403, 403, 303, 403),
    ("GET", "/w/elsewhere/settings", None): (302, 403, 403, 403, 200),
    ("POST", "/w/elsewhere/settings", "good"): (302, 403, 403, 403, 303),
    ("GET", "/w/nowhere/settings", None): (302, 404, 404, 404, 404),
}


@pytest.mark.parametrize(("method", "route", "form"), MATRIX)
def test_access_matrix(signed_in, world, method, route, form):
    data = dict(GOOD) if form == "good" else None
    expect(signed_in, world, route, MATRIX[method, route, form], method=method, data=data)


def test_the_logo_is_public_when_there_is_one(signed_in, world):
    expect(signed_in, world, "/clinic/logo", (404, 404, 404, 404, 404))
    with_logo(world)
    expect(signed_in, world, "/clinic/logo", (200, 200, 200, 200, 200))
    expect(signed_in, world, "/elsewhere/logo", (404, 404, 404, 404, 404))
    expect(signed_in, world, "/nowhere/logo", (404, 404, 404, 404, 404))


def test_a_provider_cannot_change_the_settings(signed_in, world):
    ana = signed_in(world["provider"])
    token = csrf_token(ana.get("/"))
    response = ana.post(PATH, data=GOOD, headers={"X-CSRFToken": token})
    assert response.status_code == 403
    assert Organisation.get(slug="clinic").name == "Clinic"


# Helpers -----------------------------------------------------------------------------


def submit(client, data: dict, *, headers=None, logo: tuple[bytes, str] | None = None):
    """POST the form as a browser does: multipart, the file typed by its name's extension.
    (Encoded here in memory: the test client would spool a big body to a file it leaves
    open.)"""
    token = csrf_token(client.get(PATH))
    form = {"csrf_token": token, **data}
    if logo is not None:
        claimed = mimetypes.guess_type(logo[1])[0] or "application/octet-stream"
        form["logo"] = FileStorage(io.BytesIO(logo[0]), filename=logo[1], content_type=claimed)
    boundary, body = encode_multipart(form)
    kind = f"multipart/form-data; boundary={boundary}"
    return client.post(PATH, data=body, content_type=kind, headers=headers)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def clinic() -> Organisation:
    return Organisation.get(slug="clinic")


# The form ----------------------------------------------------------------------------


def test_the_form_shows_the_current_settings_and_what_changes_mean(signed_in, world):
    Organisation.update(booking_intro="Hello there").where(Organisation.slug == "clinic").execute()
    page = parse(signed_in(world["owner"]).get(PATH))
    form = page.one("form", class_="set-form")
    assert form.attrs["enctype"] == "multipart/form-data"
    assert form.attrs["hx-post"] == PATH
    assert page.one("input", name="business_name").attrs["value"] == "Clinic"
    chosen = page.one("select", name="timezone").find_all("option", selected="")
    assert {o.attrs["value"] for o in chosen} == {"Europe/London"}  # listed among common too
    assert page.one("select", name="currency").one("option", selected="").text == "GBP"
    assert "Hello there" in page.one("textarea", name="booking_intro").text
    logo = page.one("input", type="file")
    assert logo.attrs["accept"] == "image/png,image/jpeg,image/webp"
    assert "09:00 stays 09:00" in page.text
    assert "bookings already made keep their currency" in page.text
    assert page.one("a", aria_current="page").text == "Settings"
    assert not page.find_all("input", name="remove_logo")  # no logo yet


def test_saving_changes_the_settings_and_keeps_hours_and_bookings(signed_in, world):
    booked = Booking.get_by_id(world["ana's booking"])
    hours_before = [(h.weekday, h.start_time, h.end_time) for h in WeeklyHours.select()]
    client = signed_in(world["owner"])

    response = submit(client, GOOD)
    assert response.status_code == 303
    assert response.headers["Location"] == PATH
    org = clinic()
    assert (org.name, org.timezone, org.currency) == ("Clinic North", "America/New_York", "USD")
    assert org.booking_intro == (
        "Welcome!\nFree parking behind the building.\n\nBring your referral."
    )
    # Weekly hours keep their wall-clock times, bookings their instant and currency.
    assert [(h.weekday, h.start_time, h.end_time) for h in WeeklyHours.select()] == hours_before
    assert time(9) in {h.start_time for h in WeeklyHours.select()}
    kept = Booking.get_by_id(booked.id)
    assert (kept.start_at, kept.currency, kept.price_cents) == (MON_10, "GBP", 6500)
    assert "Settings saved." in text(client.get(PATH))


def test_htmx_save_redirects_the_whole_page(signed_in, world):
    response = submit(signed_in(world["owner"]), GOOD, headers=PARTIAL)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == PATH


BAD = [
    ("business_name", "   ", "Enter your business's name."),
    ("business_name", "x" * 201, "Use at most 200 characters."),
    ("timezone", "Mars/Olympus_Mons", "Choose a time zone from the list."),
    ("timezone", "localtime", "Choose a time zone from the list."),  # the server's own
    ("timezone", "Factory", "Choose a time zone from the list."),  # no zone at all
    ("currency", "XYZ", "Choose a currency from the list."),
    ("booking_intro", "x" * 1001, "Use at most 1,000 characters (this has 1,001)."),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD)
def test_bad_input_shows_the_problem_and_keeps_what_was_typed(
    signed_in, world, field, value, message
):
    response = submit(signed_in(world["owner"]), GOOD | {field: value})
    assert response.status_code == 422
    page = parse(response)
    assert message in page.one("p", class_="error").text
    assert page.one(None, id=field).attrs["aria-invalid"] == "true"
    if field != "business_name":
        assert page.one("input", name="business_name").attrs["value"] == "Clinic  North"
    if field != "booking_intro":
        assert "Free parking" in page.one("textarea", name="booking_intro").text
    if field != "currency":
        assert page.one("select", name="currency").one("option", selected="").text == "USD"
    org = clinic()
    assert (org.name, org.timezone, org.currency, org.booking_intro) == (
        "Clinic",
        "Europe/London",
        "GBP",
        "",
    )


def test_intro_of_exactly_the_limit_is_fine_and_control_characters_are_dropped(signed_in, world):
    intro = "a\x00b" + "c" * 998
    assert submit(signed_in(world["owner"]), GOOD | {"booking_intro": intro}).status_code == 303
    assert clinic().booking_intro == "ab" + "c" * 998


def test_htmx_gets_just_the_form_with_the_errors(signed_in, world):
    response = submit(signed_in(world["owner"]), GOOD | {"currency": "ZZZ"}, headers=PARTIAL)
    assert response.status_code == 422
    body = text(response)
    assert body.lstrip().startswith("<form")
    assert "<html" not in body
    assert "Choose a currency from the list." in body


# The logo ----------------------------------------------------------------------------


def test_a_png_logo_is_kept_and_served_from_the_booking_page(signed_in, world):
    client = signed_in(world["owner"])
    image = png(300, 100)
    response = submit(client, GOOD, logo=(image, "my logo.png"))
    assert response.status_code == 303
    org = clinic()
    assert (bytes(org.logo), org.logo_type) == (image, "image/png")

    public = parse(client.get("/clinic"))
    img = public.one("div", class_="org-logo").one("img")
    assert (img.attrs["width"], img.attrs["height"]) == ("192", "64")  # fitted into 240 × 64
    assert img.attrs["alt"] == ""  # the heading next to it says the name
    served = client.get(img.attrs["src"])
    assert served.status_code == 200
    assert served.data == image
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in served.headers["Cache-Control"]
    assert "max-age=31536000" in served.headers["Cache-Control"]

    plain = client.get("/clinic/logo")
    assert "no-cache" in plain.headers["Cache-Control"]
    etag = plain.headers["ETag"]
    assert etag.strip('"') in img.attrs["src"]
    again = client.get("/clinic/logo", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_the_settings_page_shows_the_logo_and_can_remove_it(signed_in, world):
    with_logo(world, png(10, 40))
    client = signed_in(world["owner"])
    page = parse(client.get(PATH))
    img = page.one("div", class_="set-logo").one("img")
    assert (img.attrs["width"], img.attrs["height"]) == ("10", "40")  # never enlarged
    assert page.one("input", name="remove_logo").attrs["type"] == "checkbox"

    assert submit(client, GOOD | {"remove_logo": "y"}).status_code == 303
    assert clinic().logo is None
    assert clinic().logo_type is None
    assert client.get("/clinic/logo").status_code == 404
    assert "org-logo" not in text(client.get("/clinic"))


def test_saving_without_choosing_a_file_keeps_the_logo(signed_in, world):
    with_logo(world)
    assert submit(signed_in(world["owner"]), GOOD, logo=(b"", "")).status_code == 303
    assert bytes(clinic().logo) == png()


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (jpeg_header(640, 480), "image/jpeg"),
        (webp_lossless_header(200, 50), "image/webp"),
    ],
)
def test_jpeg_and_webp_are_recognised_by_their_contents(signed_in, world, data, content_type):
    # The name says nothing: the contents decide.
    response = submit(signed_in(world["owner"]), GOOD, logo=(data, "logo.png"))
    assert response.status_code == 303
    assert clinic().logo_type == content_type


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
REFUSED = [
    (b"this is not a picture\n", "logo.png", "not an image we can use"),
    (SVG, "logo.svg", "not an image we can use"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 4, "cut.png", "not an image we can use"),
    (png()[:20], "truncated.png", "not an image we can use"),
    (png(0, 0), "empty-picture.png", "That image's size can't be read."),
    (png() + b"\x00" * (256 * 1024), "huge.png", "use an image of at most 256 KB"),
]


@pytest.mark.parametrize(("data", "name", "message"), REFUSED, ids=[r[1] for r in REFUSED])
def test_anything_but_a_small_png_jpeg_or_webp_is_refused(signed_in, world, data, name, message):
    with_logo(world)
    response = submit(signed_in(world["owner"]), GOOD, logo=(data, name))
    assert response.status_code == 422
    page = parse(response)
    assert message in page.one("p", id="logo-error").text
    field = page.one("input", type="file")
    assert field.attrs["aria-invalid"] == "true"
    assert "hx-preserve" not in field.attrs  # the refused file is let go
    assert page.one("input", name="business_name").attrs["value"] == "Clinic  North"
    org = clinic()
    assert (bytes(org.logo), org.logo_type, org.name) == (png(), "image/png", "Clinic")


def test_a_good_logo_with_a_problem_elsewhere_saves_nothing_and_is_kept_selected(signed_in, world):
    response = submit(
        signed_in(world["owner"]), GOOD | {"business_name": ""}, logo=(png(), "l.png")
    )
    assert response.status_code == 422
    field = parse(response).one("input", type="file")
    assert "hx-preserve" in field.attrs
    assert field.attrs["id"] == "logo"
    assert clinic().logo is None


def test_an_empty_file_is_refused(signed_in, world):
    response = submit(signed_in(world["owner"]), GOOD, logo=(b"", "nothing.png"))
    assert response.status_code == 422
    assert "That file is empty." in text(response)


# The booking page --------------------------------------------------------------------


def test_the_intro_is_plain_text_with_its_line_breaks(signed_in, world):
    intro = "<b>Welcome</b> & <script>alert(1)</script>\nSecond line\n\nNew paragraph"
    Organisation.update(booking_intro=intro).where(Organisation.slug == "clinic").execute()
    response = signed_in(None).get("/clinic")
    body = response.get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert "<b>Welcome" not in body
    assert "&lt;b&gt;Welcome&lt;/b&gt; &amp; &lt;script&gt;" in body
    paragraphs = parse(response).find_all("p", class_="org-intro")
    assert len(paragraphs) == 2
    assert "<br>" in body.split('class="org-intro">', 1)[1].split("</p>", 1)[0]
    assert paragraphs[1].text == "New paragraph"


def test_without_intro_or_logo_the_page_shows_neither(signed_in, world):
    body = signed_in(None).get("/clinic").get_data(as_text=True)
    assert "org-intro" not in body
    assert "org-logo" not in body


def test_an_upload_far_too_big_is_refused_before_it_is_read(signed_in, world):
    owner = signed_in(world["owner"])
    body = b"x" * (3 * 1024 * 1024)
    response = owner.post(
        "/w/clinic/settings",
        data=body,
        content_type="multipart/form-data; boundary=xyz",
        headers={"X-CSRFToken": csrf_token(owner.get("/w/clinic/settings"))},
    )
    assert response.status_code == 413
    assert "<html" in response.get_data(as_text=True)  # the styled error page

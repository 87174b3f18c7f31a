"""The workspace's customers: access, the list and its search, a record, notes, CSV."""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime, timedelta

import pytest

from models import Booking, Note, User
from tests import factories
from tests.integration.webpages import csrf_token, parse
from tests.integration.workspace import expect

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}

MATRIX = {
    # route: (anonymous, customer, provider (Ana), owner, owner of another business)
    "/w/clinic/customers": (302, 403, 200, 200, 403),
    "/w/clinic/customers?q=sam&shown=50": (302, 403, 200, 200, 403),
    "/w/clinic/customers/{ana's customer}": (302, 403, 200, 200, 403),
    "/w/clinic/customers/{tom's customer}": (302, 403, 404, 200, 403),  # Ana hasn't seen them
    "/w/clinic/customers/{other customer}": (302, 403, 404, 404, 403),  # another org's
    "/w/clinic/customers/999999": (302, 403, 404, 404, 403),
    "/w/elsewhere/customers/{ana's customer}": (302, 403, 403, 403, 404),
    "/w/clinic/customers.csv": (302, 403, 200, 200, 403),
    "/w/clinic/customers.csv?q=casey": (302, 403, 200, 200, 403),
    "/w/nowhere/customers": (302, 404, 404, 404, 404),
}

POST_MATRIX = {
    "/w/clinic/customers/{ana's customer}": (302, 403, 303, 303, 403),
    "/w/clinic/customers/{tom's customer}": (302, 403, 404, 303, 403),
    "/w/clinic/customers/{other customer}": (302, 403, 404, 404, 403),
    "/w/elsewhere/customers/{other customer}": (302, 403, 403, 403, 303),
}


@pytest.mark.parametrize("route", MATRIX)
def test_access_matrix(signed_in, world, route):
    expect(signed_in, world, route, MATRIX[route])


@pytest.mark.parametrize("route", POST_MATRIX)
def test_access_matrix_for_adding_a_note(signed_in, world, route):
    expect(signed_in, world, route, POST_MATRIX[route], method="POST", data={"body": "Seen."})


def test_a_refused_note_is_not_written(signed_in, world):
    expect(
        signed_in,
        world,
        "/w/clinic/customers/{other customer}",
        (302, 403, 404, 404, 403),
        method="POST",
        data={"body": "Not yours."},
    )
    assert Note.select().where(Note.body == "Not yours.").count() == 0


# Helpers ------------------------------------------------------------------------------


def add_booking(clinic, provider, service, customer, start, status="confirmed", minutes=None):
    """A booking made directly (past ones and outcomes included), as the booking service
    would store it."""
    end = start + timedelta(minutes=minutes or service.duration_minutes)
    return Booking.create(
        organisation=clinic["org"],
        service=service,
        provider=provider,
        customer=customer,
        start_at=start,
        end_at=end,
        block_start=start,
        block_end=end + timedelta(minutes=service.buffer_after_minutes),
        status=status,
        price_cents=service.price_cents,
        currency="GBP",
    )


def rows_of(response) -> list[list[str]]:
    """The customer table's rows as text cells (name first)."""
    table = parse(response).find("table", class_="cu-table")
    if table is None:
        return []
    return [
        [cell.text for cell in tr.children if cell.tag in ("th", "td")]
        for tr in table.one("tbody").find_all("tr")
    ]


def names_in(response) -> list[str]:
    return [row[0] for row in rows_of(response)]


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.fixture
def history(world, clinic):
    """Casey's past with Ana: a visit, a no-show, a cancelled one; and a visit with Tom."""
    casey, ana, tom = clinic["customer"], clinic["ana"], clinic["tom"]
    assessment, follow_up = clinic["assessment"], clinic["follow_up"]
    return {
        "visit": add_booking(
            clinic, ana, assessment, casey, datetime(2026, 11, 2, 10, tzinfo=UTC), "completed"
        ),
        "no show": add_booking(
            clinic, ana, follow_up, casey, datetime(2026, 11, 9, 11, tzinfo=UTC), "no_show"
        ),
        "cancelled": add_booking(
            clinic, ana, follow_up, casey, datetime(2026, 11, 16, 11, tzinfo=UTC), "cancelled"
        ),
        "with tom": add_booking(
            clinic, tom, follow_up, casey, datetime(2026, 11, 18, 9, tzinfo=UTC), "completed"
        ),
    }


# The list and its search ---------------------------------------------------------------


def test_owner_lists_every_customer_and_a_provider_only_theirs(signed_in, world):
    assert names_in(signed_in(world["owner"]).get("/w/clinic/customers")) == [
        "Casey Morgan",
        "Sam Lee",
    ]
    assert names_in(signed_in(world["provider"]).get("/w/clinic/customers")) == ["Casey Morgan"]


def test_the_list_counts_visits_and_shows_last_and_next_visit(signed_in, world, history):
    owner = signed_in(world["owner"])
    (casey, _sam) = rows_of(owner.get("/w/clinic/customers"))
    # name, email, phone, visits, last visit, next visit
    assert casey == ["Casey Morgan", "casey@example.com", "—", "2", "18 Nov 2026", "30 Nov, 10:00"]
    ana = signed_in(world["provider"])
    (casey_for_ana,) = rows_of(ana.get("/w/clinic/customers"))
    assert casey_for_ana[3:] == ["1", "2 Nov 2026", "30 Nov, 10:00"]  # Tom's visit is not hers


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("sam", ["Sam Lee"]),
        ("MORGAN", ["Casey Morgan"]),
        ("casey@exa", ["Casey Morgan"]),
        ("example.com", ["Casey Morgan", "Sam Lee"]),
        ("07700 900", ["Sam Lee"]),  # phone digits, typed the national way
        ("900123", ["Sam Lee"]),
        ("nobody", []),
    ],
)
def test_search_by_name_email_or_phone(signed_in, world, typed, found):
    sam = User.get_by_id(world["tom's customer"])
    sam.phone = "+447700900123"
    sam.save()
    owner = signed_in(world["owner"])
    response = owner.get("/w/clinic/customers", query_string={"q": typed})
    assert response.status_code == 200
    assert names_in(response) == found
    if not found:
        assert f"No customers match “{typed}”" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("odd", "found"),
    [
        ("\x00", ["Casey Morgan", "Sam Lee"]),  # nothing left to search for
        ("sam\x00", ["Sam Lee"]),
        ("%", []),
        ("_", []),
        ("' OR 1=1 --", []),
        ("é" * 500, []),
    ],
)
def test_odd_searches_are_just_searches(signed_in, world, odd, found):
    owner = signed_in(world["owner"])
    response = owner.get("/w/clinic/customers", query_string={"q": odd})
    assert response.status_code == 200
    assert names_in(response) == found
    export = owner.get("/w/clinic/customers.csv", query_string={"q": odd})
    assert [row[0] for row in read_csv(export)[1:]] == found


def test_a_provider_cannot_find_customers_they_have_not_seen(signed_in, world):
    ana = signed_in(world["provider"])
    assert names_in(ana.get("/w/clinic/customers?q=sam")) == []


def test_search_answers_htmx_with_the_results_only(signed_in, world):
    owner = signed_in(world["owner"])
    full = owner.get("/w/clinic/customers?q=sam")
    partial = owner.get("/w/clinic/customers?q=sam", headers=PARTIAL)

    page = parse(full)
    field = page.one("input", id="customer-search")
    assert field.attrs["value"] == "sam"  # a reload keeps the search
    assert field.attrs["hx-get"] == "/w/clinic/customers"
    assert field.attrs["hx-trigger"] == "input changed delay:300ms, search"
    assert field.attrs["hx-target"] == "#results"
    assert field.attrs["hx-push-url"] == "true"
    assert page.one("form", role="search").attrs["method"] == "get"  # works without JS
    assert "HX-Request" in full.headers["Vary"]

    html = partial.get_data(as_text=True)
    assert "<html" not in html
    assert "customer-search" not in html
    assert names_in(partial) == ["Sam Lee"]
    assert 'href="/w/clinic/customers.csv?q=sam"' in html  # the export follows the search


def test_a_long_list_shows_more_on_demand(signed_in, world, clinic):
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    for i in range(30):
        person = factories.make_user(f"person{i:02}@example.com", f"Person {i:02}")
        add_booking(
            clinic, clinic["tom"], clinic["follow_up"], person, start + timedelta(minutes=30 * i)
        )
    owner = signed_in(world["owner"])

    first = owner.get("/w/clinic/customers")
    assert len(names_in(first)) == 25
    assert "Showing 25 of 32 customers." in first.get_data(as_text=True)
    more = parse(first).one("a", href="/w/clinic/customers?shown=50")
    assert more.attrs["hx-push-url"] == "true"
    assert more.text == "Show 7 more"

    everyone = owner.get("/w/clinic/customers?shown=50", headers=PARTIAL)
    assert len(names_in(everyone)) == 32
    assert "Show" not in parse(everyone).text.replace("Showing", "")
    for odd in ("oops", "²", "9" * 5000, "-5", "0"):
        assert len(names_in(owner.get("/w/clinic/customers", query_string={"shown": odd}))) == 25


def test_nobody_to_list_says_so(signed_in, clinic):
    response = signed_in(clinic["owner"]).get("/w/clinic/customers")
    assert response.status_code == 200
    assert "No customers yet." in response.get_data(as_text=True)
    assert parse(response).find("a", download="") is None  # nothing to export


# A customer's record ----------------------------------------------------------------


def test_the_record_shows_contact_bookings_and_no_shows(signed_in, world, history):
    casey = User.get_by_id(world["ana's customer"])
    casey.phone = "+447700900456"
    casey.save()
    response = signed_in(world["owner"]).get(f"/w/clinic/customers/{casey.id}")
    page = parse(response)

    assert page.one("h1").text == "Casey Morgan"
    assert page.one("a", href="mailto:casey@example.com")
    assert page.one("a", href="tel:+447700900456").text == "+44 7700 900456"
    facts = dict(zip(
        [dt.text for dt in page.find_all("dt")], [dd.text for dd in page.find_all("dd")],
        strict=True,
    ))  # fmt: skip
    assert facts["No-shows"] == "1"
    assert facts["Visits"].startswith("2")

    def linked(section_title: str) -> list[str]:
        section = page.one("section", aria_labelledby=section_title)
        return [a.attrs["href"] for a in section.find_all("a")]

    assert linked("upcoming-title") == ["/w/clinic/bookings/{}".format(world["ana's booking"])]
    assert linked("past-title") == [
        f"/w/clinic/bookings/{history[name].id}"
        for name in ("with tom", "cancelled", "no show", "visit")  # newest first
    ]
    past = page.one("section", aria_labelledby="past-title").text
    assert "Mon 9 Nov 2026 11:00–11:30 Follow-up with Ana Silva no show" in past
    assert "Mon 16 Nov 2026 11:00–11:30 Follow-up with Ana Silva cancelled" in past


def test_a_provider_sees_only_their_own_bookings_of_a_customer(signed_in, world, history):
    url = "/w/clinic/customers/{}".format(world["ana's customer"])
    page = parse(signed_in(world["provider"]).get(url))
    hrefs = [a.attrs["href"] for a in page.find_all("a") if "/bookings/" in a.attrs["href"]]
    assert f"/w/clinic/bookings/{history['with tom'].id}" not in hrefs
    assert len(hrefs) == 4  # the upcoming one, the visit, the no-show, the cancelled one
    for href in hrefs:  # every link opens for her
        assert signed_in(world["provider"]).get(href).status_code == 200


def test_a_customer_without_email_or_phone_reads_well(signed_in, world, clinic):
    walk_in = User.create(name="Wanda Walk-in")
    add_booking(
        clinic, clinic["ana"], clinic["follow_up"], walk_in, datetime(2026, 11, 20, 9, tzinfo=UTC)
    )
    response = signed_in(world["provider"]).get(f"/w/clinic/customers/{walk_in.id}")
    assert response.status_code == 200
    text = parse(response).text
    assert "Email None given" in text
    assert "Phone None given" in text
    assert parse(response).find("a", href="mailto:None") is None


# Notes -------------------------------------------------------------------------------


def _note_page(signed_in, user, customer_id):
    client = signed_in(user)
    url = f"/w/clinic/customers/{customer_id}"
    return client, url, csrf_token(client.get(url))


def test_adding_a_note(signed_in, world, clinic, clock):
    client, url, token = _note_page(signed_in, world["provider"], world["ana's customer"])
    response = client.post(
        url, data={"csrf_token": token, "body": "  Left knee; prefers mornings.\r\nCall first.  "}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"{url}#notes"
    (note,) = Note.select()
    assert note.body == "Left knee; prefers mornings.\nCall first."
    assert (note.organisation_id, note.customer_id, note.author_id, note.booking_id) == (
        clinic["org"].id,
        world["ana's customer"],
        world["provider"].id,
        None,
    )
    assert note.created_at == clock()
    shown = parse(client.get(url)).one("ol", class_="cu-note-list").text
    assert "Ana Silva" in shown
    assert "Left knee; prefers mornings." in shown
    assert "Wed 25 Nov 2026, 12:00" in shown


def test_notes_are_newest_first_and_shared_by_the_staff(signed_in, world, clock):
    client, url, token = _note_page(signed_in, world["provider"], world["ana's customer"])
    client.post(url, data={"csrf_token": token, "body": "First."})
    clock.advance(hours=1)
    owner, _, owner_token = _note_page(signed_in, world["owner"], world["ana's customer"])
    owner.post(url, data={"csrf_token": owner_token, "body": "Second."})

    items = parse(client.get(url)).one("ol", class_="cu-note-list").find_all("li")
    assert [i.find("p", class_="cu-note-body").text for i in items] == ["Second.", "First."]
    assert "Olive Owner" in items[0].text
    assert "Ana Silva" in items[1].text


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("   ", "Write the note first."),
        ("x" * 4001, "Keep a note to 4,000 characters; this one has 4,001."),
    ],
)
def test_a_bad_note_gets_422_and_keeps_the_text(signed_in, world, typed, message):
    client, url, token = _note_page(signed_in, world["provider"], world["ana's customer"])
    response = client.post(url, data={"csrf_token": token, "body": typed})

    assert response.status_code == 422
    page = parse(response)
    assert page.one("p", id="body-error").text == f"Error: {message}"
    area = page.one("textarea", id="body")
    assert area.attrs["aria-invalid"] == "true"
    assert area.text == " ".join(typed.split())  # what was typed is still there
    assert Note.select().count() == 0


def test_a_note_of_exactly_4000_characters_is_kept(signed_in, world):
    client, url, token = _note_page(signed_in, world["owner"], world["ana's customer"])
    assert client.post(url, data={"csrf_token": token, "body": "y" * 4000}).status_code == 303
    assert len(Note.get().body) == 4000


def test_htmx_note_swaps_the_notes_section(signed_in, world):
    client, url, token = _note_page(signed_in, world["provider"], world["ana's customer"])
    page = parse(client.get(url))
    form = page.one("section", id="notes").one("form")
    assert (form.attrs["hx-post"], form.attrs["hx-target"], form.attrs["method"]) == (
        url,
        "#notes",
        "post",
    )

    added = client.post(url, data={"csrf_token": token, "body": "Via htmx."}, headers=PARTIAL)
    assert added.status_code == 200
    html = added.get_data(as_text=True)
    assert "<html" not in html
    assert "<h1" not in html
    fragment = parse(added)
    assert fragment.one("textarea", id="body").text == ""  # ready for the next one
    assert fragment.one("p", role="status").text == "Note added."
    assert "Via htmx." in fragment.one("ol", class_="cu-note-list").text

    refused = client.post(url, data={"csrf_token": token, "body": ""}, headers=PARTIAL)
    assert refused.status_code == 422
    assert "<html" not in refused.get_data(as_text=True)
    assert parse(refused).one("p", id="body-error").text == "Error: Write the note first."
    assert Note.select().count() == 1


def test_a_note_without_the_csrf_token_is_refused(signed_in, world):
    client, url, _ = _note_page(signed_in, world["provider"], world["ana's customer"])
    assert client.post(url, data={"body": "No token."}).status_code == 400
    assert Note.select().count() == 0


# CSV export --------------------------------------------------------------------------


def test_csv_export_lists_the_customers_with_their_figures(signed_in, world, history):
    response = signed_in(world["owner"]).get("/w/clinic/customers.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="clinic-customers-2026-11-25.csv"'
    )
    assert "no-store" in response.headers["Cache-Control"]
    assert read_csv(response) == [
        ["Name", "Email", "Phone", "Visits", "No-shows", "Last visit", "Next visit"],
        ["Casey Morgan", "casey@example.com", "", "2", "1", "2026-11-18 09:00", "2026-11-30 10:00"],
        ["Sam Lee", "sam@example.com", "", "0", "0", "", "2026-11-30 10:00"],
    ]


def test_a_providers_csv_holds_only_their_customers(signed_in, world, history):
    response = signed_in(world["provider"]).get("/w/clinic/customers.csv")
    rows = read_csv(response)
    assert [r[0] for r in rows[1:]] == ["Casey Morgan"]
    assert rows[1][3:] == ["1", "1", "2026-11-02 10:00", "2026-11-30 10:00"]


def test_csv_follows_the_search(signed_in, world):
    response = signed_in(world["owner"]).get("/w/clinic/customers.csv?q=sam")
    assert [r[0] for r in read_csv(response)[1:]] == ["Sam Lee"]
    assert "clinic-customers-2026-11-25-search.csv" in response.headers["Content-Disposition"]


def test_csv_quotes_and_defuses_formulas(signed_in, world, clinic):
    start = datetime(2026, 12, 2, 9, tzinfo=UTC)
    names = [
        '=HYPERLINK("http://evil.example","click")',
        "+1 Plus",
        "-2+3",
        "@SUM(A1:A9)",
        "\tTabbed",
        'Smith, "Jo"\nSecond line',
    ]
    for i, name in enumerate(names):
        person = factories.make_user(f"inject{i}@example.com", name)
        add_booking(clinic, clinic["tom"], clinic["follow_up"], person, start + timedelta(hours=i))
    sam = User.get_by_id(world["tom's customer"])
    sam.phone = "+447700900123"
    sam.save()

    response = signed_in(world["owner"]).get("/w/clinic/customers.csv")
    text = response.get_data(as_text=True)
    rows = {row[1]: row for row in read_csv(response)[1:]}

    assert rows["inject0@example.com"][0] == "'" + names[0]
    assert rows["inject1@example.com"][0] == "'+1 Plus"
    assert rows["inject2@example.com"][0] == "'-2+3"
    assert rows["inject3@example.com"][0] == "'@SUM(A1:A9)"
    assert rows["inject4@example.com"][0] == "'\tTabbed"
    assert rows["inject5@example.com"][0] == 'Smith, "Jo"\nSecond line'  # quoted, not escaped
    assert '"Smith, ""Jo""\nSecond line"' in text
    assert rows["sam@example.com"][2] == "'+44 7700 900123"
    assert "\r\n" in text  # RFC 4180 line ends


def test_the_list_takes_the_same_few_queries_however_many_customers(
    signed_in, world, clinic, caplog
):
    owner = signed_in(world["owner"])

    def queries() -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert owner.get("/w/clinic/customers").status_code == 200
            assert owner.get("/w/clinic/customers.csv").status_code == 200
        return sum(1 for r in caplog.records if r.name == "peewee")

    before = queries()
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    for i in range(12):
        person = factories.make_user(f"many{i:02}@example.com", f"Many {i:02}")
        add_booking(
            clinic, clinic["tom"], clinic["follow_up"], person, start + timedelta(minutes=30 * i)
        )
    assert queries() == before

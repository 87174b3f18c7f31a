"""The audit log: each staff or owner action writes one entry (who, what, a sentence),
the owner's page shows them, and the database refuses to change or delete one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from peewee import IntegrityError, fn

from models import AuditEntry, Booking, Invitation, Organisation, Service, TimeOff, User, db
from services import audit
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.test_accounts import link_path, mails, use_outbox
from tests.integration.test_ws_settings import GOOD, png, submit
from tests.integration.webpages import csrf_token, parse
from tests.integration.workspace import expect

PAGE = "/w/clinic/audit"
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}

# Who may ---------------------------------------------------------------------------

MATRIX = {
    # route: (anonymous, customer, provider (Ana), owner, owner of another business)
    PAGE: (302, 403, 403, 200, 403),
    PAGE + "?kind=bookings&person={owner.id}": (302, 403, 403, 200, 403),
    PAGE + "?before=5": (302, 403, 403, 200, 403),
    PAGE + "?kind=payments": (302, 403, 403, 422, 403),
    PAGE + "?person=abc": (302, 403, 403, 422, 403),
    PAGE + "?before=99999999999999999999": (302, 403, 403, 422, 403),
    "/w/elsewhere/audit": (302, 403, 403, 403, 200),
    "/w/nowhere/audit": (302, 404, 404, 404, 404),
}


@pytest.mark.parametrize("route", MATRIX)
def test_access_matrix(signed_in, world, route):
    expect(signed_in, world, route, MATRIX[route])


def test_the_tab_is_there_for_owners_only(signed_in, world):
    owner = parse(signed_in(world["owner"]).get("/w/clinic")).one("nav", class_="ws-tabs")
    ana = parse(signed_in(world["provider"]).get("/w/clinic")).one("nav", class_="ws-tabs")

    assert owner.find("a", href=PAGE) is not None
    assert ana.find("a", href=PAGE) is None


# Helpers -----------------------------------------------------------------------------


def last_id() -> int:
    return AuditEntry.select(fn.MAX(AuditEntry.id)).scalar() or 0


def since(mark: int) -> list[tuple]:
    """(action, actor id, actor name, summary) of each entry written after ``mark``."""
    rows = AuditEntry.select().where(AuditEntry.id > mark).order_by(AuditEntry.id)
    return [(e.action, e.actor_id, e.actor_name, e.summary) for e in rows]


def post(client, url: str, data: dict | None = None, headers: dict | None = None):
    token = csrf_token(client.get("/"))
    return client.post(url, data=data or {}, headers={"X-CSRFToken": token} | (headers or {}))


@pytest.fixture
def owner(signed_in, world):
    return signed_in(world["owner"])


@pytest.fixture
def ana(signed_in, world):
    return signed_in(world["provider"])


def logged(do) -> list[tuple]:
    """What ``do()`` wrote to the log; its response must not be an error."""
    mark = last_id()
    response = do()
    assert response.status_code < 400, response.get_data(as_text=True)[:2000]
    return since(mark)


# Each kind of action writes one entry ------------------------------------------------

SETTINGS = GOOD | {"max_future_bookings": "10", "max_bookings_per_day": "2"}


def test_settings_and_logo(owner, world):
    olive = world["owner"]

    changed = logged(lambda: submit(owner, SETTINGS))
    unchanged = logged(lambda: submit(owner, SETTINGS))
    logo = logged(lambda: submit(owner, SETTINGS, logo=(png(40, 20), "logo.png")))
    removed = logged(lambda: submit(owner, SETTINGS | {"remove_logo": "y"}))

    assert changed == [
        (
            "settings.changed",
            olive.id,
            "Olive Owner",
            "Changed name, time zone, currency, booking page introduction.",
        )
    ]
    entry = AuditEntry.get(AuditEntry.action == "settings.changed")
    assert entry.details["changes"]["Time zone"] == ["Europe/London", "America/New_York"]
    assert entry.details["changes"]["Name"] == ["Clinic", "Clinic North"]
    assert entry.ip == "127.0.0.1"
    assert unchanged == []  # nothing changed, nothing to log
    assert logo == [("settings.logo", olive.id, "Olive Owner", "Uploaded a new logo.")]
    assert removed == [("settings.logo", olive.id, "Olive Owner", "Removed the logo.")]


def test_staff_invitations(app, owner, world, tmp_path):
    outbox = use_outbox(app, tmp_path)
    olive = world["owner"].id

    invited = logged(
        lambda: post(owner, "/w/clinic/staff", {"name": "Nia New", "email": "nia@example.com"})
    )
    nia = Invitation.get(Invitation.email == "nia@example.com")
    resent = logged(lambda: post(owner, f"/w/clinic/staff/invitations/{nia.id}/resend"))
    link = link_path(mails(outbox)[-1])
    withdrawn = logged(lambda: post(owner, f"/w/clinic/staff/invitations/{nia.id}/revoke"))
    again = logged(lambda: post(owner, f"/w/clinic/staff/invitations/{nia.id}/revoke"))

    summary = "Invited Nia New (nia@example.com) to join as a provider."
    assert invited == [("staff.invited", olive, "Olive Owner", summary)]
    summary = "Sent nia@example.com a new invitation link."
    assert resent == [("staff.invitation_resent", olive, "Olive Owner", summary)]
    summary = "Withdrew the invitation to nia@example.com."
    assert withdrawn == [("staff.invitation_withdrawn", olive, "Olive Owner", summary)]
    assert again == []
    assert app.test_client().get(link).status_code == 410


def test_joining_is_logged_as_the_new_provider(app, owner, world, tmp_path):
    outbox = use_outbox(app, tmp_path)
    post(owner, "/w/clinic/staff", {"name": "Nia New", "email": "nia@example.com"})
    link = link_path(mails(outbox)[-1])
    visitor = app.test_client()
    token = csrf_token(visitor.get(link))
    data = {"csrf_token": token, "name": "Nia New", "password": "a long enough password"}

    joined = logged(lambda: visitor.post(link, data=data))

    nia = User.get(User.email == "nia@example.com")
    summary = "Accepted the invitation and joined as a provider (nia@example.com)."
    assert joined == [("staff.joined", nia.id, "Nia New", summary)]


def test_staff_roles_deactivating_and_reactivating(owner, world, clinic):
    olive = world["owner"].id
    tom = world["tom"]

    added = logged(lambda: post(owner, "/w/clinic/staff/add-me"))
    # Tom's Monday booking: moved to Ana? She offers no massage; cancel it.
    toms_booking = world["tom's booking"]
    data = {f"decision-{toms_booking}": "cancel", "message": "Tom has left."}
    left = logged(lambda: post(owner, f"/w/clinic/staff/{tom}/deactivate", data))
    back = logged(lambda: post(owner, f"/w/clinic/staff/{tom}/reactivate"))

    summary = "Became a provider too (sees customers)."
    assert added == [("staff.provider_added", olive, "Olive Owner", summary)]
    assert [entry[0] for entry in left] == ["bookings.cancelled", "staff.deactivated"]
    assert left[0][3] == (
        f"Cancelled Sports massage on Mon 30 Nov at 10:00 (booking #{toms_booking})."
    )
    summary = "Deactivated Tom Reed; their future bookings: 1 cancelled."
    assert left[1] == ("staff.deactivated", olive, "Olive Owner", summary)
    assert back == [("staff.reactivated", olive, "Olive Owner", "Reactivated Tom Reed.")]


def test_services(owner, world):
    olive = world["owner"].id
    form = {
        "name": "Deep tissue",
        "category": "Massage",
        "duration": "45",
        "price": "60",
        "buffer_before": "0",
        "buffer_after": "0",
        "min_notice": "0",
        "max_days_ahead": "90",
        "cancellation_window": "24",
        "providers": str(world["tom"]),
    }

    created = logged(lambda: post(owner, "/w/clinic/services/new", form))
    made = Service.get(Service.name == "Deep tissue")
    edit = form | {"price": "65.50", "providers": [str(world["tom"]), str(world["ana"])]}
    edited = logged(lambda: post(owner, f"/w/clinic/services/{made.id}", edit))
    archived = logged(lambda: post(owner, f"/w/clinic/services/{made.id}/archive"))
    restored = logged(lambda: post(owner, f"/w/clinic/services/{made.id}/restore"))

    summary = "Created the service “Deep tissue” (45 min, 60 GBP)."
    assert created == [("services.created", olive, "Olive Owner", summary)]
    summary = "Edited the service “Deep tissue”: price, offered by."
    assert edited == [("services.edited", olive, "Olive Owner", summary)]
    changes = AuditEntry.get(AuditEntry.action == "services.edited").details["changes"]
    assert changes == {
        "Price": ["60", "65.50"],
        "Offered by": [["Tom Reed"], ["Ana Silva", "Tom Reed"]],
    }
    summary = "Archived the service “Deep tissue”."
    assert archived == [("services.archived", olive, "Olive Owner", summary)]
    summary = "Restored the service “Deep tissue”."
    assert restored == [("services.restored", olive, "Olive Owner", summary)]


def test_hours_overrides_and_time_off(ana, world):
    ana_id = world["provider"].id
    base = f"/w/clinic/availability/{world['ana']}"
    week = {"mon-0-start": "09:00", "mon-0-end": "17:00"}
    for day in ("tue", "wed", "thu", "fri"):
        week |= {f"{day}-0-start": "09:00", f"{day}-0-end": "13:00"}
        week |= {f"{day}-1-start": "14:00", f"{day}-1-end": "17:00"}
    away = {
        "start_date": "2026-12-07",
        "start_time": "09:00",
        "end_date": "2026-12-08",
        "end_time": "17:00",
        "reason": "Conference",
    }

    hours = logged(lambda: post(ana, f"{base}/hours", week))
    override = logged(
        lambda: post(ana, f"{base}/overrides", {"day": "2026-12-24", "kind": "closed"})
    )
    cleared = logged(lambda: post(ana, f"{base}/overrides/2026-12-24/delete"))
    off = logged(lambda: post(ana, f"{base}/time-off", away))
    time_off = TimeOff.get(TimeOff.provider == world["ana"])
    removed = logged(lambda: post(ana, f"{base}/time-off/{time_off.id}/delete"))

    summary = "Changed Ana Silva's weekly hours: Monday."
    assert hours == [("hours.weekly", ana_id, "Ana Silva", summary)]
    changes = AuditEntry.get(AuditEntry.action == "hours.weekly").details["changes"]
    assert changes == {"Monday": ["09:00–13:00, 14:00–17:00", "09:00–17:00"]}
    summary = "Set Ana Silva's hours on Thu 24 Dec 2026: closed."
    assert override == [("hours.date_set", ana_id, "Ana Silva", summary)]
    summary = "Removed Ana Silva's special hours on Thu 24 Dec 2026: the weekly hours apply."
    assert cleared == [("hours.date_cleared", ana_id, "Ana Silva", summary)]
    span = "Mon 7 Dec 2026 09:00 – Tue 8 Dec 2026 17:00"
    summary = f"Added time off for Ana Silva: {span} (Conference)."
    assert off == [("hours.time_off_added", ana_id, "Ana Silva", summary)]
    summary = f"Removed Ana Silva's time off: {span}."
    assert removed == [("hours.time_off_removed", ana_id, "Ana Silva", summary)]


def test_bookings_staff_cancel_move_mark_note_and_book(ana, owner, world, clinic, clock):
    ana_id, olive = world["provider"].id, world["owner"].id
    anas, toms = world["ana's booking"], world["tom's booking"]
    url = "/w/clinic/bookings/"
    desk = {
        "provider": world["ana"],
        "service": clinic["follow_up"].id,
        "start": "2026-11-30T14:00:00+00:00",
        "source": "phone",
        "new_name": "Walter Walkin",
    }

    moved = logged(
        lambda: post(ana, f"{url}{anas}/move/confirm", {"start": "2026-11-30T11:00:00Z"})
    )
    new = Booking.get(Booking.rescheduled_from == anas).id
    noted = logged(lambda: post(ana, f"{url}{new}/notes", {"body": "Bring the X-ray."}))
    cancelled = logged(lambda: post(owner, f"{url}{toms}/cancel", {"reason": "Tom is ill"}))
    booked = logged(lambda: post(ana, f"{url}new", desk))
    walk_in = Booking.get(Booking.start_at == datetime(2026, 11, 30, 14, tzinfo=UTC)).id
    clock.advance(days=5)  # Monday 30 November, 12:00: the 11:00 appointment happened
    marked = logged(lambda: post(ana, f"{url}{new}/status", {"status": "no_show"}))

    summary = (
        f"Moved Initial assessment (booking #{anas}) from Mon 30 Nov at 10:00 to"
        f" Mon 30 Nov at 11:00; it is booking #{new} now."
    )
    assert moved == [("bookings.moved", ana_id, "Ana Silva", summary)]
    summary = f"Added a note to booking #{new}."
    assert noted == [("bookings.note_added", ana_id, "Ana Silva", summary)]
    summary = f"Cancelled Sports massage on Mon 30 Nov at 10:00 (booking #{toms})."
    assert cancelled == [("bookings.cancelled", olive, "Olive Owner", summary)]
    summary = (
        f"Booked Follow-up with Ana Silva on Mon 30 Nov at 14:00"
        f" (a phone booking, booking #{walk_in})."
    )
    assert booked == [("bookings.booked", ana_id, "Ana Silva", summary)]
    summary = f"Marked booking #{new} a no-show (it was confirmed)."
    assert marked == [("bookings.marked", ana_id, "Ana Silva", summary)]
    # Nothing the staff typed about the customer is copied into the log.
    every = json.dumps(since(0)) + "".join(e.detail for e in AuditEntry.select())
    for private in ("X-ray", "Tom is ill", "Walter", "Casey"):
        assert private not in every


def test_what_customers_do_themselves_is_not_logged(signed_in, world, clinic, clock):
    mark = last_id()
    booking = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["follow_up"].id,
        start=datetime(2026, 12, 1, 10, tzinfo=UTC),
        now=clock(),
        dispatch=Dispatch(),
    )
    bookings.reschedule(
        booking_id=booking.id,
        actor_id=clinic["customer"].id,
        start=datetime(2026, 12, 1, 11, tzinfo=UTC),
        now=clock(),
        dispatch=Dispatch(),
    )
    bookings.cancel(
        booking_id=world["ana's booking"],
        actor_id=clinic["customer"].id,
        now=clock(),
        dispatch=Dispatch(),
    )

    assert since(mark) == []


def test_customers_note_and_export(owner, ana, world):
    olive, ana_id = world["owner"].id, world["provider"].id
    casey = world["ana's customer"]

    noted = logged(lambda: post(ana, f"/w/clinic/customers/{casey}", {"body": "Prefers mornings"}))
    everyone = logged(lambda: owner.get("/w/clinic/customers.csv"))
    found = logged(lambda: owner.get("/w/clinic/customers.csv?q=casey"))
    mine = logged(lambda: ana.get("/w/clinic/customers.csv"))

    summary = f"Added a note to customer #{casey}'s record."
    assert noted == [("customers.note_added", ana_id, "Ana Silva", summary)]
    summary = "Exported 2 customers to a CSV file."
    assert everyone == [("customers.exported", olive, "Olive Owner", summary)]
    summary = "Exported 1 customers to a CSV file, found by a search."
    assert found == [("customers.exported", olive, "Olive Owner", summary)]
    assert mine == [
        ("customers.exported", ana_id, "Ana Silva", "Exported 1 customers to a CSV file.")
    ]


def test_a_refused_action_writes_nothing(owner, ana, world):
    mark = last_id()

    assert submit(owner, SETTINGS | {"timezone": "Mars/Olympus"}).status_code == 422
    anas = world["ana's booking"]
    assert post(ana, f"/w/clinic/bookings/{anas}/cancel", {"reason": ""}).status_code == 422
    assert post(ana, "/w/clinic/settings", SETTINGS).status_code == 403

    assert since(mark) == []


# The page ----------------------------------------------------------------------------


def fill(org, actor, count: int, now, action="services.created", summary="Entry {}"):
    for i in range(count):
        audit.record(org.id, actor.id, action, summary.format(i + 1), now + timedelta(minutes=i))


def test_newest_first_a_page_at_a_time(owner, world, clinic, clock):
    fill(clinic["org"], world["owner"], 35, clock())

    first = owner.get(PAGE)
    entries = parse(first).find_all("li", class_="au-entry")
    older = parse(first).one("a", id="audit-older")
    second = owner.get(older.attrs["href"])
    rest = parse(second).find_all("li", class_="au-entry")

    assert first.status_code == 200
    assert len(entries) == 30
    assert "Entry 35" in entries[0].text
    assert "Entry 6" in entries[-1].text
    assert "Wed 25 Nov 2026, 12:34" in entries[0].text
    assert [e.text.count("Entry ") for e in rest] == [1] * 5
    assert "Entry 5" in rest[0].text
    assert "Entry 1" in rest[-1].text
    assert parse(second).find("a", id="audit-older") is None
    assert parse(second).one("p", class_="au-newest").one("a").attrs["href"] == PAGE


def test_htmx_adds_older_entries_below(owner, world, clinic, clock):
    fill(clinic["org"], world["owner"], 35, clock())
    older = parse(owner.get(PAGE)).one("a", id="audit-older")

    response = owner.get(older.attrs["hx-get"], headers=PARTIAL)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert "<ol" not in html
    assert 'hx-swap-oob="true"' in html
    assert "5 older entries added." in html
    assert html.count('class="au-entry"') == 5


def test_filters_by_person_and_kind(owner, ana, world, clinic, clock):
    fill(clinic["org"], world["owner"], 2, clock(), "services.created", "Owner service {}")
    fill(clinic["org"], world["provider"], 2, clock(), "hours.weekly", "Ana hours {}")
    page = parse(owner.get(PAGE))
    people = [o.text for o in page.one("select", name="person").find_all("option")]
    kinds = [o.attrs["value"] for o in page.one("select", name="kind").find_all("option")]

    by_ana = parse(owner.get(PAGE, query_string={"person": world["provider"].id}))
    services = parse(owner.get(PAGE, query_string={"kind": "services"}))
    nothing = parse(owner.get(PAGE, query_string={"kind": "customers"}))
    fragment = owner.get(PAGE, query_string={"kind": "hours"}, headers=PARTIAL)

    assert people == ["Everyone", "Ana Silva", "Olive Owner"]
    assert kinds == ["", "settings", "staff", "services", "hours", "bookings", "customers"]
    assert [
        e.one("p", class_="au-summary").text for e in by_ana.find_all("li", class_="au-entry")
    ] == [
        "Ana hours 2",
        "Ana hours 1",
    ]
    assert "Owner service 2" in services.text
    assert "Ana hours" not in services.text
    assert "Nothing matches these filters." in nothing.one("p", class_="au-empty").text
    assert fragment.get_data(as_text=True).count('class="au-entry"') == 2
    assert "<html" not in fragment.get_data(as_text=True)


def test_a_bad_filter_is_422_with_the_reason(owner, world):
    response = owner.get(PAGE, query_string={"kind": "payments"})

    assert response.status_code == 422
    assert parse(response).one("p", id="audit-kind-error").text == (
        "Choose a kind of action from the list."
    )


def test_another_business_sees_none_of_it(signed_in, world, clinic, clock):
    fill(clinic["org"], world["owner"], 3, clock(), summary="Clinic secret {}")
    other = signed_in(world["other owner"])

    own = other.get("/w/elsewhere/audit")
    by_clinic_owner = other.get("/w/elsewhere/audit", query_string={"person": world["owner"].id})

    assert "Clinic secret" not in own.get_data(as_text=True)
    assert "Clinic secret" not in by_clinic_owner.get_data(as_text=True)
    assert "Olive Owner" not in own.get_data(as_text=True)


def test_links_to_what_an_entry_is_about(owner, world, clinic, clock):
    audit.record(
        clinic["org"].id,
        world["owner"].id,
        "bookings.cancelled",
        "Cancelled it.",
        clock(),
        subject=("booking", world["tom's booking"]),
    )

    entry = parse(owner.get(PAGE)).one("li", class_="au-entry")

    link = entry.one("p", class_="au-meta").one("a")
    toms = world["tom's booking"]
    assert link.attrs["href"] == f"/w/clinic/bookings/{toms}"
    assert owner.get(link.attrs["href"]).status_code == 200


# The database keeps it ---------------------------------------------------------------


def an_entry(clinic, actor, clock) -> AuditEntry:
    return audit.record(clinic["org"].id, actor.id, "settings.changed", "Changed name.", clock())


@pytest.mark.parametrize(
    "change",
    [
        lambda e: AuditEntry.update(summary="Nothing happened.").where(AuditEntry.id == e.id),
        lambda e: AuditEntry.update(actor_name="Someone else").where(AuditEntry.id == e.id),
        lambda e: AuditEntry.update(actor=None).where(AuditEntry.id == e.id),  # user still there
        lambda e: AuditEntry.update(created_at=datetime(2020, 1, 1, tzinfo=UTC)),
        lambda e: AuditEntry.delete().where(AuditEntry.id == e.id),
        lambda e: AuditEntry.delete(),
    ],
    ids=["summary", "actor name", "actor", "created_at", "delete one", "delete all"],
)
def test_the_table_refuses_update_and_delete(world, clinic, clock, change):
    entry = an_entry(clinic, world["owner"], clock)

    with pytest.raises(IntegrityError, match="append-only"), db.atomic():
        change(entry).execute()

    kept = AuditEntry.get_by_id(entry.id)
    assert (kept.summary, kept.actor_id, kept.actor_name) == (
        "Changed name.",
        world["owner"].id,
        "Olive Owner",
    )


def test_raw_sql_is_refused_too(world, clinic, clock):
    entry = an_entry(clinic, world["owner"], clock)

    for sql in ("UPDATE audit_entry SET summary = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(IntegrityError), db.atomic():
            db.execute_sql(sql)

    assert AuditEntry.get_by_id(entry.id).summary == "Changed name."


def test_entries_survive_the_actors_deletion(owner, signed_in, world, clinic, clock):
    leaver = factories.make_user("lee@clinic.test", "Lee Leaver")
    factories.make_provider(clinic["org"], "Lee Leaver", user=leaver)
    entry = audit.record(clinic["org"].id, leaver.id, "hours.weekly", "Changed hours.", clock())

    User.delete().where(User.id == leaver.id).execute()

    kept = AuditEntry.get_by_id(entry.id)
    assert (kept.actor_id, kept.actor_name, kept.summary) == (None, "Lee Leaver", "Changed hours.")
    shown = parse(owner.get(PAGE)).one("li", class_="au-entry").text
    assert "Lee Leaver" in shown
    assert "(account deleted)" in shown


def test_deleting_a_whole_business_takes_its_log_with_it(app, clock):
    org = factories.make_org("closing")
    boss = factories.make_owner(org, "boss@closing.test")
    audit.record(org.id, boss.id, "settings.changed", "Changed name.", clock())

    Organisation.delete().where(Organisation.id == org.id).execute()

    assert not AuditEntry.select().where(AuditEntry.organisation == org.id).exists()


def test_never_a_secret_in_the_detail(world, clinic, clock):
    with pytest.raises(ValueError, match="never log secrets"):
        audit.record(
            clinic["org"].id,
            world["owner"].id,
            "settings.changed",
            "Changed.",
            clock(),
            detail={"changes": {"stripe_secret_key": ["a", "b"]}},
        )
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(clinic["org"].id, world["owner"].id, "settings.nope", "x", clock())

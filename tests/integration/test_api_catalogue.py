"""GET /api/v1/orgs/<slug>, its services and its slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models import DateOverride, Provider, Service, TimeOff
from tests import factories

LONDON = ZoneInfo("Europe/London")


def slots(api, service, day: str, **params):
    query = "&".join(f"{k}={v}" for k, v in {"service": service.id, "date": day, **params}.items())
    return api.get(f"/api/v1/orgs/clinic/slots?{query}")


def starts(response) -> list[str]:
    return [s["start"] for s in response.json["slots"]]


def local_times(response) -> list[str]:
    return [datetime.fromisoformat(s["start"]).strftime("%H:%M") for s in response.json["slots"]]


def grid(first: str, last: str, step: int = 15) -> list[str]:
    at = datetime.combine(date(2026, 1, 1), time.fromisoformat(first))
    end = datetime.combine(date(2026, 1, 1), time.fromisoformat(last))
    out = []
    while at <= end:
        out.append(at.strftime("%H:%M"))
        at += timedelta(minutes=step)
    return out


def book(api, service, start: str, provider=None):
    body = {"service": service.id, "start": start}
    if provider is not None:
        body["provider"] = provider.id
    response = api.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.json
    return response.json


# --- the organisation ---------------------------------------------------------------------


def test_organisation(anonymous_api, clinic):
    response = anonymous_api.get("/api/v1/orgs/clinic")

    assert response.status_code == 200
    assert response.json == {
        "slug": "clinic",
        "name": "Clinic",
        "timezone": "Europe/London",
        "currency": "GBP",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/orgs/nowhere",
        "/api/v1/orgs/nowhere/services",
        "/api/v1/orgs/nowhere/slots?service=1&date=2026-11-30",
    ],
)
def test_unknown_organisation_is_404_json(anonymous_api, clinic, path):
    response = anonymous_api.get(path)

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.json == {"error": "not_found", "message": "No such organisation."}


# --- services -----------------------------------------------------------------------------


def test_services_shape(anonymous_api, clinic):
    ana, tom = clinic["ana"], clinic["tom"]

    response = anonymous_api.get("/api/v1/orgs/clinic/services")

    assert response.status_code == 200
    assert response.json == [
        {
            "id": clinic["follow_up"].id,
            "name": "Follow-up",
            "category": "",
            "description": "",
            "duration_minutes": 30,
            "price": {"amount_cents": 4500, "currency": "GBP"},
            "providers": [{"id": ana.id, "name": "Ana Silva"}, {"id": tom.id, "name": "Tom Reed"}],
        },
        {
            "id": clinic["assessment"].id,
            "name": "Initial assessment",
            "category": "",
            "description": "",
            "duration_minutes": 60,
            "price": {"amount_cents": 6500, "currency": "GBP"},
            "providers": [{"id": ana.id, "name": "Ana Silva"}],
        },
        {
            "id": clinic["massage"].id,
            "name": "Sports massage",
            "category": "Massage",
            "description": "",
            "duration_minutes": 45,
            "price": {"amount_cents": 5500, "currency": "GBP"},
            "providers": [{"id": tom.id, "name": "Tom Reed"}],
        },
    ]


def test_inactive_service_is_not_listed(anonymous_api, clinic):
    Service.update(active=False).where(Service.id == clinic["assessment"].id).execute()

    response = anonymous_api.get("/api/v1/orgs/clinic/services")

    assert [s["name"] for s in response.json] == ["Follow-up", "Sports massage"]


def test_inactive_provider_is_not_listed_or_offered(anonymous_api, clinic):
    Provider.update(active=False).where(Provider.id == clinic["tom"].id).execute()

    listed = anonymous_api.get("/api/v1/orgs/clinic/services").json
    free = slots(anonymous_api, clinic["follow_up"], "2026-11-30")

    by_name = {s["name"]: s["providers"] for s in listed}
    assert by_name["Follow-up"] == [{"id": clinic["ana"].id, "name": "Ana Silva"}]
    assert by_name["Sports massage"] == []
    assert {s["provider"] for s in free.json["slots"]} == {clinic["ana"].id}
    assert "13:00" not in local_times(free)


def test_services_of_another_organisation_are_not_listed(anonymous_api, clinic):
    other = factories.make_org("elsewhere")
    factories.make_service(other, [factories.make_provider(other)], "Elsewhere only")

    names = [s["name"] for s in anonymous_api.get("/api/v1/orgs/clinic/services").json]
    theirs = anonymous_api.get("/api/v1/orgs/elsewhere/services").json

    assert "Elsewhere only" not in names
    assert [s["name"] for s in theirs] == ["Elsewhere only"]


# --- slots for one day --------------------------------------------------------------------


def test_slots_for_one_provider_keep_her_lunch_break(anonymous_api, clinic):
    ana = clinic["ana"]

    response = slots(anonymous_api, clinic["follow_up"], "2026-11-30", provider=ana.id)

    assert response.status_code == 200
    assert response.json["timezone"] == "Europe/London"
    assert response.json["date"] == "2026-11-30"
    assert local_times(response) == grid("09:00", "12:30") + grid("14:00", "16:30")
    assert response.json["slots"][0] == {
        "start": "2026-11-30T09:00:00+00:00",
        "end": "2026-11-30T09:30:00+00:00",
        "provider": ana.id,
    }
    assert response.json["slots"][-1] == {
        "start": "2026-11-30T16:30:00+00:00",
        "end": "2026-11-30T17:00:00+00:00",
        "provider": ana.id,
    }


def test_sixty_minute_slots_end_by_lunch_and_by_closing(anonymous_api, clinic):
    response = slots(anonymous_api, clinic["assessment"], "2026-11-30")

    assert local_times(response) == grid("09:00", "12:00") + grid("14:00", "16:00")
    assert {s["provider"] for s in response.json["slots"]} == {clinic["ana"].id}


def test_any_provider_merges_and_says_who_would_take_it(anonymous_api, clinic):
    ana, tom = clinic["ana"], clinic["tom"]

    response = slots(anonymous_api, clinic["follow_up"], "2026-11-30")

    assert local_times(response) == grid("09:00", "16:30")
    who = {
        datetime.fromisoformat(s["start"]).strftime("%H:%M"): s["provider"]
        for s in response.json["slots"]
    }
    # Ana's lunch (13:00–14:00) is covered by Tom; 12:45 would run into it.
    assert {t for t, p in who.items() if p == tom.id} == {
        "12:45",
        "13:00",
        "13:15",
        "13:30",
        "13:45",
    }
    assert who["09:00"] == who["12:30"] == who["14:00"] == who["16:30"] == ana.id


def test_any_provider_offers_the_other_one_when_one_is_booked(anonymous_api, customer_api, clinic):
    book(customer_api, clinic["follow_up"], "2026-11-30T10:00:00+00:00", clinic["ana"])

    response = slots(anonymous_api, clinic["follow_up"], "2026-11-30")

    who = {
        datetime.fromisoformat(s["start"]).strftime("%H:%M"): s["provider"]
        for s in response.json["slots"]
    }
    assert who["10:00"] == clinic["tom"].id
    assert len(who) == len(grid("09:00", "16:30"))


def test_a_booking_hides_overlapping_slots_of_that_provider_only(
    anonymous_api, customer_api, clinic
):
    book(customer_api, clinic["follow_up"], "2026-11-30T10:00:00+00:00", clinic["ana"])

    ana = local_times(
        slots(anonymous_api, clinic["follow_up"], "2026-11-30", provider=clinic["ana"].id)
    )
    tom = local_times(
        slots(anonymous_api, clinic["follow_up"], "2026-11-30", provider=clinic["tom"].id)
    )

    assert ana == [
        t for t in grid("09:00", "12:30") if t not in {"09:45", "10:00", "10:15"}
    ] + grid("14:00", "16:30")
    assert tom == grid("09:00", "16:30")


def test_massage_buffer_after_cuts_the_last_slot(anonymous_api, clinic):
    response = slots(anonymous_api, clinic["massage"], "2026-11-30")

    # 45 minutes + 10 minutes of buffer must end by 17:00: 16:05 at the latest.
    assert local_times(response) == grid("09:00", "16:00")
    assert response.json["slots"][-1]["end"] == "2026-11-30T16:45:00+00:00"


def test_massage_buffer_keeps_the_provider_busy_after_it(anonymous_api, customer_api, clinic):
    book(customer_api, clinic["massage"], "2026-11-30T10:00:00+00:00")

    massage = local_times(slots(anonymous_api, clinic["massage"], "2026-11-30"))
    follow_up = local_times(
        slots(anonymous_api, clinic["follow_up"], "2026-11-30", provider=clinic["tom"].id)
    )

    # Tom is busy 10:00–10:55: a massage (55 min blocked) must end by 10:00, or start after.
    assert massage[:3] == ["09:00", "11:00", "11:15"]
    # A 30-minute follow-up fits 09:30–10:00, but 10:45 would run into the buffer.
    assert follow_up[:4] == ["09:00", "09:15", "09:30", "11:00"]


def test_buffer_before_is_kept_free_too(anonymous_api, clinic):
    prep = factories.make_service(
        clinic["org"], [clinic["tom"]], "Taping", 30, buffer_before_minutes=15
    )

    response = slots(anonymous_api, prep, "2026-11-30")

    assert local_times(response) == grid("09:15", "16:30")


def test_weekend_has_no_slots(anonymous_api, clinic):
    for day in ("2026-11-28", "2026-11-29"):
        response = slots(anonymous_api, clinic["follow_up"], day)
        assert response.status_code == 200
        assert response.json["slots"] == []
        assert response.json["date"] == day


def test_date_override_and_time_off_are_respected(anonymous_api, clinic):
    tom = clinic["tom"]
    DateOverride.create(
        provider=tom, day=date(2026, 11, 30), start_time=time(12), end_time=time(14)
    )
    DateOverride.create(provider=tom, day=date(2026, 12, 1))  # closed all day
    TimeOff.create(
        provider=tom,
        start_at=datetime(2026, 12, 2, 9, tzinfo=UTC),
        end_at=datetime(2026, 12, 2, 16, tzinfo=UTC),
    )

    monday = slots(anonymous_api, clinic["massage"], "2026-11-30")
    tuesday = slots(anonymous_api, clinic["massage"], "2026-12-01")
    wednesday = slots(anonymous_api, clinic["massage"], "2026-12-02")

    assert local_times(monday) == grid("12:00", "13:00")
    assert tuesday.json["slots"] == []
    assert local_times(wednesday) == ["16:00"]


# --- time zones ---------------------------------------------------------------------------


def test_winter_london_slots_carry_plus_zero(anonymous_api, clinic):
    response = slots(anonymous_api, clinic["follow_up"], "2026-12-01")

    assert all(
        s["start"].endswith("+00:00") and s["end"].endswith("+00:00")
        for s in response.json["slots"]
    )
    assert starts(response)[0] == "2026-12-01T09:00:00+00:00"


def test_summer_london_slots_carry_plus_one_and_keep_wall_clock_hours(anonymous_api, clinic):
    response = slots(anonymous_api, clinic["follow_up"], "2027-04-05")

    assert starts(response)[0] == "2027-04-05T09:00:00+01:00"
    assert starts(response)[-1] == "2027-04-05T16:30:00+01:00"
    assert response.json["slots"][-1]["end"] == "2027-04-05T17:00:00+01:00"
    assert all(s.endswith("+01:00") for s in starts(response))
    # 09:00 local is 08:00 UTC in summer.
    assert datetime.fromisoformat(starts(response)[0]).astimezone(UTC).hour == 8


def test_new_york_organisation_shows_its_own_offsets(anonymous_api, app, clock):
    org = factories.make_org("nyc", timezone="America/New_York", currency="USD")
    service = factories.make_service(org, [factories.make_provider(org)], "Consult", 60)
    url = f"/api/v1/orgs/nyc/slots?service={service.id}&date="

    winter = anonymous_api.get(url + "2026-11-30")
    summer = anonymous_api.get(url + "2027-04-05")
    listed = anonymous_api.get("/api/v1/orgs/nyc/services").json

    assert winter.json["timezone"] == "America/New_York"
    assert winter.json["slots"][0]["start"] == "2026-11-30T09:00:00-05:00"
    assert winter.json["slots"][-1]["end"] == "2026-11-30T17:00:00-05:00"
    assert summer.json["slots"][0]["start"] == "2027-04-05T09:00:00-04:00"
    assert summer.json["slots"][-1]["start"] == "2027-04-05T16:00:00-04:00"
    assert listed[0]["price"] == {"amount_cents": 5000, "currency": "USD"}


def test_the_day_is_the_organisations_local_day(anonymous_api, clock):
    # 12:00 UTC on Wed 25 Nov is 07:00 in New York: the whole local morning is ahead.
    org = factories.make_org("nyc", timezone="America/New_York", currency="USD")
    service = factories.make_service(org, [factories.make_provider(org)], "Consult", 60)

    today = anonymous_api.get(f"/api/v1/orgs/nyc/slots?service={service.id}&date=2026-11-25")

    assert today.json["slots"][0]["start"] == "2026-11-25T09:00:00-05:00"


# --- notice, horizon, the frozen day ------------------------------------------------------


def test_today_only_shows_times_not_yet_passed(anonymous_api, clinic):
    response = slots(anonymous_api, clinic["follow_up"], "2026-11-25", provider=clinic["tom"].id)

    assert local_times(response) == grid("12:15", "16:30")  # 12:00 has just begun


def test_minimum_notice_hides_slots_too_soon(anonymous_api, clinic, clock):
    soon = factories.make_service(
        clinic["org"], [clinic["tom"]], "Quick check", 30, min_notice_minutes=120
    )

    at_noon = slots(anonymous_api, soon, "2026-11-25")
    clock.advance(minutes=5)
    later = slots(anonymous_api, soon, "2026-11-25")
    tomorrow = slots(anonymous_api, soon, "2026-11-26")

    assert local_times(at_noon) == grid("14:00", "16:30")
    assert local_times(later) == grid("14:15", "16:30")
    assert local_times(tomorrow) == grid("09:00", "16:30")


def test_past_days_have_no_slots(anonymous_api, clinic):
    response = slots(anonymous_api, clinic["follow_up"], "2026-11-24")

    assert response.status_code == 200
    assert response.json["slots"] == []


def test_max_days_ahead_is_respected(anonymous_api, clinic):
    # 180 days after Wed 25 Nov 2026 is Mon 24 May 2027.
    last = slots(anonymous_api, clinic["follow_up"], "2027-05-24")
    beyond = slots(anonymous_api, clinic["follow_up"], "2027-05-25")
    ranged = slots(anonymous_api, clinic["follow_up"], "2027-05-20", days=10)

    assert local_times(last) == grid("09:00", "16:30")
    assert beyond.json["slots"] == []
    days = sorted({s[:10] for s in starts(ranged)})
    assert days == ["2027-05-20", "2027-05-21", "2027-05-24"]


def test_short_horizon_service(anonymous_api, clinic):
    service = factories.make_service(
        clinic["org"], [clinic["tom"]], "Walk-in", 30, max_days_ahead=2
    )

    ranged = slots(anonymous_api, service, "2026-11-25", days=7)

    assert sorted({s[:10] for s in starts(ranged)}) == ["2026-11-25", "2026-11-26", "2026-11-27"]


# --- ranges -------------------------------------------------------------------------------


def test_a_week_of_slots(anonymous_api, clinic):
    response = slots(anonymous_api, clinic["follow_up"], "2026-11-30", days=7)

    assert response.status_code == 200
    assert response.json["date"] == "2026-11-30"
    assert response.json["days"] == 7
    found = starts(response)
    assert found == sorted(found)
    assert len(found) == len(set(found)) == 5 * len(grid("09:00", "16:30"))
    assert sorted({s[:10] for s in found}) == [
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "2026-12-04",
    ]
    assert found[0] == "2026-11-30T09:00:00+00:00"
    assert found[-1] == "2026-12-04T16:30:00+00:00"


def test_thirty_one_days_is_the_most(anonymous_api, clinic):
    response = slots(anonymous_api, clinic["follow_up"], "2026-11-30", days=31)

    assert response.status_code == 200
    assert starts(response)[0] == "2026-11-30T09:00:00+00:00"
    assert starts(response)[-1] == "2026-12-30T16:30:00+00:00"


def test_range_across_the_spring_clock_change(anonymous_api, clinic):
    # Clocks go forward on Sunday 28 March 2027: Friday is GMT, Monday is BST.
    response = slots(anonymous_api, clinic["follow_up"], "2027-03-26", days=4)

    found = starts(response)
    assert sorted({s[:10] for s in found}) == ["2027-03-26", "2027-03-29"]
    assert found[0] == "2027-03-26T09:00:00+00:00"
    assert "2027-03-26T16:30:00+00:00" in found
    assert "2027-03-29T09:00:00+01:00" in found
    assert found[-1] == "2027-03-29T16:30:00+01:00"


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("days", ["0", "32", "abc", "-1", "1.5", ""])
def test_bad_days_is_422(anonymous_api, clinic, days):
    response = anonymous_api.get(
        f"/api/v1/orgs/clinic/slots?service={clinic['follow_up'].id}&date=2026-11-30&days={days}"
    )

    assert response.status_code == 422
    assert response.json["error"] == "invalid"
    assert list(response.json["fields"]) == ["days"]


@pytest.mark.parametrize("day", ["", "2026-13-01", "30/11/2026", "tomorrow", "2026-02-30"])
def test_malformed_date_is_422(anonymous_api, clinic, day):
    response = anonymous_api.get(
        f"/api/v1/orgs/clinic/slots?service={clinic['follow_up'].id}&date={day}"
    )

    assert response.status_code == 422
    assert response.json["fields"] == {"date": "Give a date as YYYY-MM-DD."}


def test_missing_date_is_422(anonymous_api, clinic):
    response = anonymous_api.get(f"/api/v1/orgs/clinic/slots?service={clinic['follow_up'].id}")

    assert response.status_code == 422
    assert list(response.json["fields"]) == ["date"]


@pytest.mark.parametrize("service", ["", "abc", "999999", "true"])
def test_unknown_service_is_422(anonymous_api, clinic, service):
    response = anonymous_api.get(f"/api/v1/orgs/clinic/slots?service={service}&date=2026-11-30")

    assert response.status_code == 422
    assert response.json["error"] == "invalid"
    assert list(response.json["fields"]) == ["service"]


def test_another_organisations_service_is_422(anonymous_api, clinic):
    other = factories.make_org("elsewhere")
    theirs = factories.make_service(other, [factories.make_provider(other)], "Theirs")

    response = slots(anonymous_api, theirs, "2026-11-30")

    assert response.status_code == 422
    assert list(response.json["fields"]) == ["service"]


def test_inactive_service_has_no_slots(anonymous_api, clinic):
    Service.update(active=False).where(Service.id == clinic["assessment"].id).execute()

    response = slots(anonymous_api, clinic["assessment"], "2026-11-30")

    assert response.status_code == 422
    assert list(response.json["fields"]) == ["service"]


@pytest.mark.parametrize("who", ["tom", "abc", "999999"])
def test_provider_who_does_not_offer_the_service_is_422(anonymous_api, clinic, who):
    provider = str(clinic[who].id) if who in clinic else who

    response = slots(anonymous_api, clinic["assessment"], "2026-11-30", provider=provider)

    assert response.status_code == 422
    assert list(response.json["fields"]) == ["provider"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date=9999-12-31", "date"),
        ("date=9999-12-20&days=31", "date"),
        ("date=0001-01-01", "date"),
        ("date=0001-01-02", "date"),
        ("date=2026-11-30&provider=99999999999999999999", "provider"),
    ],
)
def test_dates_and_ids_out_of_range_are_422(anonymous_api, clinic, query, field):
    response = anonymous_api.get(
        f"/api/v1/orgs/clinic/slots?service={clinic['follow_up'].id}&{query}"
    )

    assert response.status_code == 422
    assert list(response.json["fields"]) == [field]


def test_huge_service_id_is_422(anonymous_api, clinic):
    response = anonymous_api.get(
        "/api/v1/orgs/clinic/slots?service=99999999999999999999&date=2026-11-30"
    )

    assert response.status_code == 422
    assert list(response.json["fields"]) == ["service"]

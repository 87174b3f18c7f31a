from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def test_book_a_listed_slot_then_see_it(customer_api, clinic):
    service = clinic["follow_up"]
    slots = customer_api.get(f"/api/v1/orgs/clinic/slots?service={service.id}&date=2026-11-30")
    assert slots.status_code == 200
    first = slots.json["slots"][0]
    assert first["start"] == "2026-11-30T09:00:00+00:00"

    made = customer_api.post(
        "/api/v1/bookings", json={"service": service.id, "start": first["start"]}
    )
    assert made.status_code == 201, made.json
    assert made.json["start"] == first["start"]
    assert made.json["can_cancel_until"] == "2026-11-29T09:00:00+00:00"

    again = customer_api.post(
        "/api/v1/bookings",
        json={"service": service.id, "start": first["start"], "provider": first["provider"]},
    )
    assert again.status_code == 409
    assert again.json["error"] == "slot_taken"
    assert again.json["alternatives"]

    mine = customer_api.get("/api/v1/bookings")
    assert [b["id"] for b in mine.json] == [made.json["id"]]
    start = datetime.fromisoformat(mine.json[0]["start"]).astimezone(LONDON)
    assert (start.hour, start.minute) == (9, 0)

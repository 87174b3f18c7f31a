"""Time zones as people say them (scheduling/zones.py), in winter and summer, for zones
with letters for their abbreviation and zones with only an offset."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import available_timezones

import pytest

from scheduling.zones import canonical_zones, gmt_offset, place, zone_choices, zone_label

WINTER = datetime(2026, 12, 4, 12, tzinfo=UTC)  # northern winter, Lord Howe's summer
SUMMER = datetime(2026, 7, 3, 12, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "at", "expected"),
    [
        ("Europe/London", WINTER, "London time (GMT)"),
        ("Europe/London", SUMMER, "London time (BST)"),
        ("America/New_York", WINTER, "New York time (EST)"),
        ("America/New_York", SUMMER, "New York time (EDT)"),
        # IST says India, Israel and Ireland: Kolkata gets its offset, all year.
        ("Asia/Kolkata", WINTER, "Kolkata time (GMT+5:30)"),
        ("Asia/Kolkata", SUMMER, "Kolkata time (GMT+5:30)"),
        # Lord Howe's abbreviations are only numbers, and its DST is half an hour.
        ("Australia/Lord_Howe", WINTER, "Lord Howe time (GMT+11:00)"),
        ("Australia/Lord_Howe", SUMMER, "Lord Howe time (GMT+10:30)"),
        ("America/Sao_Paulo", WINTER, "Sao Paulo time (GMT\u22123:00)"),
        ("Asia/Shanghai", WINTER, "Shanghai time (GMT+8:00)"),  # not CST: that is Chicago's
        ("America/Chicago", WINTER, "Chicago time (CST)"),
        ("America/Argentina/Buenos_Aires", WINTER, "Buenos Aires, Argentina time (GMT\u22123:00)"),
        ("UTC", WINTER, "UTC"),
        ("Etc/GMT+5", WINTER, "GMT\u22125:00"),  # five hours behind, whatever its name says
        ("US/Eastern", SUMMER, "Eastern time (EDT)"),  # a legacy id a business may still have
    ],
)
def test_zone_label(zone, at, expected):
    assert zone_label(zone, at) == expected


@pytest.mark.parametrize(
    ("zone", "before", "after", "change"),
    [
        # The label changes at the very instant the clocks do.
        ("Europe/London", "London time (GMT)", "London time (BST)", utc(2026, 3, 29, 1)),
        ("Europe/London", "London time (BST)", "London time (GMT)", utc(2026, 10, 25, 1)),
        ("America/New_York", "New York time (EST)", "New York time (EDT)", utc(2026, 3, 8, 7)),
        # Lord Howe: 02:00 +10:30 on 4 October becomes 02:30 +11:00 (15:30Z the day before).
        (
            "Australia/Lord_Howe",
            "Lord Howe time (GMT+10:30)",
            "Lord Howe time (GMT+11:00)",
            utc(2026, 10, 3, 15, 30),
        ),
    ],
)
def test_zone_label_changes_with_the_clocks(zone, before, after, change):
    assert zone_label(zone, change - timedelta(seconds=1)) == before
    assert zone_label(zone, change) == after


def test_a_day_is_labelled_at_its_noon():
    assert zone_label("Europe/London", date(2026, 3, 29)) == "London time (BST)"
    assert zone_label("Europe/London", date(2026, 3, 28)) == "London time (GMT)"
    assert zone_label("Australia/Lord_Howe", date(2026, 10, 4)) == "Lord Howe time (GMT+11:00)"


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(0, "GMT+0:00"), (330, "GMT+5:30"), (-300, "GMT\u22125:00"), (-210, "GMT\u22123:30")],
)
def test_gmt_offset(minutes, expected):
    assert gmt_offset(timedelta(minutes=minutes)) == expected


def test_place():
    assert place("America/New_York") == "New York"
    assert place("America/North_Dakota/New_Salem") == "New Salem, North Dakota"
    assert place("Etc/UTC") == "UTC"


def test_the_list_is_one_zone_per_place_without_legacy_aliases():
    zones = canonical_zones()
    assert {"Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"} <= zones
    assert {"Europe/Amsterdam", "Europe/Oslo", "UTC"} <= zones  # links now, but places
    for legacy in ("US/Eastern", "GB", "Etc/GMT+5", "Asia/Calcutta", "Europe/Belfast"):
        assert legacy not in zones
    assert zones <= available_timezones()
    assert 350 < len(zones) < 450


def test_choices_are_in_order_of_offset_then_name():
    choices = zone_choices(WINTER)
    labels = [c.label for c in choices]
    assert "London — GMT+0:00" in labels
    assert "New York — GMT\u22125:00" in labels
    assert "Kolkata — GMT+5:30" in labels
    assert "Lord Howe — GMT+11:00" in labels
    assert [(c.offset, c.label) for c in choices] == sorted((c.offset, c.label) for c in choices)
    assert labels.index("New York — GMT\u22125:00") < labels.index("London — GMT+0:00")
    assert labels.index("London — GMT+0:00") < labels.index("Kolkata — GMT+5:30")
    # Same offset: by name.
    assert labels.index("Dublin — GMT+0:00") < labels.index("London — GMT+0:00")
    assert "US/Eastern" not in {c.zone for c in choices}


def test_choices_follow_daylight_saving_time():
    labels = {c.zone: c.label for c in zone_choices(SUMMER)}
    assert labels["Europe/London"] == "London — GMT+1:00"
    assert labels["America/New_York"] == "New York — GMT\u22124:00"
    assert labels["Australia/Lord_Howe"] == "Lord Howe — GMT+10:30"


def test_a_stored_legacy_zone_is_kept_in_the_list():
    kept = [c for c in zone_choices(WINTER, keep="US/Eastern") if c.zone == "US/Eastern"]
    assert [c.label for c in kept] == ["Eastern — GMT\u22125:00"]


def test_choices_can_be_searched_by_country_abbreviation_and_offset():
    search = {c.zone: c.search for c in zone_choices(WINTER)}
    assert "india" in search["Asia/Kolkata"]
    assert "britain (uk)" in search["Europe/London"]
    assert "est" in search["America/New_York"].split()
    assert "gmt-5:00" in search["America/New_York"]  # typed with a hyphen, found

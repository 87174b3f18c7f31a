"""Time zones as people say them: "London time (GMT)", "Kolkata time (GMT+5:30)", and the
list a business picks its zone from ("London — GMT+0:00"), in order of offset.

A zone's abbreviation and offset change with daylight saving time, so every label here
is for an instant (or a day) the caller gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

MINUS = "\u2212"  # a real minus sign: read as "minus", and as wide as the plus

# Abbreviations people read without a second thought, each with the offset it means.
# tzdata has others that are only numbers ("-03", "+1030") or that say different things
# in different places (IST is India, Israel and Ireland; CST is Chicago, China and
# Cuba): those zones get their offset instead, which nobody can misread.
_KNOWN_ABBREVIATIONS = {
    ("UTC", 0),
    ("GMT", 0),
    ("BST", 60),
    ("WET", 0),
    ("WEST", 60),
    ("CET", 60),
    ("CEST", 120),
    ("EET", 120),
    ("EEST", 180),
    ("MSK", 180),
    ("SAST", 120),
    ("JST", 540),
    ("KST", 540),
    ("HKT", 480),
    ("AWST", 480),
    ("ACST", 570),
    ("ACDT", 630),
    ("AEST", 600),
    ("AEDT", 660),
    ("NZST", 720),
    ("NZDT", 780),
    ("HST", -600),
    ("AKST", -540),
    ("AKDT", -480),
    ("PST", -480),
    ("PDT", -420),
    ("MST", -420),
    ("MDT", -360),
    ("CST", -360),
    ("CDT", -300),
    ("EST", -300),
    ("EDT", -240),
    ("AST", -240),
    ("ADT", -180),
    ("NST", -210),
    ("NDT", -150),
}
_UNIVERSAL = {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Zulu", "Etc/Universal", "Etc/Zulu"}


@dataclass(frozen=True)
class ZoneChoice:
    zone: str  # the IANA id, what is stored
    label: str  # "London — GMT+0:00"
    offset: timedelta
    search: str  # lower-case words a search may match: id, place, country, abbreviation


def place(zone: str) -> str:
    """The place a zone is named after: "London", "New York", "Center, North Dakota"."""
    if zone in _UNIVERSAL:
        return "UTC"
    parts = zone.replace("_", " ").split("/")
    if len(parts) > 2:
        return f"{parts[-1]}, {parts[-2]}"
    return parts[-1]


def gmt_offset(offset: timedelta) -> str:
    """ "GMT+0:00", "GMT+5:30", "GMT−5:00"."""
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else MINUS
    hours, minutes = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours}:{minutes:02d}"


def zone_label(zone: str, at: datetime | date) -> str:
    """What a customer reads for ``zone`` at ``at``: "London time (GMT)" in winter and
    "London time (BST)" in summer; "Kolkata time (GMT+5:30)" where the abbreviation is
    only numbers or means different things in different places. A day means its noon."""
    local = _local(zone, at)
    offset = local.utcoffset() or timedelta()
    abbreviation = local.tzname() or ""
    if zone in _UNIVERSAL:
        return "UTC"
    if zone.startswith("Etc/"):  # "Etc/GMT+5" is five hours *behind*: say it the clear way
        return gmt_offset(offset)
    if (abbreviation, offset // timedelta(minutes=1)) not in _KNOWN_ABBREVIATIONS:
        abbreviation = gmt_offset(offset)
    return f"{place(zone)} time ({abbreviation})"


def _local(zone: str, at: datetime | date) -> datetime:
    tz = ZoneInfo(zone)
    if isinstance(at, datetime):
        return at.astimezone(tz)
    return datetime.combine(at, time(12), tzinfo=tz)


@cache
def _zone_table() -> dict[str, str]:
    """Each zone a place is in (tzdata's zone.tab, one line a country and zone), with
    the names of the countries it serves."""
    tables = resources.files("tzdata.zoneinfo")
    countries = dict(
        line.split("\t", 1)
        for line in tables.joinpath("iso3166.tab").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    served: dict[str, list[str]] = {}
    for line in tables.joinpath("zone.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            codes, _, zone = line.split("\t")[:3]
            served.setdefault(zone, []).extend(countries.get(c, c) for c in codes.split(","))
    return {zone: ", ".join(names) for zone, names in served.items()}


@cache
def canonical_zones() -> frozenset[str]:
    """The zones a business chooses from: one per place people live (zone.tab's), and
    UTC. Not the legacy aliases ("US/Eastern", "GB"), nor the "Etc/" offsets, nor links
    kept for old names ("Asia/Calcutta"). Only those this system can load."""
    return frozenset(_zone_table()).intersection(available_timezones()) | {"UTC"}


def zone_choices(now: datetime, keep: str | None = None) -> list[ZoneChoice]:
    """Every canonical zone (and ``keep``, a stored zone that may be a legacy alias) as
    "London — GMT+0:00" at ``now``, from the furthest west to the furthest east, places
    with the same offset by name."""
    zones = canonical_zones() | ({keep} if keep else set())
    table = _zone_table()
    choices = []
    for zone in zones:
        local = now.astimezone(ZoneInfo(zone))
        offset = local.utcoffset() or timedelta()
        gmt = gmt_offset(offset)
        words = (zone, place(zone), table.get(zone, ""), local.tzname() or "", gmt)
        choices.append(
            ZoneChoice(
                zone=zone,
                label=gmt if zone.startswith("Etc/") else f"{place(zone)} — {gmt}",
                offset=offset,
                search=" ".join(words).replace("_", " ").replace(MINUS, "-").lower(),
            )
        )
    return sorted(choices, key=lambda c: (c.offset, c.label, c.zone))

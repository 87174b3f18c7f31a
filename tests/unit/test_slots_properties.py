"""Property tests: the engine against a minute-by-minute brute force over UTC.

The brute force never calls the engine. It walks every UTC minute around the
requested days, reads the local wall clock with ``astimezone`` and decides from
that alone which minutes are working time and which instants are bookable.

Working time for hours (open, close) on local day d runs from the first minute of
d whose wall clock reads >= open to just after the last minute of d whose wall
clock reads < close. That is the documented meaning: an ambiguous opening is its
first occurrence, an ambiguous closing its second, a time in the spring-forward
gap is the moment the clocks jump.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling import (
    DateOverride,
    Interval,
    ProviderCalendar,
    ServiceRules,
    WeeklyRule,
    available_slots,
    available_slots_any,
    working_intervals,
)
from scheduling.localtime import boundary, instants

ZONES = {
    name: ZoneInfo(name)
    for name in ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")
}
MINUTE = timedelta(minutes=1)

# Transition days of 2026 and their neighbours, so ranges often cross them.
TRANSITION_DAYS = [
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 4, 5),
    date(2026, 10, 4),
]
SPECIAL_DAYS = sorted(
    {d + timedelta(days=k) for d in TRANSITION_DAYS for k in (-1, 0)}
    | {date(2026, 1, 1), date(2026, 12, 31), date(2026, 6, 30)}
)

PROPERTY_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- strategies -----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    tz: ZoneInfo
    first_day: date
    last_day: date
    calendar: ProviderCalendar
    service: ServiceRules
    now: datetime


wall_minutes = st.one_of(
    st.integers(0, 1439),
    st.integers(0, 300),  # the small hours, where clocks change
)


@st.composite
def hours(draw) -> tuple[time, time]:
    opens = draw(wall_minutes)
    closes = min(1439, opens + draw(st.integers(1, 720)))
    if closes <= opens:
        opens = closes - 1
    return time(opens // 60, opens % 60), time(closes // 60, closes % 60)


@st.composite
def cases(draw, *, with_busy: bool = True) -> Case:
    tz = draw(st.sampled_from(list(ZONES.values())))
    first_day = draw(
        st.one_of(
            st.sampled_from(SPECIAL_DAYS),
            st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
        )
    )
    last_day = first_day + timedelta(days=draw(st.integers(0, 2)))

    rules = []
    for _ in range(draw(st.integers(1, 5))):
        # Mostly weekdays inside the range, so the rules matter.
        span = (last_day - first_day).days
        offset = draw(st.sampled_from([*range(span + 1)] * 3 + list(range(7))))
        weekday = (first_day.weekday() + offset) % 7
        opens, closes = draw(hours())
        rules.append(WeeklyRule(weekday, opens, closes))

    overrides = []
    if draw(st.booleans()):
        day = first_day + timedelta(days=draw(st.integers(0, (last_day - first_day).days)))
        overrides.append(DateOverride(day, tuple(draw(st.lists(hours(), max_size=2)))))

    busy = []
    if with_busy:
        origin = datetime.combine(first_day, time(), tzinfo=UTC)
        for _ in range(draw(st.integers(0, 6))):
            start = origin + draw(st.integers(-24 * 60, 4 * 24 * 60)) * MINUTE
            length = draw(st.integers(1, 240) | st.integers(240, 900))
            busy.append(Interval(start, start + length * MINUTE))

    service = ServiceRules(
        duration=draw(st.integers(5, 180)) * MINUTE,
        buffer_before=draw(st.integers(0, 30)) * MINUTE,
        buffer_after=draw(st.integers(0, 30)) * MINUTE,
        min_notice=draw(st.sampled_from([0, 0, 30, 120, 24 * 60])) * MINUTE,
        max_days_ahead=draw(st.sampled_from([365] * 4 + [0, 1, 2, 3])),
        step=draw(st.sampled_from([5, 10, 15, 20, 30, 60])) * MINUTE,
    )
    now_origin = datetime.combine(first_day, time(), tzinfo=UTC)
    # Mostly before the range; sometimes inside it or after it.
    now = now_origin + timedelta(
        seconds=draw(st.one_of(st.integers(-3 * 86400, 0), st.integers(-86400, 2 * 86400)))
    )
    calendar = ProviderCalendar(7, tuple(rules), tuple(overrides), tuple(busy))
    return Case(tz, first_day, last_day, calendar, service, now)


OWN_TRANSITIONS = [
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Europe/London", date(2026, 3, 29)),
    ("Europe/London", date(2026, 10, 25)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),
]


@st.composite
def transition_day_cases(draw) -> Case:
    """A zone on its own transition day, with hours around the change wide enough
    that at least one slot fits, and nothing busy."""
    name, day = draw(st.sampled_from(OWN_TRANSITIONS))
    service = ServiceRules(
        duration=draw(st.integers(5, 180)) * MINUTE,
        buffer_before=draw(st.integers(0, 30)) * MINUTE,
        buffer_after=draw(st.integers(0, 30)) * MINUTE,
        step=draw(st.sampled_from([5, 10, 15, 20, 30, 60])) * MINUTE,
    )
    block = (service.buffer_before + service.duration + service.buffer_after) // MINUTE
    # Real time can be an hour shorter than wall time, and the grid can lose up to a step.
    opens = draw(st.integers(0, 180))
    closes = min(1439, opens + block + 120 + draw(st.integers(0, 240)))
    rules = (
        WeeklyRule(day.weekday(), time(opens // 60, opens % 60), time(closes // 60, closes % 60)),
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Case(ZONES[name], day, day, ProviderCalendar(7, rules), service, now)


# --- the brute force ------------------------------------------------------------


@lru_cache(maxsize=64)
def minute_walls(tz: ZoneInfo, first_day: date, last_day: date):
    """Every UTC minute around the days, with its local date and minute of day."""
    origin = datetime.combine(first_day - timedelta(days=1), time(), tzinfo=UTC)
    count = ((last_day - first_day).days + 3) * 1440
    walls = []
    for i in range(count):
        local = (origin + i * MINUTE).astimezone(tz)
        walls.append((local.date(), local.hour * 60 + local.minute))
    return origin, walls


def hours_on(calendar: ProviderCalendar, day: date) -> list[tuple[time, time]]:
    for override in calendar.overrides:
        if override.day == day:
            return list(override.hours)
    return [(r.start, r.end) for r in calendar.rules if r.weekday == day.weekday()]


def as_minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def working_minutes(case: Case) -> tuple[datetime, list[bool]]:
    origin, walls = minute_walls(case.tz, case.first_day, case.last_day)
    working = [False] * len(walls)
    day = case.first_day
    while day <= case.last_day:
        on_day = [i for i, (d, _) in enumerate(walls) if d == day]
        for opens, closes in hours_on(case.calendar, day):
            after_open = [i for i in on_day if walls[i][1] >= as_minutes(opens)]
            before_close = [i for i in on_day if walls[i][1] < as_minutes(closes)]
            if after_open and before_close:
                for i in range(after_open[0], before_close[-1] + 1):
                    working[i] = True
        day += timedelta(days=1)
    return origin, working


def expected_starts(case: Case) -> list[datetime]:
    origin, working = working_minutes(case)
    _, walls = minute_walls(case.tz, case.first_day, case.last_day)
    # free_until[i]: index of the first non-working minute at or after i.
    free_until = [len(working)] * (len(working) + 1)
    for i in range(len(working) - 1, -1, -1):
        free_until[i] = free_until[i + 1] if working[i] else i
    svc = case.service
    now_local_date = case.now.astimezone(case.tz).date()
    horizon = now_local_date + timedelta(days=svc.max_days_ahead)
    step = svc.step // MINUTE
    before = svc.buffer_before // MINUTE
    length = (svc.buffer_before + svc.duration + svc.buffer_after) // MINUTE
    found = []
    for i, (day, minute_of_day) in enumerate(walls):
        start = origin + i * MINUTE
        if minute_of_day % step or not case.first_day <= day <= min(case.last_day, horizon):
            continue
        if start <= case.now or start < case.now + svc.min_notice:  # begun, or too soon
            continue
        first = i - before
        if first < 0 or free_until[first] < first + length:
            continue
        block = svc.block(start)
        if any(block.start < b.end and b.start < block.end for b in case.calendar.busy):
            continue
        found.append(start)
    return found


def engine_slots(case: Case):
    return available_slots(
        case.calendar, case.service, case.tz, case.first_day, case.last_day, case.now
    )


# --- properties -----------------------------------------------------------------


@PROPERTY_SETTINGS
@given(cases())
def test_slots_respect_every_invariant(case):
    slots = engine_slots(case)
    svc, tz = case.service, case.tz
    starts = [s.start for s in slots]
    assert starts == sorted(set(starts)), "sorted and unique"
    work = working_intervals(
        case.calendar.rules, case.calendar.overrides, case.first_day, case.last_day, tz
    )
    horizon = case.now.astimezone(tz).date() + timedelta(days=svc.max_days_ahead)
    for slot in slots:
        assert slot.provider_id == 7
        assert slot.start.utcoffset() == timedelta(0)
        assert slot.end == slot.start + svc.duration
        block = svc.block(slot.start)
        assert not any(block.overlaps(b) for b in case.calendar.busy)
        assert any(w.contains(block) for w in work)
        local = slot.start.astimezone(tz)
        assert (local.hour * 60 + local.minute) * MINUTE % svc.step == timedelta(0)
        assert local.second == local.microsecond == 0
        assert slot.start >= case.now + svc.min_notice
        assert slot.start > case.now
        assert case.first_day <= local.date() <= min(case.last_day, horizon)


@PROPERTY_SETTINGS
@given(cases(with_busy=False))
def test_without_busy_time_every_fitting_grid_instant_is_offered(case):
    assert [s.start for s in engine_slots(case)] == expected_starts(case)


@PROPERTY_SETTINGS
@given(cases())
def test_with_busy_time_exactly_the_free_fitting_grid_instants_are_offered(case):
    assert [s.start for s in engine_slots(case)] == expected_starts(case)


@PROPERTY_SETTINGS
@given(transition_day_cases())
def test_on_transition_days_every_fitting_grid_instant_is_offered(case):
    expected = expected_starts(case)
    assert expected, "the strategy should always leave room for a slot"
    assert [s.start for s in engine_slots(case)] == expected


@PROPERTY_SETTINGS
@given(cases(with_busy=False))
def test_working_intervals_match_the_wall_clock(case):
    origin, working = working_minutes(case)
    expected = []
    for i, is_working in enumerate(working):
        minute = origin + i * MINUTE
        if is_working and expected and expected[-1][1] == minute:
            expected[-1][1] = minute + MINUTE
        elif is_working:
            expected.append([minute, minute + MINUTE])
    got = working_intervals(
        case.calendar.rules, case.calendar.overrides, case.first_day, case.last_day, case.tz
    )
    assert [(w.start, w.end) for w in got] == [tuple(e) for e in expected]


@settings(max_examples=40, deadline=None)
@given(cases(), st.integers(2, 4), st.randoms(use_true_random=False))
def test_any_provider_offers_the_union_to_the_first_free_provider(case, count, rnd):
    calendars = []
    for provider_id in range(1, count + 1):
        busy = list(case.calendar.busy)
        rnd.shuffle(busy)
        calendars.append(
            ProviderCalendar(
                provider_id,
                case.calendar.rules[: rnd.randint(0, len(case.calendar.rules))],
                case.calendar.overrides,
                tuple(busy[: rnd.randint(0, len(busy))]),
            )
        )
    rnd.shuffle(calendars)
    args = (case.service, case.tz, case.first_day, case.last_day, case.now)
    merged = available_slots_any(calendars, *args)
    each = [{s.start for s in available_slots(c, *args)} for c in calendars]
    assert [s.start for s in merged] == sorted(set().union(*each))
    for slot in merged:
        owner = next(c for c, starts in zip(calendars, each, strict=True) if slot.start in starts)
        assert slot.provider_id == owner.provider_id
        assert slot.end == slot.start + case.service.duration


# --- localtime against the same brute force -------------------------------------


naive_minutes = st.one_of(
    st.builds(
        lambda day, minute: datetime.combine(day, time(minute // 60, minute % 60)),
        st.sampled_from(TRANSITION_DAYS),
        st.integers(0, 300),
    ),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
)


def minutes_showing(naive: datetime, tz: ZoneInfo) -> list[datetime]:
    """UTC minutes within 15 hours whose wall clock in ``tz`` reads ``naive``."""
    centre = naive.replace(tzinfo=UTC)
    found = []
    for k in range(-15 * 60, 15 * 60 + 1):
        instant = centre + k * MINUTE
        if instant.astimezone(tz).replace(tzinfo=None) == naive:
            found.append(instant)
    return found


@settings(max_examples=150, deadline=None)
@given(naive_minutes, st.sampled_from(list(ZONES.values())))
def test_instants_are_exactly_the_minutes_showing_that_wall_time(naive, tz):
    assert list(instants(naive, tz)) == minutes_showing(naive, tz)


@settings(max_examples=150, deadline=None)
@given(naive_minutes, st.sampled_from(list(ZONES.values())))
def test_boundary_is_first_reading_at_or_after_open_and_last_before_close(naive, tz):
    day, wall = naive.date(), naive.time()
    centre = naive.replace(tzinfo=UTC)
    window = [centre + k * MINUTE for k in range(-15 * 60, 15 * 60 + 1)]
    readings = [(m, m.astimezone(tz).replace(tzinfo=None)) for m in window]
    on_day = [(m, r) for m, r in readings if r.date() == day]
    opening = next(m for m, r in on_day if r >= naive)
    closing = [m for m, r in on_day if r < naive][-1] + MINUTE if wall != time(0) else None
    assert boundary(day, wall, tz, closing=False) == opening
    if closing is not None:
        assert boundary(day, wall, tz, closing=True) == closing


def test_special_days_fall_on_the_transitions():
    # Guard the sampling list: each transition day really has a 23-, 25- or 23.5/24.5-hour day.
    for day in TRANSITION_DAYS:
        lengths = set()
        for tz in ZONES.values():
            start = datetime.combine(day, time(), tzinfo=tz)
            end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
            lengths.add(end.astimezone(UTC) - start.astimezone(UTC))
        assert lengths != {timedelta(hours=24)}, day


def test_brute_force_agrees_with_a_hand_worked_case():
    # New York fall-back, 00:00–04:00, 30-minute service on a 30-minute grid: 10 starts.
    case = Case(
        ZONES["America/New_York"],
        date(2026, 11, 1),
        date(2026, 11, 1),
        ProviderCalendar(7, (WeeklyRule(6, time(0), time(4)),)),
        ServiceRules(duration=30 * MINUTE, step=30 * MINUTE),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    first = datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert expected_starts(case) == [first + i * 30 * MINUTE for i in range(10)]

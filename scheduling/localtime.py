"""Wall-clock time in a zone versus instants in UTC, with the DST edges made explicit.

A local wall-clock time can name no instant (the spring-forward gap) or two
(the fall-back overlap). The functions here say which instant we mean.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_ONE_SECOND = timedelta(seconds=1)


def instants(naive: datetime, tz: ZoneInfo) -> tuple[datetime, ...]:
    """Every UTC instant the wall-clock time ``naive`` names in ``tz``: none, one or two."""
    earlier = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    later = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if earlier == later:
        return (earlier,)
    if earlier.astimezone(tz).replace(tzinfo=None) != naive:
        return ()  # in a spring-forward gap
    return tuple(sorted((earlier, later)))


def boundary(day: date, wall: time, tz: ZoneInfo, *, closing: bool) -> datetime:
    """The UTC instant at which a working interval opens (or closes) at ``wall`` on ``day``.

    An ambiguous time opens at its first occurrence and closes at its second, so
    an interval that spans the fall-back hour keeps all of it; except a close at the
    very first minute of the repeated hour, which the clocks pass before the repeat:
    closing at its second occurrence would add the whole repeated hour, read past the
    close. A time in a gap means the moment the clocks jump, which is when the gap ends.
    """
    naive = datetime.combine(day, wall)
    found = instants(naive, tz)
    if not found:
        return _transition(
            naive.replace(tzinfo=tz, fold=1).astimezone(UTC),
            naive.replace(tzinfo=tz, fold=0).astimezone(UTC),
            tz,
        )
    if not closing:
        return found[0]
    last = found[-1]
    just_before = (last - _ONE_SECOND).astimezone(tz).replace(tzinfo=None)
    return last if just_before < naive else found[0]


def offset_at(instant: datetime, tz: ZoneInfo) -> timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def transitions_between(start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """Instants in (start, end) at which ``tz`` changes its UTC offset.

    Zones change offset at most once in any span shorter than a couple of days,
    which is all we ask of this (a working interval, or one local day).
    """
    if end - start > timedelta(days=2):
        raise ValueError("span too long to look for offset changes")
    if offset_at(start, tz) == offset_at(end, tz):
        return []
    return [_transition(start, end, tz)]


def _transition(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (before, after] with the offset that ``after`` has."""
    target = offset_at(after, tz)
    while after - before > _ONE_SECOND:
        middle = before + (after - before) / 2
        if offset_at(middle, tz) == target:
            after = middle
        else:
            before = middle
    # Offsets change on whole seconds, and now before < change <= after < before + 1 s.
    return after.replace(microsecond=0)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()

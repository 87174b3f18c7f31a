"""The scheduling engine: pure Python, no Flask, no database.

Everything here works on aware UTC datetimes and takes ``now`` as an argument.
Local wall-clock time (weekly rules, overrides) is turned into UTC instants only
through :mod:`scheduling.localtime`.
"""

from scheduling.policy import change_deadline, customer_may_change
from scheduling.slots import available_slots, available_slots_any, working_intervals
from scheduling.types import (
    DateOverride,
    Interval,
    ProviderCalendar,
    ServiceRules,
    Slot,
    WeeklyRule,
)

__all__ = [
    "DateOverride",
    "Interval",
    "ProviderCalendar",
    "ServiceRules",
    "Slot",
    "WeeklyRule",
    "available_slots",
    "available_slots_any",
    "change_deadline",
    "customer_may_change",
    "working_intervals",
]

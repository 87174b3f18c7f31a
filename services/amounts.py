"""Amounts of money as staff type them ("45", "45.50") and as forms show them back.

Shared by every form that takes an amount: a service's price and deposit
(services/workspace), a payment taken at the venue (services/payments/venue.py). Every
currency Kairos offers has two decimal places; amounts are kept in its smallest unit.
"""

from __future__ import annotations

import re
from decimal import Decimal

from services.errors import Invalid

MAX_CENTS = 99_999_99  # the most any one amount may be: 99,999.99
_AMOUNT = re.compile(r"([0-9]*)(?:\.([0-9]*))?")


def amount_text(cents: int) -> str:
    """45 for 4500 cents, 45.50 for 4550: as a person would type it."""
    whole, part = divmod(cents, 100)
    return f"{whole}.{part:02d}" if part else str(whole)


def parse_amount(value: str | None, field: str, *, what: str, blank: str) -> int:
    """Cents for an amount typed in currency units: "45" or "45.50" → 4500 or 4550.
    ``what`` names the amount in the messages ("price"), ``blank`` is the message for
    nothing typed; Invalid names ``field``."""
    text = (value or "").strip()
    if not text:
        raise Invalid({field: blank})
    if text.startswith("-"):
        raise Invalid({field: f"The {what} can't be negative."})
    match = _AMOUNT.fullmatch(text)
    if not match or not (match.group(1) or match.group(2)):
        raise Invalid({field: f"Type the {what} as a number, like 45 or 45.50."})
    if len(match.group(2) or "") > 2:
        raise Invalid({field: "Use at most 2 decimal places, like 45.50."})
    if len(match.group(1)) > 7:
        raise Invalid({field: f"Use at most {amount_text(MAX_CENTS)}."})
    cents = int(Decimal(text if match.group(1) else "0" + text) * 100)
    if cents > MAX_CENTS:
        raise Invalid({field: f"Use at most {amount_text(MAX_CENTS)}."})
    return cents

"""Amounts of money as staff type them ("45", "45.50", "45,50", "1.234,50") and as forms
show them back.

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
_SPACES = re.compile(r"[ \u00a0\u202f']")  # group separators: space, no-break, thin, Swiss '
_GROUPED = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{3})+")  # 1,234 or 1.234.567, one mark


def amount_text(cents: int) -> str:
    """45 for 4500 cents, 45.50 for 4550: as a person would type it."""
    whole, part = divmod(cents, 100)
    return f"{whole}.{part:02d}" if part else str(whole)


def parse_amount(value: str | None, field: str, *, what: str, blank: str) -> int:
    """Cents for an amount typed in currency units: "45" or "45.50" → 4500 or 4550.
    ``what`` names the amount in the messages ("price"), ``blank`` is the message for
    nothing typed; Invalid names ``field``."""
    text = _with_point((value or "").strip())
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


def _with_point(text: str) -> str:
    """The amount with a decimal point and no group separators, however the locale wrote
    it: "45,50" and "1.234,50" as "45.50" and "1234.50"; "1,234" (three digits after one
    mark) as grouped thousands. What cannot be read so is left for the checks to refuse."""
    text = _SPACES.sub("", text)
    if "," in text and "." in text:  # the last mark is the decimal one
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        group = "." if decimal == "," else ","
        whole, _, part = text.rpartition(decimal)
        if whole.count(decimal) or not _GROUPED.fullmatch(whole.lstrip("-")):
            return text  # more than one decimal mark, or odd groups: refused below
        return whole.replace(group, "") + "." + part
    mark = "," if "," in text else "." if "." in text else ""
    if mark and _GROUPED.fullmatch(text.lstrip("-")) and (mark == "," or text.count(".") > 1):
        return text.replace(mark, "")
    return text.replace(",", ".") if text.count(",") == 1 else text

"""Amounts as staff type them, wherever they live: a decimal point or a decimal comma
("45,50" where the locale writes it so), digits grouped by commas, points or spaces;
and what is refused, with a message that says how to type it."""

from __future__ import annotations

import pytest

from services.amounts import parse_amount
from services.errors import Invalid


def cents(text: str) -> int:
    return parse_amount(text, "price", what="price", blank="Enter a price.")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("45", 4500),
        ("45.50", 4550),
        ("45,50", 4550),
        ("45,5", 4550),
        (",5", 50),
        ("1,234", 123400),
        ("45,505", 4550500),  # grouped thousands, as "1,234"
        ("1,234.50", 123450),
        ("1.234,50", 123450),
        ("1 234,50", 123450),
        ("1\u202f234,50", 123450),
        ("12.345.678", None),
        (" 0 ", 0),
    ],
)
def test_points_commas_and_groups(typed, expected):
    if expected is None:
        with pytest.raises(Invalid):
            cents(typed)
    else:
        assert cents(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a price."),
        ("-5", "The price can't be negative."),
        ("4,5,6", "Type the price as a number, like 45 or 45.50."),
        ("45.5.0", "Type the price as a number, like 45 or 45.50."),
        ("1.234,5,0", "Type the price as a number, like 45 or 45.50."),
        ("45.505", "Use at most 2 decimal places, like 45.50."),
        ("abc", "Type the price as a number, like 45 or 45.50."),
        ("100000", "Use at most 99999.99."),
    ],
)
def test_what_is_refused_says_how(typed, message):
    with pytest.raises(Invalid) as refused:
        cents(typed)
    assert refused.value.fields == {"price": message}

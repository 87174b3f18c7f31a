"""How amounts and times read, in pages, emails, push and SMS alike."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "AUD": "A$", "CAD": "C$", "INR": "₹"}


def money(cents: int, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    amount = f"{cents / 100:,.2f}".removesuffix(".00")
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def local_time(instant: datetime, timezone: str, pattern: str = "%H:%M") -> str:
    """``instant`` on the organisation's clock; pattern "iso" gives ISO 8601 with offset."""
    local = instant.astimezone(ZoneInfo(timezone))
    return local.isoformat() if pattern == "iso" else local.strftime(pattern)


def day_label(instant: datetime, timezone: str) -> str:
    """'Mon 30 Nov' in the organisation's zone."""
    local = instant.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b}"


def when(instant: datetime, timezone: str) -> str:
    """'Thu 26 Nov at 10:00' on the clock of ``timezone``."""
    return f"{day_label(instant, timezone)} at {local_time(instant, timezone)}"


# What a User-Agent says, in the order to look for it: Edge, Opera and Samsung Internet
# also say "Chrome/", and Chrome and Firefox on iOS also say "Safari/".
_BROWSERS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str) -> str:
    """'Chrome on Android': enough for a person to tell their devices apart (the devices
    that get push notifications, the browsers signed in to their account)."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "A browser")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return f"{browser} on {system}" if system else browser

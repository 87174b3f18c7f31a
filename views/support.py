"""Small helpers shared by the views: the clock, reading request input, the settings a
view hands to a service, and starting and ending a signed-in session."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from flask import current_app, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_login.config import COOKIE_NAME
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from models import User
from services.accounts import sessions
from services.errors import Invalid
from services.mail import MailConfig
from services.validation import DEFAULT_REGION, LARGEST_INT

# Far from date.min and date.max, so that day arithmetic (ranges, the days either side
# of a range, zone offsets) never overflows.
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(9000, 12, 31)
OUT_OF_RANGE = f"Give a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}."


def numbers_up_to(bound: int) -> str:
    """A regular expression for the numbers 1 to ``bound``, written without leading zeros."""
    digits = str(bound)
    same_length = [
        f"{digits[:i]}[{1 if i == 0 else 0}-{int(d) - 1}]" + rf"\d{{{len(digits) - i - 1}}}"
        for i, d in enumerate(digits)
        if int(d) > (1 if i == 0 else 0)
    ]
    shorter = [rf"[1-9]\d{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    return "(?:" + "|".join([*shorter, *same_length, digits]) + ")"


class IdConverter(IntegerConverter):
    """``<id:name>`` in a route: a record's id, 1 to the largest the database holds.
    Anything else (0, a sign, 2**63 or more) does not match the route, so it is a 404
    before a view or the database driver sees it. Every route's id uses this one.

    The bound is in the regular expression, not only in ``to_python``: werkzeug picks
    the rule by its pattern first, and a value refused after that would be a 405 when
    another method's rule has the same address."""

    regex = numbers_up_to(LARGEST_INT)

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=LARGEST_INT)


# What a JSON body may be: the largest anyone sends (a booking, a push subscription) is
# well under a kilobyte.
JSON_LIMIT_BYTES, JSON_LIMIT_DEPTH = 64 * 1024, 32


def read_json() -> object | None:
    """The request's JSON body, read within limits: None when there is none or it is
    not JSON (as ``request.get_json(silent=True)``); 400 when it is nested deeper than
    JSON_LIMIT_DEPTH (the parser would recurse until Python gives up), 413 when it is
    larger than JSON_LIMIT_BYTES. (MAX_CONTENT_LENGTH caps what is read at all.) Every
    view that reads JSON reads it here."""
    if not request.is_json:
        return None
    try:
        text = request.get_data(cache=True).decode()
    except UnicodeDecodeError:
        return None
    # The depth first, within the size limit: a deep body is refused as that, at once.
    if _too_deep(text[: JSON_LIMIT_BYTES + 1], JSON_LIMIT_DEPTH):
        raise BadRequest(f"Send JSON nested at most {JSON_LIMIT_DEPTH} levels deep.")
    if len(text) > JSON_LIMIT_BYTES:
        raise RequestEntityTooLarge(f"Send at most {JSON_LIMIT_BYTES // 1024} KB of JSON.")
    try:
        return json.loads(text)
    except ValueError:  # not JSON, or a number too long to read
        return None


def read_json_object() -> dict:
    """The request's JSON body when it is an object, else an empty one (limits as
    ``read_json``)."""
    body = read_json()
    return body if isinstance(body, dict) else {}


def _too_deep(text: str, limit: int) -> bool:
    """Whether the brackets of a JSON text, outside its strings, go deeper than
    ``limit``: counted without parsing (malformed text is left to the parser), and
    stopping as soon as they do."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def absolute_url(endpoint: str, **values: object) -> str:
    """An absolute link, from the configured BASE_URL: never from the request's Host
    header, which a client could set to make us hand out links to another site."""
    return current_app.config["SETTINGS"].base_url.rstrip("/") + url_for(endpoint, **values)


def now() -> datetime:
    """The current instant, from the app's clock (tests freeze it)."""
    return current_app.config["CLOCK"]()


def parse_int(value: object, field: str, message: str) -> int:
    # A JSON 1.5 must not become 1; 1e400, NaN and Infinity are floats too.
    if isinstance(value, bool | float):
        raise Invalid({field: message})
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid({field: message}) from None
    if abs(number) > LARGEST_INT:
        raise Invalid({field: message})
    return number


def parse_date(value: str | None, field: str = "date") -> date:
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        raise Invalid({field: "Give a date as YYYY-MM-DD."}) from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise Invalid({field: OUT_OF_RANGE})
    return day


def parse_instant(value: object, field: str = "start") -> datetime:
    """An ISO 8601 time that says its UTC offset."""
    if not isinstance(value, str):
        raise Invalid({field: "Give a time in ISO 8601, with its UTC offset."})
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid({field: "Give a time in ISO 8601, with its UTC offset."}) from None
    if instant.tzinfo is None:
        raise Invalid({field: "Give the time with its UTC offset, e.g. 2026-12-01T10:00:00+00:00."})
    if not EARLIEST_DATE <= instant.date() <= LATEST_DATE:
        raise Invalid({field: OUT_OF_RANGE})
    return instant


def picker_context(shown, here: str, then: str, args: dict) -> dict:
    """What partials/_picker.html needs from a journey.Picker: the month, day and times
    shown, this page's endpoint (for the month and day links) and the endpoint a time
    leads to, both with ``args`` in their URLs."""
    return {
        "month": shown.month,
        "day": shown.day,
        "slots": shown.slots,
        "picker_endpoint": here,
        "picker_args": args,
        "slot_endpoint": then,
        "slot_args": args,
    }


def start_session(user: User, remember: bool = False, *, method: str | None = None) -> None:
    """Sign ``user`` in on this browser: a new sign-in, whose key the session cookie
    (and with ``remember`` the remember cookie) carries, made by ``method`` (see
    models.SignIn.method). Whatever this browser had before ends: nothing from before
    carries over."""
    _end_sign_in()
    started = sessions.start(
        user.id,
        remember=remember,
        user_agent=request.user_agent.string,
        address=request.remote_addr,
        now=now(),
        method=method,
    )
    continue_session(user, started)


def continue_session(user: User, sign_in: sessions.SignInKey) -> None:
    """Keep this browser signed in as ``user`` under the key of ``sign_in``: new cookies,
    a new session."""
    had_remember_cookie = _remember_cookie_name() in request.cookies
    session.clear()
    user.sign_in_key = sign_in.key
    login_user(user, remember=sign_in.remember, duration=sessions.REMEMBER_FOR)
    if had_remember_cookie and not sign_in.remember:
        session["_remember"] = "clear"  # an older sign-in's: flask-login drops it


def end_session() -> None:
    """Sign this browser out for good: its sign-in ends, so its cookies, replayed, sign
    nobody in; the session and the remember cookie go."""
    _end_sign_in()
    session.clear()
    logout_user()  # after clear(): it leaves a note in the session to drop the remember cookie


def forget_dead_session() -> None:
    """The session or remember cookie carried a sign-in that has ended or expired: drop
    both, so the browser stops sending them."""
    for name in ("_user_id", "_fresh", "_id", "_remember_seconds"):
        session.pop(name, None)
    if _remember_cookie_name() in request.cookies:
        session["_remember"] = "clear"


def _end_sign_in() -> None:
    if current_user.is_authenticated:
        sessions.end(current_user.id, current_user.sign_in_key, now())


def _remember_cookie_name() -> str:
    return current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)


def mail_config() -> MailConfig:
    outbox = current_app.config.get("MAIL_OUTBOX") or Path(current_app.instance_path) / "outbox"
    return MailConfig(current_app.config["SETTINGS"], Path(outbox))


def phone_region() -> str:
    return current_app.config.get("PHONE_REGION", DEFAULT_REGION)

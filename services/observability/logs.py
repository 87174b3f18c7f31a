"""Log lines, one per event: JSON objects in production, plain text in development,
each carrying the id of the request it belongs to.

The request id lives in a context variable: the web app sets it for each request
(views/observability.py), and a task handed work by a request sets the same id while
it runs (tasks.py), so the web's and the worker's lines about one request share it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO
from uuid import uuid4

FORMATS = ("json", "text")
HANDLER_NAME = "kairos"

_current: ContextVar[str | None] = ContextVar("request_id", default=None)
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")
# What every LogRecord has: anything else on a record came in through ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}
_configuring = threading.Lock()  # the worker's threads each run its startup hook


def request_id() -> str | None:
    """The id of the request being served (or whose work a task is doing), if any."""
    return _current.get()


def sane_request_id(given: str | None) -> str:
    """The id a client or proxy sent in X-Request-ID when it is a short plain token (at
    most 64 letters, digits, '.', '_' or '-'), else a new one: a header is never copied
    into a log line as it came."""
    return given if given and _SANE.fullmatch(given) else uuid4().hex


def start(rid: str | None):
    """Make ``rid`` the current request id; returns the token ``stop`` takes."""
    return _current.set(rid)


def stop(token) -> None:
    _current.reset(token)


@contextmanager
def carrying(rid: str | None) -> Iterator[None]:
    """Run a block as part of request ``rid`` (a task doing a request's work)."""
    token = start(rid)
    try:
        yield
    finally:
        stop(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on each record (unless one was given in ``extra``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _current.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, then
    request_id and exception when there are, and the fields given with ``extra=``."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or _current.get()
        if rid:
            line["request_id"] = rid
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger message``, then ``request_id=...`` when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = getattr(record, "request_id", None) or _current.get()
        return f"{text} request_id={rid}" if rid else text


def formatter(log_format: str) -> logging.Formatter:
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be 'json' or 'text', not {log_format!r}")
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure(
    log_format: str,
    *,
    stream: IO[str] | None = None,
    level: int = logging.INFO,
    adopt: tuple[str, ...] = (),
) -> logging.Handler:
    """Send log records to ``stream`` (stderr) in ``log_format``. Idempotent: the root
    logger has one handler of ours, however often this runs (the app factory runs many
    times in tests); a second call only changes its format and stream. ``adopt``:
    loggers whose own handlers are removed so their records reach ours instead (the
    Huey consumer gives "huey" a text handler of its own)."""
    with _configuring:
        root = logging.getLogger()
        handler = next((h for h in root.handlers if h.get_name() == HANDLER_NAME), None)
        if handler is None:
            handler = logging.StreamHandler(stream or sys.stderr)
            handler.set_name(HANDLER_NAME)
            handler.addFilter(RequestIdFilter())
            root.addHandler(handler)
        elif stream is not None:
            handler.setStream(stream)
        handler.setFormatter(formatter(log_format))
        root.setLevel(min(root.getEffectiveLevel(), level))  # never quieter than asked
        for name in adopt:
            for own in list(logging.getLogger(name).handlers):
                logging.getLogger(name).removeHandler(own)
        return handler

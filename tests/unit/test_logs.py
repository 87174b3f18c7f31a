"""Log lines: the JSON shape, the text shape, the request id they carry, and a
configuration that can run any number of times."""

from __future__ import annotations

import io
import json
import logging
import sys
from datetime import UTC, datetime

import pytest

from services.observability import logs


@pytest.fixture
def lines():
    """A logger of the test's own writing JSON to a buffer: ``lines()`` parses it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    logger = logging.getLogger("kairos.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.propagate = True


def test_a_json_line_has_time_level_logger_message_and_the_extra_fields(lines):
    logging.getLogger("kairos.test_logs").info(
        "booking.created booking_id=%s", 7, extra={"booking_id": 7, "who": {"id": 3}}
    )
    (line,) = lines()
    assert list(line)[:4] == ["time", "level", "logger", "message"]
    assert line["level"] == "INFO"
    assert line["logger"] == "kairos.test_logs"
    assert line["message"] == "booking.created booking_id=7"
    assert (line["booking_id"], line["who"]) == (7, {"id": 3})
    assert "request_id" not in line
    assert "exception" not in line
    moment = datetime.fromisoformat(line["time"])
    assert line["time"].endswith("Z")
    assert moment.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60


def test_a_json_line_carries_the_request_id_and_the_exception(lines):
    with logs.carrying("req-1"):
        try:
            {}["missing"]
        except KeyError:
            logging.getLogger("kairos.test_logs").exception("failed")
    logging.getLogger("kairos.test_logs").warning("after")
    failed, after = lines()
    assert failed["request_id"] == "req-1"
    assert failed["exception"].startswith("Traceback")
    assert failed["exception"].endswith("KeyError: 'missing'")
    assert "request_id" not in after  # the id ends with its block


def test_a_value_json_cannot_hold_is_written_as_text(lines):
    logging.getLogger("kairos.test_logs").info("x", extra={"at": datetime(2026, 1, 2, tzinfo=UTC)})
    assert lines()[0]["at"] == "2026-01-02 00:00:00+00:00"


def test_a_text_line_ends_with_the_request_id_when_there_is_one():
    record = logging.LogRecord("kairos.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    formatter = logs.TextFormatter()
    assert formatter.format(record).endswith(" INFO kairos.x hello you")
    with logs.carrying("abc"):
        assert formatter.format(record).endswith(" INFO kairos.x hello you request_id=abc")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("abc-DEF_1.2", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("", False),
        (None, False),
        ("a b", False),
        ("a\nfake log line", False),
        ('"quoted"', False),
        ("é", False),
    ],
)
def test_a_given_request_id_is_kept_only_when_it_is_a_short_plain_token(given, kept):
    chosen = logs.sane_request_id(given)
    assert (chosen == given) is kept
    if not kept:
        assert len(chosen) == 32
        assert int(chosen, 16) >= 0


@pytest.fixture
def root_as_it_was():
    """The root logger's handlers (and our handler's format and stream) put back."""
    root = logging.getLogger()
    before = [(h, h.formatter) for h in root.handlers]
    yield root
    for handler in root.handlers[:]:
        if handler not in dict(before):
            root.removeHandler(handler)
    for handler, formatter in before:
        handler.setFormatter(formatter)
        if handler.get_name() == logs.HANDLER_NAME:
            handler.setStream(sys.stderr)


def test_configuring_again_keeps_one_handler_and_takes_the_new_format(root_as_it_was):
    out = io.StringIO()
    logs.configure("text", stream=out)
    logs.configure("json", stream=out)
    ours = [h for h in root_as_it_was.handlers if h.get_name() == logs.HANDLER_NAME]
    assert len(ours) == 1
    logging.getLogger("kairos.test_logs_root").warning("once")
    (line,) = out.getvalue().splitlines()
    assert json.loads(line)["message"] == "once"


def test_adopting_a_logger_sends_its_lines_to_ours_alone(root_as_it_was):
    out = io.StringIO()
    huey_like = logging.getLogger("kairos.test_adopted")
    huey_like.addHandler(logging.StreamHandler(io.StringIO()))
    logs.configure("json", stream=out, adopt=("kairos.test_adopted",))
    assert huey_like.handlers == []
    huey_like.warning("consumer started")
    assert json.loads(out.getvalue())["logger"] == "kairos.test_adopted"


def test_an_unknown_format_is_refused_in_one_line():
    with pytest.raises(ValueError, match="LOG_FORMAT must be 'json' or 'text', not 'xml'"):
        logs.formatter("xml")

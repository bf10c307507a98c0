"""JSON log lines carrying the request id, from the web layer down to Bolt's threads,
and never a token or a word of a check-in."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ALICE, Live
from slack_requests import message_im

from bot.logs import JsonFormatter, bound_request_id, configure_logging

CHECKIN_TEXT = "The kettle at the Larch Road hostel broke and nobody knew who to ring"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged (at DEBUG) while the test runs, in LearnLoop's JSON format."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("DEBUG", "json", stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_of_a_request_carries_its_id(live: Live, log_lines: io.StringIO) -> None:
    request = message_im(CHECKIN_TEXT, user_id=ALICE)
    request.headers["X-Request-ID"] = "lb-7f3a9c21"
    response = live.post(request)
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "lb-7f3a9c21"
    live.slack.wait_for("chat.postMessage")  # the listener's reply, sent on Bolt's own thread

    lines = parsed(log_lines)  # every line is one JSON object
    mine = [line for line in lines if line.get("request_id") == "lb-7f3a9c21"]
    access = [line for line in mine if line["logger"] == "learnloop.http"]
    assert access and access[0]["route"] == "/slack/events" and access[0]["status"] == 200
    # Lines from the listener thread (its Slack call) carry the same id.
    assert any("chat.postMessage" in line["message"] for line in mine), mine
    text = log_lines.getvalue()
    assert "xoxb-" not in text
    for word in ("kettle", "Larch Road", "nobody knew"):
        assert word not in text


def test_requests_get_their_own_ids(live: Live, log_lines: io.StringIO) -> None:
    first = live.http.get(live.server.url + "/healthz")
    second = live.http.get(
        live.server.url + "/healthz", headers={"X-Request-ID": "<b>not an id</b>"}
    )
    ids = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    assert len(ids) == 2 and all(len(i) == 16 and i.isalnum() for i in ids)


def test_extra_fields_are_kept_and_text_in_them_is_scrubbed(log_lines: io.StringIO) -> None:
    with bound_request_id("job-weekly-prompts"):
        logging.getLogger("learnloop.test").info(
            "sent", extra={"sent": 4, "note": "token xoxb-123456-abcdef", "workspace": "T0AAAA"}
        )
    (line,) = [x for x in parsed(log_lines) if x["logger"] == "learnloop.test"]
    assert line["request_id"] == "job-weekly-prompts"
    assert line["sent"] == 4 and line["workspace"] == "T0AAAA"
    assert "xoxb-" not in line["note"]


def test_exceptions_are_one_line_of_json() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]

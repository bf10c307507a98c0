"""Issue 8: one JSON object per log line, each carrying the id of the request it belongs to.

The request id is a context variable: the web app's middleware sets it for each HTTP request
(taking a sane `X-Request-ID` from the load balancer, else making one) and sends it back in
the response; Bolt's listener threads and the thread pool inherit it, so every line logged while
handling a request carries it. Background work can bind its own with `bound_request_id`.

What goes into a line has already been cleaned by the issue-6 LogScrubber (the LogRecord
factory in bot/logs.py): tokens, secrets, Slack payloads and identifiers never reach a
formatter. This module only decides the shape, and keeps the same rule for `extra=` fields:
numbers and flags pass, text is scrubbed too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any, Literal

request_id: ContextVar[str | None] = ContextVar("learnloop_request_id", default=None)

# An id from outside is kept only if it is plainly an id (it is echoed into logs and headers).
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{6,64}$")
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# uvicorn's copy of the message with terminal colour codes.
_SKIPPED = _STANDARD | {"color_message"}
# Marks the handler this module installed, so configuring twice replaces it.
_HANDLER_NAME = "learnloop-structured"

LogFormat = Literal["json", "text"]


def new_request_id(incoming: str | None = None) -> str:
    """The id for a request: the caller's if it looks like one, else a fresh one."""
    if incoming and _SANE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex[:16]


@contextmanager
def bound_request_id(value: str | None = None) -> Iterator[str]:
    """Give the lines logged inside this block one id (a worker job, a CLI run)."""
    rid = new_request_id(value)
    token = request_id.set(rid)
    try:
        yield rid
    finally:
        request_id.reset(token)


def _scrub(text: str) -> str:
    factory = logging.getLogRecordFactory()
    scrub = getattr(factory, "scrub", None)  # the issue-6 LogScrubber, when installed
    return scrub(text) if callable(scrub) else text


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON (one line)."""
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            line["request_id"] = rid
        for key, value in vars(record).items():
            if key in _SKIPPED or key.startswith("_") or key in line:
                continue
            if isinstance(value, bool | int | float) or value is None:
                line[key] = value
            elif isinstance(value, str):
                line[key] = _scrub(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = _scrub(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as one readable line."""
        rid = getattr(record, "request_id", None) or request_id.get()
        record.rid = f" [{rid}]" if rid else ""
        return super().format(record)


def configure_logging(
    level: str = "INFO", fmt: LogFormat = "json", stream: IO[str] | None = None
) -> logging.Handler:
    """Send every logger's lines to `stream` (stderr) in one format; idempotent."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own loggers would otherwise print in their format as well as ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler

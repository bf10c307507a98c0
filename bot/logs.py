"""Logging for every LearnLoop process: what a line may contain, and what it looks like.

What a line may contain: no tokens, secrets, Slack payloads or service-user identifiers.
LearnLoop's own log calls carry ids, counts and error codes only (tests/test_log_hygiene.py
checks the calls). What the scrubbing guards against is everyone else's: slack_sdk logs every
request and response body at DEBUG (a `/checkin` pre-fill is raw text), Bolt logs the bodies
of requests it could not route, and any exception message may quote its input.

It works at the one point every log record passes through, whatever logger or handler it
goes to: the LogRecord factory (`install_log_scrubbing`). For each record that is going to be
emitted it

* cuts the payload off records from the Slack and Teams SDK loggers (everything from the
  first ``{``, or a model's repr: request and response bodies, events, activities), keeping
  the method, URL and status;
* replaces Slack tokens (``xoxb-``, ``xoxp-``, ``xapp-`` …) and the configured secrets;
* runs the identifier redaction over what is left, as a last line of defence.

A record is only rewritten if something changed, so formatters that read ``record.args``
(uvicorn's access log) keep working.

What a line looks like (`configure_logging`): one JSON object per line (or readable text in a
terminal), each carrying the id of the request it belongs to. The request id is a context
variable: the web app's middleware sets it for each HTTP request (taking a sane `X-Request-ID`
from the load balancer, else making one) and sends it back in the response; Bolt's listener
threads and the thread pool inherit it, so every line logged while handling a request carries
it. Background work can bind its own with `bound_request_id`. The formatters keep the
scrubbing's rule for `extra=` fields too: numbers and flags pass, text is scrubbed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any, Literal

from bot.domain.redaction import redact

# ------------------------------------------------------------------ what a line may contain

# Slack's token prefixes: bot, user, app-level, workspace, refresh, configuration.
TOKEN = re.compile(r"\bx(?:ox[abeoprs]|app)-[A-Za-z0-9-]{6,}")
TOKEN_PLACEHOLDER = "[token]"
SECRET_PLACEHOLDER = "[secret]"
WITHHELD = "… (payload withheld)"
# Loggers that print whole payloads at DEBUG (Bolt's warnings quote request bodies too), and
# where a payload starts in their lines: a dict for the Slack SDKs, a dict or a model's repr
# ("Received activity: MessageActivity(text=...)") for the Teams SDK.
PAYLOAD_LOGGERS: dict[str, str] = {
    "slack_sdk": "{",
    "slack_bolt": "{",
    "learnloop.slack": "{",
    "learnloop.bolt": "{",
    "microsoft_teams": "{(",
}
# Shorter strings would be replaced wherever they happened to occur.
MIN_SECRET_LENGTH = 8

_traceback_formatter = logging.Formatter()


def withhold_payload(logger_name: str, message: str) -> str:
    """The message without its payload, if it comes from a logger that prints payloads."""
    starts = next(
        (chars for prefix, chars in PAYLOAD_LOGGERS.items() if logger_name.startswith(prefix)),
        "",
    )
    cuts = [i for i in (message.find(c) for c in starts) if i != -1]
    if not cuts:
        return message
    cut = min(cuts)
    return message[:cut].rstrip(" ,:(\"'") + " " + WITHHELD


class LogScrubber:
    """A LogRecord factory that cleans each record as it is made (see the module docstring)."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner
        # Replaced, never mutated, so threads logging meanwhile see one set or the other.
        self.secrets: frozenset[str] = frozenset()

    def add_secrets(self, values: Iterable[str | None]) -> None:
        """Also replace these exact values wherever they appear."""
        extra = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH}
        self.secrets = self.secrets | extra

    def scrub(self, text: str) -> str:
        """Text without tokens, configured secrets or service-user identifiers."""
        text = TOKEN.sub(TOKEN_PLACEHOLDER, text)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, SECRET_PLACEHOLDER)
        return redact(text).text

    def clean(self, record: logging.LogRecord) -> None:
        """Rewrite a record in place if its message or traceback needs cleaning."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's problem to report
            return
        cleaned = self.scrub(withhold_payload(record.name, message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            # Formatters use a pre-set exc_text instead of formatting the traceback again.
            record.exc_text = self.scrub(_traceback_formatter.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        self.clean(record)
        return record


def install_log_scrubbing(secrets: Iterable[str | None] = ()) -> LogScrubber:
    """Make every log record in this process pass through a LogScrubber (idempotent)."""
    current = logging.getLogRecordFactory()
    if isinstance(current, LogScrubber):
        current.add_secrets(secrets)
        return current
    scrubber = LogScrubber(current)
    scrubber.add_secrets(secrets)
    logging.setLogRecordFactory(scrubber)
    return scrubber


def secrets_of(settings: Any) -> list[str]:
    """Every secret in the settings: each SecretStr field, and the database password."""
    from pydantic import SecretStr
    from sqlalchemy.engine import make_url

    values = [v.get_secret_value() for _, v in settings if isinstance(v, SecretStr)]
    try:
        password = make_url(settings.database_url).password
    except Exception:  # noqa: BLE001 - a URL SQLAlchemy cannot read has no password to hide
        password = None
    if password:
        values.append(str(password))
    return values


# ------------------------------------------------------------------ the shape of a line

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
    return factory.scrub(text) if isinstance(factory, LogScrubber) else text


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

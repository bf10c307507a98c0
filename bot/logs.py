"""Log hygiene (issue 6): no tokens, secrets, Slack payloads or service-user identifiers in logs.

LearnLoop's own log calls carry ids, counts and error codes only (tests/test_log_hygiene.py
checks the calls). What this module guards against is everyone else's: slack_sdk logs every
request and response body at DEBUG (a `/checkin` pre-fill is raw text), Bolt logs the bodies
of requests it could not route, and any exception message may quote its input.

It works at the one point every log record passes through, whatever logger or handler it
goes to: the LogRecord factory. For each record that is going to be emitted it

* cuts the payload off records from the Slack and Teams SDK loggers (everything from the
  first ``{``, or a model's repr: request and response bodies, events, activities), keeping
  the method, URL and status;
* replaces Slack tokens (``xoxb-``, ``xoxp-``, ``xapp-`` …) and the configured secrets;
* runs the identifier redaction over what is left, as a last line of defence.

A record is only rewritten if something changed, so formatters that read ``record.args``
(uvicorn's access log) keep working.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from bot.domain.redaction import redact

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

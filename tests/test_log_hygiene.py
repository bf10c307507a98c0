"""No tokens, secrets, Slack payloads or service-user identifiers in any log line."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from bot.logs import WITHHELD, LogScrubber, install_log_scrubbing, withhold_payload

ROOT = Path(__file__).resolve().parents[1]
NHS = "943 476 5919"  # a valid NHS number
TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"


def make_record(name: str, msg: str, *args: object) -> logging.LogRecord:
    scrubber = LogScrubber(logging.LogRecord)
    scrubber.add_secrets(["the-signing-secret", "short"])
    return scrubber(name, logging.INFO, __file__, 1, msg, args, None)


def test_slack_loggers_keep_the_method_and_lose_the_payload() -> None:
    line = (
        "Sending a request - url: https://slack.com/api/views.open, query_params: {}, "
        "body_params: {}, files: {}, json_body: {'view': {'blocks': [{'text': 'Ann, NE1 4LP'}]}}"
    )
    cleaned = withhold_payload("learnloop.slack", line)
    assert cleaned.startswith("Sending a request - url: https://slack.com/api/views.open")
    assert cleaned.endswith(WITHHELD) and "Ann" not in cleaned
    response = "Received the following response - status: 200, headers: {'a': 'b'}, body: {...}"
    assert withhold_payload("slack_sdk.web.base_client", response).startswith(
        "Received the following response - status: 200, headers"
    )
    activity = "Received activity: MessageActivity(id='1', text='Mr Jones, BS1 4DJ')"
    assert withhold_payload("microsoft_teams.apps.app_process", activity) == (
        f"Received activity: MessageActivity {WITHHELD}"
    )
    # Other loggers are left alone (LearnLoop's own lines carry no payloads to cut).
    assert withhold_payload("learnloop.handlers", "a {b}") == "a {b}"


def test_tokens_secrets_and_identifiers_are_replaced() -> None:
    record = make_record(
        "learnloop", "auth with %s / %s failed for NHS %s", TOKEN, "the-signing-secret", NHS
    )
    message = record.getMessage()
    assert TOKEN not in message and "the-signing-secret" not in message and NHS not in message
    assert message == "auth with [token] / [secret] failed for NHS [NHS number]"
    # Secrets shorter than 8 characters would match innocent words, so they are not used.
    assert make_record("learnloop", "a short note").getMessage() == "a short note"


def test_unchanged_records_keep_their_args() -> None:
    """uvicorn's access-log formatter unpacks record.args: it must survive untouched."""
    args = ("127.0.0.1:5000", "POST", "/slack/events", "1.1", 200)
    record = make_record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', *args)
    assert record.args == args


def test_tracebacks_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    install_log_scrubbing(["the-signing-secret"])
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("learnloop.test")
    try:
        raise ValueError(f"could not parse {TOKEN} near {NHS} with the-signing-secret")
    except ValueError:
        log.exception("something failed")
    assert "something failed" in caplog.text and "ValueError" in caplog.text
    for raw in (TOKEN, NHS, "the-signing-secret"):
        assert raw not in caplog.text


def test_slack_sdk_debug_lines_reach_the_log_without_bodies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_scrubbing()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("learnloop.slack").debug(
        "Sending a request - url: %s, json_body: %s",
        "https://slack.com/api/chat.postMessage",
        {"text": "Mrs Smith, DOB 01/02/1960, BS1 4DJ"},
    )
    [record] = [r for r in caplog.records if r.name == "learnloop.slack"]
    assert "chat.postMessage" in record.getMessage()
    assert "Smith" not in caplog.text and "BS1 4DJ" not in caplog.text


# --------------------------------------------------------------------- our own log calls

LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
# Names that hold what people wrote, or credentials. A log call may pass ids, counts, codes.
CONTENT = {
    "text",
    "answers",
    "answer",
    "description",
    "outcome",
    "note",
    "title",
    "payload",
    "blocks",
    "content",
    "document",
    "token",
    "secret",
    "signing_secret",
    "password",
}


def _names(node: ast.AST) -> set[str]:
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.add(sub.value)  # subscripts like event["text"]
    return found


def _log_calls(tree: ast.AST) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"log", "logger", "logging", "_log"}
        ):
            calls.append(node)
    return calls


def test_no_log_call_passes_text_or_credentials() -> None:
    offenders = []
    for folder in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for call in _log_calls(tree):
                first, rest = (call.args[0], call.args[1:]) if call.args else (None, [])
                values = [*rest, *(k.value for k in call.keywords if k.arg != "exc_info")]
                if isinstance(first, ast.JoinedStr):  # an f-string's expressions count too
                    values += [v.value for v in first.values if isinstance(v, ast.FormattedValue)]
                for value in values:
                    bad = _names(value) & CONTENT
                    if bad:
                        where = f"{path.relative_to(ROOT)}:{call.lineno}"
                        offenders.append(f"{where} logs {sorted(bad)}")
    assert offenders == []


def test_the_checker_catches_a_bad_call() -> None:
    tree = ast.parse("log.info('saved %s', row.answers)\nlog.warning(f'{event[\"text\"]}')")
    calls = _log_calls(tree)
    assert len(calls) == 2
    assert _names(calls[0].args[1]) & CONTENT == {"answers"}
    assert "text" in _names(calls[1].args[0])

"""Operator-facing failures: one line naming the cause and the fix, with the documented code.

An operator at a terminal (or a cron job's mail) needs what went wrong and what to do, not a
library's traceback; `learnloop --verbose …` prints the traceback too, for a bug report.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
import urllib.error
from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperGroup

from bot.cli.common import EXIT_CONFIG, EXIT_FAILED
from bot.settings import ConfigError

# Libraries that talk at INFO about routine work (Alembic names each migration it checks).
QUIET_LOGGERS = ("alembic",)
# Bolt reads SLACK_BOT_TOKEN itself and says it is "unused": LearnLoop's client carries it.
BOLT_TOKEN_NOTE = "`token` will be unused"


class _Verbosity:
    """Whether this run prints tracebacks and library logs (set by the main callback)."""

    verbose = False


verbosity = _Verbosity()


class _DropBoltTokenNote(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return BOLT_TOKEN_NOTE not in record.getMessage()


_bolt_filter = _DropBoltTokenNote()


def set_verbose(verbose: bool) -> None:
    """Library log noise off unless `verbose` (then everything is shown, tracebacks too)."""
    verbosity.verbose = verbose
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    # Bolt logs through LearnLoop's logger (learnloop.bolt), or its own before that is set.
    for name in ("learnloop.bolt", "slack_bolt.App"):
        bolt = logging.getLogger(name)
        if verbose:
            bolt.removeFilter(_bolt_filter)
        else:
            bolt.addFilter(_bolt_filter)


@contextlib.contextmanager
def quiet_logs(*names: str) -> Iterator[None]:
    """Silence `names` while the block runs (unless --verbose): a failure there is explained."""
    if verbosity.verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def explain(exc: BaseException) -> tuple[list[str], int]:
    """The lines an operator reads for `exc` (cause, then fix), and the exit code."""
    if isinstance(exc, ConfigError):
        return list(exc.problems), EXIT_CONFIG
    database = _database_problem(exc)
    if database is not None:
        return [database[0]], database[1]
    slack = _slack_problem(exc)
    if slack is not None:
        return [slack[0]], slack[1]
    text = _first_line(str(exc)) or "no details"
    return [
        f"{type(exc).__name__}: {text} (run again with --verbose for the traceback, "
        "and report it if it persists)"
    ], EXIT_FAILED


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def _database_problem(exc: BaseException) -> tuple[str, int] | None:
    from sqlalchemy.exc import DBAPIError, OperationalError

    if not isinstance(exc, OperationalError | DBAPIError):
        return None
    where = _database_address(exc)
    reason = _first_line(str(exc.orig or exc))
    # psycopg prefixes "connection failed: connection to server at …, port … failed: ".
    detail = reason.rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip()
    lowered = reason.lower()
    if "does not exist" in lowered and "database" in lowered:
        return (
            f"DATABASE_URL: the database {where} does not exist ({detail}): create it "
            "(e.g. `createdb NAME`) or correct DATABASE_URL, then run `learnloop migrate`",
            EXIT_CONFIG,
        )
    if "password authentication failed" in lowered or "role" in lowered and "not exist" in lowered:
        return (
            f"DATABASE_URL: the database {where} refused the login ({detail}): correct the "
            "user and password in DATABASE_URL",
            EXIT_CONFIG,
        )
    if "unable to open database file" in lowered:
        return (
            f"DATABASE_URL: cannot open the SQLite file {where}: check that its folder exists "
            "and is writable by this user",
            EXIT_CONFIG,
        )
    return (
        f"cannot reach the database {where} ({detail}): check that the database server is "
        "running and that DATABASE_URL names its host and port",
        EXIT_FAILED,
    )


def _database_address(exc: BaseException) -> str:
    """The database the command was using, password hidden (from the settings, if loadable)."""
    from sqlalchemy.engine import make_url

    from bot.settings import load_settings

    try:
        url = make_url(load_settings().database_url)
    except Exception:  # noqa: BLE001 - an address is a courtesy; the reason is still printed
        return "(DATABASE_URL)"
    return url.render_as_string(hide_password=True)


def _slack_problem(exc: BaseException) -> tuple[str, int] | None:
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error", "")) if exc.response is not None else ""
        if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
            return (
                f"Slack refused the token ({error}): check SLACK_BOT_TOKEN "
                "(and SLACK_APP_TOKEN for Socket Mode) in the app's settings on api.slack.com",
                EXIT_CONFIG,
            )
        return (
            f"Slack answered an error ({error or 'unknown'}): check the app's scopes and "
            "settings on api.slack.com, then try again",
            EXIT_FAILED,
        )
    if isinstance(exc, urllib.error.URLError | TimeoutError | ConnectionError):
        from bot.settings import load_settings

        try:
            api = load_settings().slack_api_url
        except ConfigError:
            api = "Slack's API"
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return (
            f"cannot reach Slack at {api} ({_first_line(str(reason))}): check this machine's "
            "network, proxy and firewall (and SLACK_API_URL if set), then try again",
            EXIT_FAILED,
        )
    return None


def report(exc: BaseException) -> int:
    """Print `exc` for an operator (with its traceback under --verbose); return the exit code."""
    lines, code = explain(exc)
    if verbosity.verbose:
        traceback.print_exception(exc, file=sys.stderr)
    for line in lines:
        # Plain lines: a console would wrap a long one at 80 columns and read markup in it.
        typer.echo(f"error: {line}", err=True)
    return code


class CliGroup(TyperGroup):
    """The `learnloop` group: an uncaught failure becomes one line and its exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        """Run the command; explain anything it raises that is not already an exit."""
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            # Exits, and usage errors Typer reports itself (exit 2, with the usage line).
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is explained, none escapes raw
            raise typer.Exit(report(exc)) from None

"""The `learnloop` command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.config import ConfigError, Settings, load_alliance, load_settings

app = typer.Typer(
    help="LearnLoop: weekly 'what did we learn?' check-ins, digests and escalations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
prompts_app = typer.Typer(help="Send the weekly prompt.", no_args_is_help=True)
app.add_typer(prompts_app, name="prompts")

console = Console()
err = Console(stderr=True)

EXIT_CONFIG = 2
EXIT_FAILED = 1


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        _fail(exc)


def _fail(exc: ConfigError) -> typer.Exit:
    for problem in exc.problems:
        err.print(f"[red]error:[/red] {problem}", highlight=False, markup=True)
    raise typer.Exit(EXIT_CONFIG)


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "0.0.0.0",
    port: Annotated[int | None, typer.Option(help="Port (default: $PORT, else 3000).")] = None,
) -> None:
    """Run the HTTP server: POST /slack/events and GET /healthz."""
    import uvicorn

    from bot.app import build, create_web_app

    settings = _settings()
    _logging(settings)
    try:
        settings.require_slack()
        loop = build(settings)
    except ConfigError as exc:
        _fail(exc)
    uvicorn.run(create_web_app(loop), host=host, port=port or settings.port, log_level="info")


@app.command()
def socket() -> None:
    """Run over Socket Mode (no public URL needed; for pilots and development)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import build

    settings = _settings()
    _logging(settings)
    try:
        settings.require_socket_mode()
        loop = build(settings)
    except ConfigError as exc:
        _fail(exc)
    assert loop.bolt is not None and settings.slack_app_token is not None
    console.print(f"LearnLoop for [bold]{loop.alliance.alliance.name}[/bold] over Socket Mode.")
    SocketModeHandler(loop.bolt, settings.slack_app_token.get_secret_value()).start()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (SQLite or PostgreSQL)."""
    from storage.db import current_revision, make_engine
    from storage.db import migrate as run_migrations

    settings = _settings()
    engine = make_engine(settings.database_url)
    before = current_revision(engine)
    try:
        run_migrations(engine)
    except Exception as exc:  # noqa: BLE001 - report any driver error in one line
        err.print(f"[red]error:[/red] migration failed: {exc.__class__.__name__}: {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    after = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"Database {where} is up to date (revision {after}).")
    else:
        console.print(f"Database {where} upgraded from {before or 'empty'} to {after}.")


@app.command("check-config")
def check_config(
    path: Annotated[
        Path | None, typer.Argument(help="Alliance YAML (default: $LEARNLOOP_CONFIG).")
    ] = None,
) -> None:
    """Validate the alliance file and print every problem with its field path."""
    target = path or _settings().learnloop_config
    try:
        config = load_alliance(target)
    except ConfigError as exc:
        err.print(f"[red]{target}: {len(exc.problems)} problem(s)[/red]")
        for problem in exc.problems:
            err.print(f"  {problem}", highlight=False, markup=False)
        raise typer.Exit(EXIT_CONFIG) from None
    console.print(
        f"[green]{target} is valid:[/green] {config.alliance.name} — "
        f"{len(config.agencies)} agencies, {len(config.cohorts)} cohorts, "
        f"{len(config.digests)} digests, {len(config.themes)} themes."
    )


@prompts_app.command("send")
def prompts_send(
    cohort: Annotated[str | None, typer.Option(help="Only this cohort id.")] = None,
    now: Annotated[bool, typer.Option("--now", help="Send even if the slot hasn't come.")] = False,
) -> None:
    """DM each member of the cohort(s) this cycle's prompt (once per cycle, whatever happens)."""
    from bot.app import build

    settings = _settings()
    _logging(settings)
    try:
        settings.require_slack()
        loop = build(settings)
    except ConfigError as exc:
        _fail(exc)
    if cohort is not None and cohort not in {c.id for c in loop.alliance.cohorts}:
        known = ", ".join(c.id for c in loop.alliance.cohorts) or "none"
        err.print(f"[red]error:[/red] no cohort {cohort!r} (known: {known})")
        raise typer.Exit(EXIT_CONFIG)
    reports = loop.services.prompts.send(cohort, now=now)
    table = Table("cohort", "cycle", "due", "sent", "already", "paused", "inactive", "failed")
    for r in reports:
        table.add_row(
            r.cohort_id,
            r.cycle,
            "yes" if r.due else "not yet",
            *(str(n) for n in (r.sent, r.already, r.paused, r.inactive, r.failed)),
        )
    console.print(table)
    errors = sum((r.errors for r in reports), start=type(reports[0].errors)()) if reports else {}
    for code, count in sorted(errors.items()):
        console.print(f"  {count} × {code}")
    if any(r.failed for r in reports):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def demo(
    database: Annotated[
        str, typer.Option(help="Where to keep the demo data (replaced on each run).")
    ] = "sqlite:///learnloop-demo.db",
    weeks: Annotated[int, typer.Option(min=1, max=12, help="Weeks of check-ins to make.")] = 4,
) -> None:
    """Try LearnLoop without Slack: an example alliance, a few weeks of check-ins, a summary."""
    from bot.demo import run_demo

    run_demo(database, weeks, console)


@app.command("manifest")
def manifest_command(
    url: Annotated[
        str | None,
        typer.Option(help="Public base URL for HTTP mode (omit for Socket Mode)."),
    ] = None,
) -> None:
    """Print the Slack app manifest (paste it into api.slack.com/apps → From a manifest)."""
    from bot.slack.manifest import manifest_yaml

    typer.echo(manifest_yaml(url), nl=False)


def main() -> None:
    """Entry point of the `learnloop` script."""
    app()


if __name__ == "__main__":
    main()

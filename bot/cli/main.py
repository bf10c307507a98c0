"""The `learnloop` command line."""

from __future__ import annotations

import importlib.metadata
import logging
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.alliance import load_alliance
from bot.cli.barriers import register as register_barrier_commands
from bot.cli.board import register as register_board_commands
from bot.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    fail,
    fail_config,
    literal_console,
    offline_loop,
    print_json,
    table,
)
from bot.cli.contributors import register as register_contributor_commands
from bot.cli.digest import register as register_digest_commands
from bot.cli.failures import CliGroup, quiet_logs, set_verbose
from bot.cli.privacy import register as register_privacy_commands
from bot.cli.workspaces import register as register_workspace_commands
from bot.settings import ConfigError, Settings, load_settings

app = typer.Typer(
    cls=CliGroup,
    help="LearnLoop: weekly 'what did we learn?' check-ins, digests and escalations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
prompts_app = typer.Typer(help="Send the weekly prompt.", no_args_is_help=True)
app.add_typer(prompts_app, name="prompts")

console = literal_console()
err = literal_console(stderr=True)

WORKER_HEALTHCHECK_SECONDS = 60


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"learnloop {importlib.metadata.version('learnloop')}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print LearnLoop's version and exit.",
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="On a failure, print the traceback too; show libraries' log lines.",
        ),
    ] = False,
) -> None:
    """LearnLoop: weekly 'what did we learn?' check-ins, digests and escalations."""
    set_verbose(verbose)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail_config(exc)


def _send_report_json(report: Any) -> dict[str, Any]:
    """A prompts-send report as plain data (counts and error codes, never names)."""
    counts = ("sent", "already", "paused", "inactive", "failed", "retrying", "in_doubt")
    return {
        "cohort": report.cohort_id,
        "cycle": report.cycle,
        "due": report.due,
        **{name: getattr(report, name, 0) for name in counts},
        "errors": dict(report.errors),
    }


def _logging(settings: Settings) -> None:
    # JSON lines with a request id (LOG_FORMAT=text for a terminal).
    from bot.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format, sys.stderr)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "0.0.0.0",
    port: Annotated[int | None, typer.Option(help="Port (default: $PORT, else 3000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (default: $WEB_CONCURRENCY, else one per CPU core).",
        ),
    ] = None,
) -> None:
    """Run the HTTP server: POST /slack/events, POST /api/messages (Teams), GET /healthz."""
    import uvicorn

    from bot.app import build, set_up
    from bot.serve import settle_heap, worker_count
    from bot.web.routes import create_web_app

    settings = _settings()
    _logging(settings)
    count = worker_count(workers, settings)
    try:
        settings.require_platform()  # Slack, Teams, or both
        if count == 1:
            loop = build(settings, with_slack=settings.slack_enabled)
        else:
            # Checked and prepared once here, so a bad file stops `serve` with one message
            # and the workers never migrate or store the alliance file at the same time.
            set_up(settings)
    except ConfigError as exc:
        fail_config(exc)
    # Uvicorn logs through LearnLoop's handler (JSON, request ids); LearnLoop writes
    # its own access line, which names the route and never the query string.
    options: dict[str, Any] = {
        "host": host,
        "port": port or settings.port,
        "log_config": None,
        "access_log": False,
    }
    if count == 1:
        from bot.reload import watch

        watch(loop)  # SIGHUP and `learnloop reload` reload the alliance file
        app = create_web_app(loop)
        settle_heap()
        uvicorn.run(app, **options)
    else:
        from bot.serve import run_workers

        # SIGHUP to this process validates the alliance file and reloads it in every worker.
        run_workers(
            settings,
            count,
            {
                # A worker imports and builds everything before it answers the supervisor's
                # ping; on a busy machine that takes longer than uvicorn's 5 s, and a worker
                # killed for it would be restarted into the same wait forever.
                "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
                **options,
            },
        )


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
        fail_config(exc)
    assert loop.bolt is not None and settings.slack_app_token is not None
    handler = SocketModeHandler(loop.bolt, settings.slack_app_token.get_secret_value())
    from bot.reload import watch

    watch(loop)  # SIGHUP and `learnloop reload` reload the alliance file
    # Each retry of a first connection that cannot succeed would log a line; CliGroup says
    # in one what failed and what to check.
    with quiet_logs("learnloop.slack", "slack_sdk", "slack_bolt"):
        handler.connect()
    typer.echo(f"LearnLoop for {loop.alliance.alliance.name} is connected over Socket Mode.")
    threading.Event().wait()  # the connection's own threads serve until the process stops


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (SQLite or PostgreSQL)."""
    from bot.app import open_database
    from storage.db import current_revision
    from storage.db import migrate as run_migrations

    settings = _settings()
    engine = open_database(settings.database_url)
    # A failure (no server, no such database, a driver error) is explained by CliGroup.
    before = current_revision(engine)
    run_migrations(engine)
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
        count = len(exc.problems)
        # Plain lines: paths and ids printed as they are, never read as markup.
        typer.echo(f"{target}: {count} problem{'' if count == 1 else 's'}", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    console.print(
        f"{target} is valid: {config.alliance.name} — "
        f"{len(config.agencies)} agencies, {len(config.cohorts)} cohorts, "
        f"{len(config.digests)} digests, {len(config.themes)} themes."
    )


@app.command()
def reload() -> None:
    """Reload the alliance file in every running process, without a restart.

    The file is validated first (nothing changes if it has problems), its agencies and listed
    members are stored, and a counter in the database is bumped: each `serve` worker, `worker`
    and `socket` process polls it and reloads within about 10 seconds.
    """
    from bot.app import open_database
    from bot.services.members import MemberService
    from storage.uow import UnitOfWorkFactory

    settings = _settings()
    try:
        config = load_alliance(settings.learnloop_config)
    except ConfigError as exc:
        fail_config(exc)
    engine = open_database(settings.database_url)
    try:
        uow = UnitOfWorkFactory(engine)
        from bot.ports import system_clock

        MemberService(uow, config, system_clock).sync_config()
        with uow() as tx:
            generation = tx.onboarding.request_reload(system_clock())
            tx.commit()
    finally:
        engine.dispose()
    console.print(
        f"Asked every LearnLoop process to reload {settings.learnloop_config} "
        f"(version {config.version}, reload {generation}); each does within about "
        "10 seconds and logs 'alliance file … reloaded'."
    )


@prompts_app.command("send")
def prompts_send(
    cohort: Annotated[str | None, typer.Option(help="Only this cohort id.")] = None,
    now: Annotated[bool, typer.Option("--now", help="Send even if the slot hasn't come.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """DM each member of the cohort(s) this cycle's prompt (once per cycle, whatever happens)."""
    from bot.app import build

    settings = _settings()
    _logging(settings)
    try:
        settings.require_platform()  # Slack, Teams, or both
        loop = build(settings, with_slack=settings.slack_enabled)
    except ConfigError as exc:
        fail_config(exc)
    if cohort is not None and cohort not in {c.id for c in loop.alliance.cohorts}:
        known = ", ".join(c.id for c in loop.alliance.cohorts) or "none"
        fail(f"no cohort {cohort!r} (known: {known})")
    reports = loop.services.prompts.send(cohort, now=now)
    if as_json:
        # For scripts and cron wrappers (counts and error codes only).
        print_json([_send_report_json(r) for r in reports])
        raise typer.Exit(EXIT_FAILED if any(r.failed for r in reports) else 0)
    grid = table("cohort", "cycle", "due", "sent", "already", "paused", "inactive", "failed")
    for r in reports:
        grid.add_row(
            r.cohort_id,
            r.cycle,
            "yes" if r.due else "not yet",
            *(str(n) for n in (r.sent, r.already, r.paused, r.inactive, r.failed)),
        )
    console.print(grid)
    errors = sum((r.errors for r in reports), start=type(reports[0].errors)()) if reports else {}
    for code, count in sorted(errors.items()):
        console.print(f"  {count} × {code}")
    if any(r.failed for r in reports):
        raise typer.Exit(EXIT_FAILED)


# The scheduler and the operator's view of the ledger.


@app.command()
def worker(
    tick_seconds: Annotated[
        int,
        typer.Option(
            min=1,
            max=3600,
            help="Seconds between ticks (default 60: at the top of each minute; "
            "shorter is for tests and benchmarks).",
        ),
    ] = 60,
    metrics_host: Annotated[
        str, typer.Option(help="Interface for the worker's /metrics and /healthz.")
    ] = "0.0.0.0",
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Port for /metrics and /healthz (default: $WORKER_METRICS_PORT)."
        ),
    ] = None,
    worker_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            envvar="LEARNLOOP_WORKER_ID",
            help="This worker's name in the ledger's leases (default: host name and process "
            "id). Give each worker its own; on PostgreSQL start as many as you like.",
        ),
    ] = None,
) -> None:
    """Run the scheduler: prompts, reminders and other due work, once a minute (SIGTERM stops).

    On PostgreSQL several workers share the sending; on SQLite one sends and others stand by.
    It also serves /metrics and a heartbeat (/healthz) on its own port.
    """
    from bot.app import build, share_teams_limits
    from bot.scheduler import Worker, due_jobs
    from bot.services.prompts import PromptService
    from bot.worker_status import WorkerStatus, serve_worker_http
    from storage.locks import (
        AdvisoryPresence,
        SoleWorker,
        WorkerPresence,
        default_worker_id,
        leader_lock,
    )

    settings = _settings()
    _logging(settings)
    try:
        settings.require_platform()  # Slack, Teams, or both
        loop = build(settings, with_slack=settings.slack_enabled)
    except ConfigError as exc:
        fail_config(exc)
    name = worker_id or default_worker_id()
    shares = loop.engine.dialect.name == "postgresql"
    presence: AdvisoryPresence | None = None
    if shares:
        presence = AdvisoryPresence(loop.engine, name)
        presence.announce()
        # Teams' per-tenant limit is shared: each worker sends at its share of it.
        share_teams_limits(loop, presence.count)
        logging.getLogger("learnloop").info(
            "worker %s: PostgreSQL, so every worker shares the sending", name
        )
    else:
        logging.getLogger("learnloop").info(
            "worker %s: SQLite allows one sending worker: a second one stands by "
            "(use PostgreSQL to share the sending between several)",
            name,
        )
    known: WorkerPresence = presence if presence is not None else SoleWorker(name)

    def identify(prompts: PromptService) -> None:
        prompts.worker_id, prompts.presence = name, known

    identify(loop.services.prompts)
    status = WorkerStatus(tick_seconds)
    port = settings.worker_metrics_port if metrics_port is None else metrics_port
    try:
        server = serve_worker_http(loop.metrics, status, metrics_host, port)
    except OSError as exc:
        fail(
            f"WORKER_METRICS_PORT: cannot listen on {metrics_host}:{port} ({exc.strerror}): "
            "choose a free port"
        )
    logging.getLogger("learnloop").info(
        "worker metrics and heartbeat on http://%s:%s/metrics and /healthz",
        metrics_host,
        server.server_port,
    )
    from bot.reload import watch

    runner = Worker(due_jobs(loop.services), leader_lock(loop.engine), status=status, shares=shares)
    # A reload builds new services: they keep this worker's name and presence in the leases.
    loop.on_reload.append(lambda: identify(loop.services.prompts))
    # A reloaded alliance file reaches the jobs from the next tick (SIGHUP, `learnloop reload`).
    loop.on_reload.append(lambda: runner.replace_jobs(due_jobs(loop.services)))
    # People new to the file (by id, e-mail, channel) are recognised before their first prompt.
    loop.on_reload.append(lambda: loop.services.prompts.roster.sync_agencies() and None)
    watcher = watch(loop)
    try:
        runner.run(tick_seconds=tick_seconds)
    finally:
        watcher.stop()
        if presence is not None:
            presence.close()
        server.shutdown()
        loop.engine.dispose()


@prompts_app.command("status")
def prompts_status(
    cycle: Annotated[
        str | None,
        typer.Option(help="An ISO week such as 2026-W48 (default: the current cycle)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Per cohort: how many are due, sent, answered, skipped, failed (counts only, no names)."""
    import re

    if cycle is not None and not re.fullmatch(r"\d{4}-W\d{2}", cycle):
        fail(f"--cycle {cycle!r}: write an ISO week like 2026-W48")
    settings = _settings()
    try:
        # It only reads the ledger: no Slack token is needed, and nothing is sent.
        loop = offline_loop(settings)
    except ConfigError as exc:
        fail_config(exc)
    statuses = loop.services.prompts.status(cycle)
    if as_json:
        print_json(
            [
                {
                    "cohort": s.cohort_id,
                    "cycle": s.cycle.split(":", 1)[1],
                    "due": s.due,
                    "statuses": dict(s.statuses),
                    "reminded": s.reminded,
                    "errors": dict(s.errors),
                }
                for s in statuses
            ]
        )
        loop.engine.dispose()
        return
    grid = table(
        "cohort",
        "cycle",
        "due",
        "waiting",
        "sent",
        "answered",
        "skipped",
        "expired",
        "failed",
        "reminded",
        title="Prompts (counts only)",
    )
    errors: dict[str, int] = {}
    for s in statuses:
        grid.add_row(
            s.cohort_id,
            s.cycle.split(":", 1)[1],
            str(s.due),
            *(
                str(s.count(status))
                for status in ("pending", "sent", "answered", "skipped", "expired", "failed")
            ),
            str(s.reminded),
        )
        for code, count in s.errors.items():
            errors[code] = errors.get(code, 0) + count
    console.print(grid)
    console.print(
        "waiting: due but not yet delivered (being sent or retried)\n"
        "sent: delivered, no answer yet",
        style="dim",
    )
    if errors:
        console.print("Errors by kind:")
        for code, count in sorted(errors.items(), key=lambda kv: (-kv[1], kv[0])):
            console.print(f"  {count} × {code}")
    loop.engine.dispose()


@app.command()
def demo(
    database: Annotated[
        str, typer.Option(help="Where to keep the demo data (replaced on each run).")
    ] = "sqlite:///learnloop-demo.db",
    weeks: Annotated[int, typer.Option(min=1, max=12, help="Weeks of check-ins to make.")] = 4,
) -> None:
    """Try LearnLoop without Slack: an example alliance, a few weeks of check-ins, a summary."""
    from bot.cli.demo import run_demo

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
    from bot.urls import PublicUrlError, public_base_url

    try:
        base = public_base_url(url) if url is not None else None
    except PublicUrlError as exc:
        fail(str(exc))
    typer.echo(manifest_yaml(base), nl=False)


@app.command("teams-package")
def teams_package(
    out: Annotated[Path, typer.Option(help="Where to write the zip.")] = Path(
        "learnloop-teams.zip"
    ),
    bot_id: Annotated[
        str | None,
        typer.Option(help="The Azure Bot's Microsoft App ID (default: $TEAMS_CLIENT_ID)."),
    ] = None,
    app_id: Annotated[
        str | None, typer.Option(help="The Teams app's own id, a GUID (default: the bot id).")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Public https URL of this deployment (its domain).")
    ] = None,
    name: Annotated[str, typer.Option(help="The app's name in Teams.")] = "LearnLoop",
    package_version: Annotated[
        str | None,
        typer.Option(
            help="The package's version, MAJOR.MINOR.PATCH (default: LearnLoop's). Raise it "
            "for every package you upload again: Teams refuses one that is not newer."
        ),
    ] = None,
    privacy_url: Annotated[
        str | None,
        typer.Option(
            help="Your own privacy notice (default: the one LearnLoop serves at URL/privacy)."
        ),
    ] = None,
    terms_url: Annotated[
        str | None,
        typer.Option(
            help="Your own terms of use (default: the ones LearnLoop serves at URL/terms)."
        ),
    ] = None,
) -> None:
    """Build the Teams app package (manifest.json and icons) to upload to Teams."""
    from bot.teams.package import PackageError, build_package

    bot = bot_id or _settings().teams_client_id
    if not bot:
        fail(
            "TEAMS_CLIENT_ID is not set and --bot-id was not given: "
            "use the Azure Bot's Microsoft App ID"
        )
    try:
        document = build_package(
            out,
            bot,
            app_id=app_id,
            url=url,
            name=name,
            version=package_version,
            privacy_url=privacy_url,
            terms_url=terms_url,
        )
    except PackageError as exc:
        fail(str(exc))
    commands = ", ".join(c["title"] for c in document["bots"][0]["commandLists"][0]["commands"])
    console.print(
        f"Wrote {out} for bot {bot} (manifest {document['manifestVersion']}, "
        f"version {document['version']}). Commands: {commands}.\n"
        "Upload it in Teams: Apps → Manage your apps → Upload an app (or Teams admin centre)."
    )


# `export`, `purge` and `audit` live in their own module.
register_privacy_commands(app)
# `digest preview|send` and `report` live in their own module.
register_digest_commands(app)


# `barriers export` lives in its own module.
register_barrier_commands(app)
# `contributor-link` (issue 15: lived experience and other groups with no chat account).
register_contributor_commands(app)
register_board_commands(app)
# `encryption-key` and `workspaces` (multi-workspace installs).
register_workspace_commands(app)


def main() -> None:
    """Entry point of the `learnloop` script."""
    app()


if __name__ == "__main__":
    main()

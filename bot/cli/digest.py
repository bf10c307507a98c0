"""`learnloop digest preview|send|status|retry` and `learnloop report` (the review pack)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from bot.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    fail,
    literal_console,
    offline_loop,
    print_json,
    table,
)
from bot.domain.errors import LearnLoopError
from bot.settings import ConfigError, Settings, load_settings

console = literal_console()
err = literal_console(stderr=True)


digest_app = typer.Typer(
    help="The weekly learning digest: preview it, or post it now.", no_args_is_help=True
)

WeekOption = Annotated[
    str | None,
    typer.Option(help="ISO week, e.g. 2026-W47 (default: this week).", show_default=False),
]
DestinationOption = Annotated[
    str | None,
    typer.Option(
        "--destination",
        help=(
            "Only this destination id (a `digests:` id, every address of an e-mail entry, "
            "<entry>:<address>, or manager:<agency>:<user id>)."
        ),
        show_default=False,
    ),
]


def _fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    fail(message, code)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail("; ".join(exc.problems))
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return settings


def _loop(with_slack: bool) -> Any:
    from bot.app import build

    settings = _settings()
    try:
        if with_slack:
            settings.require_slack()
            return build(settings)
        return offline_loop(settings)
    except ConfigError as exc:
        _fail("; ".join(exc.problems))


def _destinations(loop: Any, destination: str | None) -> list[Any]:
    service = loop.services.digests
    try:
        return service.matching(destination) if destination else service.destinations()
    except LearnLoopError as exc:
        _fail(exc.message)


@digest_app.command("preview")
def preview(week: WeekOption = None, destination: DestinationOption = None) -> None:
    """Print the digest (as text, then its Block Kit JSON) without posting anything."""
    from bot.render.digest import render_text
    from bot.slack.render import thread
    from bot.views.digest import digest_thread

    loop = _loop(with_slack=False)
    for dest in _destinations(loop, destination):
        try:
            view = loop.services.digests.build(dest, week)
        except LearnLoopError as exc:
            _fail(exc.message)
        console.rule(f"{dest.id} → {dest.channel} ({dest.scope})")
        # Plain echo, not rich: JSON must not be wrapped at the terminal's width.
        typer.echo(render_text(view))
        typer.echo("\nBlock Kit (the first message is posted; any others go in its thread):")
        payload = [{"text": text, "blocks": blocks} for text, blocks in thread(digest_thread(view))]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))


@digest_app.command("send")
def send(
    week: WeekOption = None,
    destination: DestinationOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Post the digest now (once per destination and week, however often this runs)."""
    loop = _loop(with_slack=True)
    results = []
    for dest in _destinations(loop, destination):
        try:
            results.append(loop.services.digests.send(dest, week))
        except LearnLoopError as exc:
            _fail(exc.message)
    if as_json:
        print_json(
            [
                {
                    "destination": r.destination_id,
                    "week": r.period,
                    "result": r.status,
                    "detail": r.detail,
                    "next_step": _next_step(loop, r),
                }
                for r in results
            ]
        )
    else:
        grid = table("destination", "week", "result", "detail")
        for result in results:
            grid.add_row(result.destination_id, result.period, result.status, result.detail)
        console.print(grid)
        for result in results:
            step = _next_step(loop, result)
            if step:
                typer.echo(step)
    # Not posted (yet): say so with the exit code, so a cron job or a deploy step notices.
    if any(r.status in ("failed", "retry", "waiting") for r in results):
        raise typer.Exit(EXIT_FAILED)


@digest_app.command("status")
def status(
    week: WeekOption = None,
    destination: DestinationOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Show where each destination's digest stands this week: posted, pending, failed (why)."""
    loop = _loop(with_slack=False)
    service = loop.services.digests
    rows = [
        {
            "destination": dest.id,
            "kind": dest.kind,
            "week": period,
            "status": state,
            "error": error,
        }
        for dest, period, state, error in service.ledger(_destinations(loop, destination), week)
    ]
    if as_json:
        print_json(rows)
    else:
        grid = table("destination", "kind", "week", "status", "error")
        for r in rows:
            grid.add_row(r["destination"], r["kind"], r["week"], r["status"], r["error"])
        console.print(grid)
    if any(r["status"] == "failed" for r in rows):
        typer.echo(
            "A failed digest is not tried again: fix its cause (an address the mail server "
            "refused, a channel), then `learnloop digest retry --destination ID --week WEEK`."
        )
        raise typer.Exit(EXIT_FAILED)


@digest_app.command("retry")
def retry(week: WeekOption = None, destination: DestinationOption = None) -> None:
    """Let a failed digest be sent again (the worker's next pass, or `digest send`)."""
    if not destination:
        _fail("Name the digest: --destination ID (see `learnloop digest status`).")
    loop = _loop(with_slack=False)
    service = loop.services.digests
    reopened = [
        f"{dest.id} {period}"
        for dest in _destinations(loop, destination)
        if (period := service.reopen(dest, week)) is not None
    ]
    if not reopened:
        _fail(f"No failed digest for {destination} that week: nothing to retry.", EXIT_FAILED)
    for line in reopened:
        typer.echo(f"{line}: pending again; it is sent on the worker's next pass.")


def _next_step(loop: Any, result: Any) -> str | None:
    """What happens to a digest this run could not finish, in words an operator can act on."""
    if result.status not in ("retry", "waiting"):
        return None
    service = loop.services.digests
    dest = service.destination(result.destination_id)
    again = f"learnloop digest send --destination {dest.id} --week {result.period}"
    if result.status == "waiting":
        return (
            f"{dest.id} {result.period}: LearnLoop is not in {dest.channel}. Invite it there; "
            f"the worker tries again every five minutes this week, or run `{again}`."
        )
    if result.detail == "ratelimited":
        why = (
            "the platform kept answering 'slow down' (rate limited) after LearnLoop waited "
            f"up to {loop.settings.learnloop_digest_retry_seconds:g} s in this run"
        )
    elif dest.kind == "email":
        why = f"the mail server could not take it yet ({result.detail})"
    else:
        why = f"the platform could not take it ({result.detail})"
    if result.parts_total:
        out = (
            f"{result.parts_posted} of {result.parts_total} messages are posted and will not "
            "be posted again"
        )
    else:
        out = "nothing was posted"
    if service.worker_retries(dest, result.period):
        then = "The worker tries again on its next pass (within a minute) and posts the rest"
    else:
        then = f"The worker does not retry this week's slot for it: run `{again}` again later"
    return f"{dest.id} {result.period}: not fully posted: {why}; {out}. {then}."


def report(
    first: Annotated[
        dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day, YYYY-MM-DD.")
    ],
    last: Annotated[
        dt.datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, YYYY-MM-DD.")
    ],
    out: Annotated[Path, typer.Option(help="Where to write the HTML page.")] = Path("report.html"),
    scope: Annotated[
        str, typer.Option(help="alliance, or agency:<id> for one agency's own pack.")
    ] = "alliance",
) -> None:
    """Write a learning review pack: a self-contained HTML page with its charts embedded."""
    from bot.render.digest import render_html

    loop = _loop(with_slack=False)
    try:
        with err.status("Building the review pack…"):
            view, charts = loop.services.digests.report(first.date(), last.date(), scope)
    except LearnLoopError as exc:
        _fail(exc.message)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(view, charts), encoding="utf-8")
    console.print(
        f"Wrote {out} — {view.period_label}: {counted(view.learnings, 'learning')}, "
        f"{counted(len(view.patterns), 'shared pattern')}, {counted(len(charts), 'chart')}."
    )


def counted(count: int, noun: str) -> str:
    """`1 chart`, `2 charts`: the count with its noun in the right number."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def register(app: typer.Typer) -> None:
    """Add `digest preview|send` and `report` to the main command line."""
    app.add_typer(digest_app, name="digest")
    app.command("report")(report)

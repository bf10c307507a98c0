"""`learnloop barriers export` — the barrier register for board papers; `barriers contact`.

The export has every barrier, where it is on the ladder, who owns it, its outcome and (in JSON)
its history. Who raised a barrier is never in it, named or anonymous: board papers are about
the barrier, and an anonymous raiser must never be recoverable from one.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import fail, fail_config, literal_console, offline_loop, os_actor
from bot.domain.errors import LearnLoopError
from bot.services.barriers import records_as_csv, records_as_json
from bot.settings import ConfigError

err = literal_console(stderr=True)

barriers_app = typer.Typer(help="The barrier register (escalations).", no_args_is_help=True)


class Format(StrEnum):
    """Export formats."""

    CSV = "csv"
    JSON = "json"


@barriers_app.command("export")
def export(
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="csv (one row per barrier) or json.")
    ] = Format.CSV,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Export every barrier for board papers (who raised them is never included)."""
    try:
        loop = offline_loop()
    except ConfigError as exc:
        fail_config(exc)
    try:
        records = loop.services.escalations.export_records(actor=os_actor(), fmt=fmt.value)
    finally:
        loop.engine.dispose()
    text = records_as_csv(records) if fmt is Format.CSV else records_as_json(records)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    err.print(f"Exported {len(records)} barriers to {out}.")


@barriers_app.command("contact")
def contact(
    barrier: Annotated[int, typer.Option("--barrier", help="The barrier's number.")],
    email: Annotated[
        str, typer.Option("--email", help="An address from the alliance file's people: list.")
    ],
    remove: Annotated[
        bool, typer.Option("--remove", help="Stop e-mailing this address about it.")
    ] = False,
) -> None:
    """E-mail someone with no chat account when a barrier changes level or is closed."""
    try:
        loop = offline_loop()
    except ConfigError as exc:
        fail_config(exc)
    try:
        changed = loop.services.escalations.follow_by_email(
            barrier, email, actor=os_actor(), remove=remove
        )
    except LearnLoopError as exc:
        fail(exc.message)
    finally:
        loop.engine.dispose()
    if remove:
        typer.echo(
            f"{email} will no longer be e-mailed about barrier {barrier}."
            if changed
            else f"{email} was not following barrier {barrier}."
        )
    else:
        typer.echo(
            f"{email} will be e-mailed when barrier {barrier} changes level or closes."
            if changed
            else f"{email} already follows barrier {barrier}."
        )


def register(app: typer.Typer) -> None:
    """Add `learnloop barriers …` to the main command line."""
    app.add_typer(barriers_app, name="barriers")

"""`learnloop contributor-link --group ID [--revoke]`: print or revoke a group's form link."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import EXIT_CONFIG, fail, fail_config, offline_loop, os_actor
from bot.domain.errors import LearnLoopError
from bot.settings import ConfigError


def contributor_link(
    group: Annotated[
        str, typer.Option("--group", help="A `contributors:` id from the alliance file.")
    ],
    revoke: Annotated[
        bool,
        typer.Option("--revoke", help="Withdraw the group's link (the next run prints a new one)."),
    ] = False,
) -> None:
    """Print a contributor group's form URL (made once, then the same), or revoke it."""
    try:
        loop = offline_loop()
    except ConfigError as exc:
        fail_config(exc)
    service = loop.services.contributors
    try:
        if revoke:
            count = service.revoke(group, actor=os_actor())
            typer.echo(
                f"Revoked {count} link(s) of {group}: they now open a 'link withdrawn' page."
                if count
                else f"{group} had no live link: nothing to revoke."
            )
        else:
            typer.echo(service.link(group, actor=os_actor()))
    except LearnLoopError as exc:
        fail(exc.message, EXIT_CONFIG)
    finally:
        loop.engine.dispose()


def register(app: typer.Typer) -> None:
    """Add `learnloop contributor-link` to the main command line."""
    app.command("contributor-link")(contributor_link)

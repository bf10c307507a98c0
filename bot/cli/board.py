"""`learnloop board-link --email ADDRESS` — a one-time Learning Board sign-in link to hand over.

The link is the same as the one the sign-in form e-mails: signed with BOARD_SECRET_KEY, good
once, for 15 minutes. Issuing one is audited.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import EXIT_CONFIG, fail, fail_config, offline_loop, os_actor
from bot.settings import ConfigError, load_settings


def board_link(
    email: Annotated[str, typer.Option("--email", help="The person's address in `people:`.")],
) -> None:
    """Print a one-time sign-in link to the Learning Board (valid once, for 15 minutes)."""
    from bot.web.board.routes import signin_url
    from bot.web.board.security import BoardSigner

    try:
        settings = load_settings()
        loop = offline_loop(settings)
    except ConfigError as exc:
        fail_config(exc)
    try:
        key = settings.board_secret_key.get_secret_value() if settings.board_secret_key else ""
        if not key:
            fail("BOARD_SECRET_KEY is not set: it signs the board's sign-in links")
        if not settings.board_url:
            fail("BOARD_URL is not set: it is the public address the link points at")
        issued = loop.services.board.issue_link(email, os_actor())
        if issued is None:
            fail(
                f"{email.strip()!r} is not in the alliance file's people: add them there "
                "(with a role) first",
                EXIT_CONFIG,
            )
        jti, viewer = issued
        now = loop.services.board.clock()
        url = signin_url(
            BoardSigner(key), settings.board_url, jti, viewer.subject.removeprefix("email:"), now
        )
    finally:
        loop.engine.dispose()
    typer.echo(url)


def register(app: typer.Typer) -> None:
    """Add `learnloop board-link` to the main command line."""
    app.command("board-link")(board_link)

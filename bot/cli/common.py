"""What every `learnloop` command shares: exit codes, the no-op messenger, building offline."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, cast

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from bot.ports import Messenger, MessengerError
from bot.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from bot.app import LearnLoop

# The exit codes the README documents.
EXIT_FAILED = 1  # the command ran and failed (a send, a migration)
EXIT_CONFIG = 2  # configuration or usage: nothing was attempted


class NoMessenger:
    """For commands that only read and write the database: sending is a bug, reported as such."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> NoReturn:
            raise MessengerError("not_connected", name)

        return refuse


def offline_loop(settings: Settings | None = None) -> LearnLoop:
    """LearnLoop without Slack or Teams: the services on the database, sending nothing.

    Raises ConfigError (settings, the alliance file or the database's schema).
    """
    from bot.app import build

    return build(
        settings or load_settings(), messenger=cast(Messenger, NoMessenger()), with_slack=False
    )


def os_actor(given: str | None = None) -> str:
    """Who ran the command, for the audit log: `given`, else cli:<OS user name>."""
    if given and given.strip():
        return given.strip()[:100]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        user = "unknown"
    return f"cli:{user}"


def literal_console(stderr: bool = False) -> Console:
    """A console that prints ids and people's words as they are.

    Rich would read `[...]` as markup, `:hospital:` as an emoji (so `manager:hospital:U0MGR2`
    came out as `manager🏥U0MGR2`) and colour numbers; an operator must be able to paste
    what LearnLoop printed back into a command.
    """
    # soft_wrap: a long line is left for the terminal to wrap, so a path or an id in it is
    # never broken by an inserted newline (tables still fit the width).
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=True)


def table(
    *headers: str,
    title: str | None = None,
    whole: Sequence[str] = (),
    narrow: Mapping[str, int] | None = None,
) -> Table:
    """A table that fits the terminal (80 columns when piped) by wrapping cells, never cutting.

    One space between columns and no borders at the sides leave the most room for the cells.
    Cells wrap between words; the columns named in `whole` (ids, codes) are kept on one line
    so the others wrap first, and a word is split only when nothing else fits. `narrow` caps
    a column's width (a timestamp's date above its time) to leave room for the others.
    """
    grid = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0))
    for header in headers:
        grid.add_column(
            header,
            overflow="fold",
            no_wrap=header in whole,
            max_width=(narrow or {}).get(header),
        )
    return grid


def fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    """One plain line on stderr (never wrapped, never read as markup), then exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def fail_config(exc: ConfigError) -> NoReturn:
    """Each configuration problem on its own line, then exit 2."""
    for problem in exc.problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(EXIT_CONFIG)


def print_json(data: object) -> None:
    """Machine-readable output on stdout (progress and errors stay on stderr)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))

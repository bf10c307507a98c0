"""What every `learnloop` command shares: exit codes, the no-op messenger, building offline."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, cast

from bot.config import Settings, load_settings
from bot.ports import Messenger, MessengerError

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

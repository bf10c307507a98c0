"""The learning library on Slack: `/learnloop find …` and its "More results" button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import Services
from bot.slack.ids import Action
from bot.slack.render import message
from bot.views.library import FindView, find_message
from handlers.slack.errors import reported

PLATFORM = "slack"


def _show(respond: Respond, view: FindView) -> None:
    text, blocks = message(find_message(view))
    # A new ephemeral message per page: earlier pages stay readable above it.
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def find(user_id: str, rest: str, respond: Respond, services: Services) -> None:
    """`/learnloop find WORDS [--theme T] [--agency A]` (after the ack)."""
    _show(respond, services.library.find(PLATFORM, user_id, rest))


def more_results(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, services: Services
) -> None:
    """ "More results": the next page, read again for whoever pressed it."""
    ack()
    value = str(action.get("value") or "")
    _show(respond, services.library.more(PLATFORM, body["user"]["id"], value))


def register(app: App) -> None:
    """Attach the library's button (the command is a `/learnloop` subcommand)."""
    app.action(Action.LIBRARY_MORE.value)(reported(more_results))

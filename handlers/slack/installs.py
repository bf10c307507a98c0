"""A workspace uninstalling LearnLoop, or Slack revoking its tokens."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from handlers.slack.errors import reported

log = logging.getLogger("learnloop.handlers")


def app_uninstalled(ack: Ack, context: BoltContext) -> None:
    """Forget the workspace's tokens (OAuth mode); the data already shared stays the alliance's."""
    ack()
    installs = context.get("installs")
    if installs is None:
        log.warning(
            "LearnLoop was uninstalled from workspace %s: SLACK_BOT_TOKEN no longer works",
            context.team_id,
        )
        return
    installs.uninstalled(context.enterprise_id, context.team_id)


def tokens_revoked(ack: Ack, context: BoltContext, event: dict[str, Any]) -> None:
    """Forget the tokens Slack says were revoked."""
    ack()
    tokens = event.get("tokens") or {}
    users = [str(u) for u in tokens.get("oauth") or []]
    bot = bool(tokens.get("bot"))
    installs = context.get("installs")
    if installs is None:
        if bot:
            log.warning("Slack revoked the bot token of workspace %s", context.team_id)
        return
    installs.revoked(context.enterprise_id, context.team_id, users, bot)


def register(app: App) -> None:
    """Attach the install lifecycle listeners."""
    app.event("app_uninstalled")(reported(app_uninstalled))
    app.event("tokens_revoked")(reported(tokens_revoked))

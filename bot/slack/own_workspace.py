"""Which Slack workspace and app a single-workspace deployment serves, and refusing the rest.

A signed request proves it was made with our signing secret, not that it is about our
workspace: an app distributed to several workspaces without OAuth, a shared secret or a
replayed body from elsewhere would otherwise be stored as ours. The bot token says who we are
(`auth.test` gives the workspace and the bot, `bots.info` the bot's app), asked once per process
when the first request arrives and remembered.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.inbound import SlackBody

log = logging.getLogger("learnloop.slack")


@dataclass(frozen=True)
class Identity:
    """Our workspace (and Enterprise Grid org, if any) and our app."""

    team_id: str
    enterprise_id: str | None
    app_id: str | None


class OwnWorkspace:
    """Learns our identity from the bot token once, then says whether a request is for us."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._identity: Identity | None = None

    @property
    def known(self) -> bool:
        """Whether the identity has been learned (checks then cost nothing)."""
        return self._identity is not None

    def identity(self) -> Identity | None:
        """Our identity, asked of Slack the first time; None while Slack can't say."""
        if self._identity is not None:
            return self._identity
        with self._lock:
            if self._identity is None:
                self._identity = self._ask()
        return self._identity

    def _ask(self) -> Identity | None:
        try:
            auth = self._client.auth_test()
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not learn this workspace's id from Slack: %s", type(exc).__name__)
            return None
        app_id = None
        bot_id = auth.get("bot_id")
        if bot_id:
            try:
                app_id = (self._client.bots_info(bot=bot_id).get("bot") or {}).get("app_id")
            except (SlackApiError, SlackClientError, OSError) as exc:
                # The workspace is still checked; the app is checked once Slack says which.
                log.warning("could not learn this app's id from Slack: %s", type(exc).__name__)
                return Identity(auth["team_id"], auth.get("enterprise_id"), None)
        return Identity(auth["team_id"], auth.get("enterprise_id"), app_id)

    def refusal(self, body: SlackBody) -> str | None:
        """Why a request is not for this deployment ("team" or "app"), or None if it is.

        While Slack cannot tell us who we are, requests are let through: they are signed with
        our secret, and refusing them all would lose every check-in until Slack answers.
        """
        if body.team_id is None and body.api_app_id is None:
            return None  # url_verification, ssl_check: nothing stored, nothing to check
        me = self.identity()
        if me is None:
            return None
        if body.team_id is not None and body.team_id not in (me.team_id, me.enterprise_id):
            return "team"
        if body.api_app_id is not None and me.app_id is not None and body.api_app_id != me.app_id:
            return "app"
        return None

"""Slack workspaces installed through OAuth, for the tests and benches that pace or route them.

One fake Slack Web API serves them all and tells them apart by their bot tokens, so each
workspace gets a token of its own (`token_of`), the app gets OAuth settings pointed at the
fake (`oauth_settings`), and each workspace is stored as installed (`install_workspaces`).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from typing import Any

from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.app import LearnLoop
from bot.settings import Settings


def token_of(team: str) -> str:
    """The bot token of `team`'s install (its shape is a real token's; its value is not)."""
    return f"xoxb-{team.lower()}-" + base64.b32encode(bytes(10)).decode()


def oauth_settings(
    slack_url: str, database_url: str, signing_secret: str, **extra: Any
) -> Settings:
    """A multi-workspace (OAuth) deployment's settings, its Web API the fake at `slack_url`."""
    return Settings(
        _env_file=None,
        slack_signing_secret=signing_secret,
        slack_api_url=slack_url,
        database_url=database_url,
        slack_client_id="1.2",
        slack_client_secret="s",
        learnloop_encryption_key=Fernet.generate_key().decode(),
        **extra,
    )


def install_workspaces(loop: LearnLoop, teams: Iterable[str]) -> None:
    """Store each of `teams` as installed, with the token `token_of` gives it."""
    assert loop.installs is not None
    for team in teams:
        loop.installs.store.save(
            Installation(
                app_id="A1",
                team_id=team,
                bot_token=token_of(team),
                bot_id="B1",
                bot_user_id="UBOT",
                user_id="UADMIN",
                installed_at=time.time(),
            )
        )

"""The digest as each platform posts it, for tests: Slack's messages and Teams' cards."""

from __future__ import annotations

from typing import Any

from bot.slack import render as slack
from bot.teams import render as teams
from bot.views.digest import DigestView, digest_thread


def digest_messages(view: DigestView) -> list[tuple[str, list[dict[str, Any]]]]:
    """(notification text, blocks) of each Slack post: the first, then its thread replies."""
    return slack.thread(digest_thread(view))


def digest_card_dicts(view: DigestView) -> list[dict[str, Any]]:
    """The Teams cards as Teams receives them: the first, then its thread replies."""
    return [teams.card_dict(card) for card in teams.thread_cards(digest_thread(view))]

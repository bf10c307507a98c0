"""Ports: what services need from the outside world, as Protocols with no platform in them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.views import PromptView, ReplySavedView

Clock = Callable[[], dt.datetime]

# Platform errors that mean the person can no longer be reached: retrying will not help.
UNREACHABLE_ERRORS = frozenset(
    {"user_not_found", "account_inactive", "user_disabled", "cannot_dm_bot", "channel_not_found"}
)


def system_clock() -> dt.datetime:
    """The real time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class MessageRef:
    """Where a message was posted, so it can be updated in place."""

    channel: str
    ts: str


class MessengerError(Exception):
    """A platform refused a call after its retries; `code` is the platform's error code."""

    def __init__(self, code: str, method: str = "") -> None:
        super().__init__(f"{method or 'platform call'} failed: {code}")
        self.code = code
        self.method = method

    @property
    def unreachable(self) -> bool:
        """Whether the person cannot be reached at all (do not retry, mark inactive)."""
        return self.code in UNREACHABLE_ERRORS


class Messenger(Protocol):
    """Sends LearnLoop's messages on one chat platform."""

    def send_prompt(self, user_id: str, view: PromptView) -> MessageRef:
        """DM the weekly prompt."""
        ...

    def update_prompt(self, ref: MessageRef, view: PromptView) -> None:
        """Re-render a prompt already sent (thanks, skipped, paused)."""
        ...

    def confirm_reply(self, channel: str, view: ReplySavedView) -> None:
        """Tell someone their plain reply was saved, offering to add detail."""
        ...

    def notify(self, user_id: str, text: str) -> None:
        """Send a short private message to a person."""
        ...

    def channel_members(self, channel: str) -> list[str]:
        """User ids of a channel's members (humans only where the platform says so)."""
        ...

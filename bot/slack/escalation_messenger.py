"""The escalation half of the Slack Messenger: the thanks that offers "Escalate this", and links.

A mixin of `SlackMessenger` (which supplies `client` and `_call`), kept in its own module so
the barrier register's Slack-only calls sit together (its cards and notices go through the
generic `send` and `update`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient

from bot.ports import MessageRef, MessengerError

T = TypeVar("T")


class EscalationMessaging:
    """Escalation methods of the Messenger port on Slack."""

    client: WebClient

    def _call(self, method: str, fn: Callable[[], T]) -> T:  # pragma: no cover - overridden
        raise NotImplementedError

    def link_to(self, ref: MessageRef) -> str | None:
        """The message's permalink, or None when Slack will not give one."""
        try:
            resp: Any = self._call(
                "chat.getPermalink",
                lambda: self.client.chat_getPermalink(channel=ref.channel, message_ts=ref.ts),
            )
        except MessengerError:
            return None
        link = resp.get("permalink")
        return str(link) if link else None

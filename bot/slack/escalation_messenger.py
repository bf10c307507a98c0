"""The escalation half of the Slack Messenger: cards, pointers, DMs and stale reminders.

A mixin of `SlackMessenger` (which supplies `client` and `_call`), kept in its own module so
the barrier register's Slack calls sit together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient

from bot.ports import MessageRef, MessengerError
from bot.slack.escalation_blocks import (
    barrier_card,
    barrier_notice,
    barrier_pointer,
    stale_barriers,
)
from bot.views import (
    BarrierCardView,
    BarrierNoticeView,
    BarrierPointerView,
    StaleBarriersView,
)

T = TypeVar("T")


class EscalationMessaging:
    """Escalation methods of the Messenger port on Slack."""

    client: WebClient

    def _call(self, method: str, fn: Callable[[], T]) -> T:  # pragma: no cover - overridden
        raise NotImplementedError

    def post_card(self, channel: str, view: BarrierCardView) -> MessageRef:
        """Post a barrier's card, joining a public channel first if the bot is not in it."""
        text, blocks = barrier_card(view)
        return self._post_in_channel(channel, text, blocks)

    def update_card(self, ref: MessageRef, view: BarrierCardView) -> None:
        """Re-render a card in place."""
        text, blocks = barrier_card(view)
        self._update(ref, text, blocks)

    def post_pointer(self, ref: MessageRef, view: BarrierPointerView) -> None:
        """Replace an old card (and its buttons) with a pointer to the new one."""
        text, blocks = barrier_pointer(view)
        self._update(ref, text, blocks)

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

    def notify_barrier(self, user_id: str, view: BarrierNoticeView) -> None:
        """DM a raiser or a linked check-in's author what happened to the barrier."""
        text, blocks = barrier_notice(view)
        self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(channel=user_id, text=text, blocks=blocks),
        )

    def post_stale(self, channel: str, view: StaleBarriersView) -> MessageRef:
        """Post the weekly stale-barrier reminder in a level's channel."""
        text, blocks = stale_barriers(view)
        return self._post_in_channel(channel, text, blocks)

    def _post_in_channel(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> MessageRef:
        def post() -> Any:
            return self._call(
                "chat.postMessage",
                lambda: self.client.chat_postMessage(channel=channel, text=text, blocks=blocks),
            )

        try:
            resp = post()
        except MessengerError as exc:
            # The ladder's channels are named in the config; a public one can be joined
            # (channels:join) instead of asking an admin to invite the bot.
            if exc.code != "not_in_channel":
                raise
            self._call(
                "conversations.join", lambda: self.client.conversations_join(channel=channel)
            )
            resp = post()
        return MessageRef(channel=str(resp["channel"]), ts=str(resp["ts"]))

    def _update(self, ref: MessageRef, text: str, blocks: list[dict[str, Any]]) -> None:
        self._call(
            "chat.update",
            lambda: self.client.chat_update(
                channel=ref.channel, ts=ref.ts, text=text, blocks=blocks
            ),
        )

"""The learning-cycles half of the Slack Messenger (issue 9): inquiry summaries.

A mixin of `SlackMessenger` (which supplies `client` and `_call`), like the digest one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient

from bot.ports import MessageRef, MessengerError
from bot.slack.inquiry_blocks import summary_message
from bot.views.inquiry import InquirySummaryView

T = TypeVar("T")


class InquiryMessaging:
    """Inquiry methods of the Messenger port on Slack."""

    client: WebClient

    def _call(self, method: str, fn: Callable[[], T]) -> T:  # pragma: no cover - overridden
        raise NotImplementedError

    def post_inquiry_summary(self, channel: str, view: InquirySummaryView) -> MessageRef:
        """Post an inquiry's summary; join a public channel the bot is not in yet, then retry."""
        text, blocks = summary_message(view)

        def post() -> Any:
            return self._call(
                "chat.postMessage",
                lambda: self.client.chat_postMessage(
                    channel=channel, text=text, blocks=blocks, unfurl_links=False
                ),
            )

        try:
            resp = post()
        except MessengerError as exc:
            if exc.code != "not_in_channel":
                raise
            # A private channel can't be joined: that error reaches the steward, who can invite.
            self._call(
                "conversations.join", lambda: self.client.conversations_join(channel=channel)
            )
            resp = post()
        return MessageRef(channel=str(resp["channel"]), ts=str(resp["ts"]))

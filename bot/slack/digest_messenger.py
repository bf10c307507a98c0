"""The digest half of the Slack Messenger (issue 4): the message, its thread, the chart, joining.

A mixin of `SlackMessenger` (which supplies `client` and `_call`), like the escalation one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient

from bot.ports import MessageRef
from bot.slack.digest_blocks import digest_messages
from bot.views.digest import DigestView

T = TypeVar("T")


class DigestMessaging:
    """Digest methods of the Messenger port on Slack."""

    client: WebClient

    def _call(self, method: str, fn: Callable[[], T]) -> T:  # pragma: no cover - overridden
        raise NotImplementedError

    def post_digest(self, channel: str, view: DigestView) -> MessageRef:
        """Post the digest; what does not fit one message goes into replies in its thread."""
        messages = digest_messages(view)
        text, blocks = messages[0]
        resp: Any = self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False
            ),
        )
        ref = MessageRef(channel=str(resp["channel"]), ts=str(resp["ts"]))
        for reply_text, reply_blocks in messages[1:]:
            self._call(
                "chat.postMessage",
                lambda t=reply_text, b=reply_blocks: self.client.chat_postMessage(
                    channel=ref.channel, thread_ts=ref.ts, text=t, blocks=b, unfurl_links=False
                ),
            )
        return ref

    def upload_chart(
        self, channel: str, png: bytes, filename: str, title: str, alt_text: str
    ) -> None:
        """Upload a chart image into a conversation (files_upload_v2, with alt text)."""
        self._call(
            "files.upload_v2",
            lambda: self.client.files_upload_v2(
                channel=channel, file=png, filename=filename, title=title, alt_txt=alt_text
            ),
        )

    def join_channel(self, channel: str) -> None:
        """Join a public channel (needs the channels:join scope)."""
        self._call("conversations.join", lambda: self.client.conversations_join(channel=channel))

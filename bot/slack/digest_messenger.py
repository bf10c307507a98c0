"""The digest half of the Slack Messenger: the message, its thread, the chart, joining.

A mixin of `SlackMessenger` (which supplies `client`, `_call` and `channel_pacer`), like the
escalation one. A digest is several posts into one channel, so each waits for the channel's
turn (Slack allows about one message a second per channel), and a 429 or a 5xx is waited out
and tried again within a bounded total wait, so one busy second does not leave it half posted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient

from bot.ports import DigestProgress, MessageRef, MessengerError
from bot.slack import render
from bot.slack.pacing import ChannelPacer
from bot.views.message import Thread

T = TypeVar("T")

# Message metadata on each part, so a part posted by an attempt that never heard back (a crash,
# a timeout) is found in the channel instead of being posted twice.
DIGEST_EVENT = "learnloop_digest"
# How long one digest send may spend waiting out 429s and 5xx before it gives up for this run
# (the row stays pending, with its accepted parts recorded, for the worker's next pass).
DIGEST_RETRY_BUDGET = 60.0
SERVER_ERROR_WAIT = 1.0
# 429s and HTTP 5xx are waited out here; other refusals go back to the caller at once.
RETRYABLE = frozenset({"ratelimited", "server_error"})


class _Budget:
    """The waiting one digest send may still do."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds

    def spend(self, seconds: float) -> bool:
        """Whether `seconds` more waiting fits (and take them if so)."""
        if seconds > self.left:
            return False
        self.left -= seconds
        return True


class DigestMessaging:
    """Digest methods of the Messenger port on Slack."""

    client: WebClient
    channel_pacer: ChannelPacer
    digest_retry_budget: float = DIGEST_RETRY_BUDGET

    def _call(self, method: str, fn: Callable[[], T]) -> T:  # pragma: no cover - overridden
        raise NotImplementedError

    def post_digest(
        self, channel: str, digest: Thread, progress: DigestProgress | None = None
    ) -> MessageRef:
        """Post the digest; what does not fit one message goes into replies in its thread.

        Parts already in `progress` are skipped; each newly accepted one is reported to it.
        """
        messages = render.thread(digest)
        progress = progress if progress is not None else DigestProgress()
        progress.total = len(messages)
        budget = _Budget(self.digest_retry_budget)
        for index in range(len(progress.parts), len(messages)):
            text, blocks = messages[index]
            head = progress.head
            where = head.channel if head else channel
            thread_ts = head.ts if head and index else None
            if progress.in_doubt:
                # Only the part after the last recorded one can be out without being recorded.
                progress.in_doubt = False
                found = self._find_part(where, thread_ts, progress.marker, index)
                if found is not None:
                    progress.accepted(index, found)
                    continue
            kwargs: dict[str, Any] = {"channel": where, "text": text, "blocks": blocks}
            if thread_ts:
                kwargs["thread_ts"] = thread_ts
            if progress.marker:
                kwargs["metadata"] = {
                    "event_type": DIGEST_EVENT,
                    "event_payload": {"digest": progress.marker, "part": index},
                }
            resp: Any = self._in_turn(
                where,
                budget,
                "chat.postMessage",
                lambda kw=kwargs: self.client.chat_postMessage(**kw, unfurl_links=False),
            )
            progress.accepted(index, MessageRef(channel=str(resp["channel"]), ts=str(resp["ts"])))
        head = progress.head
        assert head is not None  # a digest has at least one message
        return head

    def _in_turn(self, channel: str, budget: _Budget, method: str, fn: Callable[[], T]) -> T:
        """Call in the channel's turn; wait out a 429 (Retry-After) or a 5xx within the budget."""
        while True:
            self.channel_pacer.acquire(channel)
            try:
                return self._call(method, fn)
            except MessengerError as exc:
                if exc.code not in RETRYABLE:
                    raise
                wait = exc.retry_after if exc.code == "ratelimited" else SERVER_ERROR_WAIT
                wait = max(wait or 1.0, self.channel_pacer.wait_for(channel))
                if not budget.spend(wait):
                    raise
                self.channel_pacer.hold(channel, wait)

    def _find_part(
        self, channel: str, thread_ts: str | None, marker: str, index: int
    ) -> MessageRef | None:
        """The part `index` of digest `marker`, if Slack has it (recent history or the thread)."""
        if not marker:
            return None
        try:
            if thread_ts:
                found: Any = self._call(
                    "conversations.replies",
                    lambda: self.client.conversations_replies(
                        channel=channel, ts=thread_ts, limit=100, include_all_metadata=True
                    ),
                )
            else:
                found = self._call(
                    "conversations.history",
                    lambda: self.client.conversations_history(
                        channel=channel, limit=50, include_all_metadata=True
                    ),
                )
        except MessengerError:
            return None  # cannot look: posting again is the lesser harm than never posting
        for message in found.get("messages", []):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == DIGEST_EVENT
                and str(payload.get("digest")) == marker
                and str(payload.get("part")) == str(index)
            ):
                return MessageRef(channel=channel, ts=str(message["ts"]))
        return None

    def upload_chart(
        self, channel: str, png: bytes, filename: str, title: str, alt_text: str
    ) -> None:
        """Upload a chart image into a conversation (files_upload_v2, with alt text)."""
        self._in_turn(
            channel,
            _Budget(self.digest_retry_budget),
            "files.upload_v2",
            lambda: self.client.files_upload_v2(
                channel=channel, file=png, filename=filename, title=title, alt_txt=alt_text
            ),
        )

    def join_channel(self, channel: str) -> None:
        """Join a public channel (needs the channels:join scope)."""
        self._call("conversations.join", lambda: self.client.conversations_join(channel=channel))

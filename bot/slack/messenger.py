"""The Messenger port on Slack: renders view-models with Block Kit and calls the Web API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.observability import Metrics
from bot.ports import MessageRef, MessengerError
from bot.slack.blocks import prompt_message, reply_saved_message
from bot.views import PromptView, ReplySavedView

log = logging.getLogger(__name__)
T = TypeVar("T")


def _call(method: str, fn: Callable[[], T], metrics: Metrics | None = None) -> T:
    """Run a Web API call; turn Slack's refusals into MessengerError with Slack's code."""
    try:
        return fn()
    except SlackApiError as exc:
        code = str(exc.response.get("error", "unknown_error")) if exc.response else "unknown_error"
        if exc.response is not None and exc.response.status_code == 429:
            code = "ratelimited"
        error = MessengerError(code, method)
        cause: Exception = exc
    except SlackClientError as exc:
        error, cause = MessengerError("client_error", method), exc
    except OSError as exc:  # connection refused / timed out after the retry handlers gave up
        error, cause = MessengerError("connection_error", method), exc
    if metrics is not None:
        metrics.slack_errors.labels(method=method, error=error.code).inc()
    raise error from cause


class SlackMessenger:
    """Sends LearnLoop's messages through one WebClient."""

    def __init__(self, client: WebClient, metrics: Metrics | None = None) -> None:
        self.client = client
        self.metrics = metrics

    def _call(self, method: str, fn: Callable[[], T]) -> T:
        return _call(method, fn, self.metrics)

    def send_prompt(self, user_id: str, view: PromptView) -> MessageRef:
        """DM the weekly prompt (posting to a user id opens the DM with the app)."""
        text, blocks = prompt_message(view)
        resp = self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(channel=user_id, text=text, blocks=blocks),
        )
        return MessageRef(channel=str(resp["channel"]), ts=str(resp["ts"]))

    def update_prompt(self, ref: MessageRef, view: PromptView) -> None:
        """Replace the prompt's buttons with its new state."""
        text, blocks = prompt_message(view)
        self._call(
            "chat.update",
            lambda: self.client.chat_update(
                channel=ref.channel, ts=ref.ts, text=text, blocks=blocks
            ),
        )

    def confirm_reply(self, channel: str, view: ReplySavedView) -> None:
        """Answer a DM reply in the same conversation."""
        text, blocks = reply_saved_message(view)
        self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(channel=channel, text=text, blocks=blocks),
        )

    def notify(self, user_id: str, text: str) -> None:
        """A short private DM."""
        self._call(
            "chat.postMessage", lambda: self.client.chat_postMessage(channel=user_id, text=text)
        )

    def channel_members(self, channel: str) -> list[str]:
        """Every member of a channel, following Slack's pagination."""
        members: list[str] = []
        cursor: str | None = None
        while True:
            page: Any = self._call(
                "conversations.members",
                lambda c=cursor: self.client.conversations_members(
                    channel=channel, limit=200, cursor=c
                ),
            )
            members.extend(page.get("members", []))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return members

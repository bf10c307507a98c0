"""The Messenger port on Slack: renders view-models with Block Kit and calls the Web API."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.metrics import Metrics
from bot.ports import MessageRef, MessengerError, UserProfile
from bot.shared_holds import SharedHolds, slack_key
from bot.slack import render
from bot.slack.digest_messenger import DIGEST_RETRY_BUDGET, DigestMessaging
from bot.slack.escalation_messenger import EscalationMessaging
from bot.slack.pacing import ONE_WORKSPACE, ChannelPacer, Pacer, WorkspacePacers
from bot.slack.workspaces import request_workspace
from bot.views.checkin import PROMPT_TAG
from bot.views.message import Message

log = logging.getLogger(__name__)
T = TypeVar("T")

# Slack's own "Slackbot" user is not a bot by `is_bot`, and is never someone to prompt.
SLACKBOT = "USLACKBOT"
# Paced sends retry here rather than in the WebClient (same counts as bot/slack/app.py).
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
SERVER_ERROR_BACKOFF = 0.5
# Slack gives apps outside its Marketplace at most 15 messages per conversations.history page
# (and about one call a minute), so a send in doubt is looked for 15 at a time, newest first,
# over at most four pages: as far back as the single page of 50 that was asked for before.
HISTORY_PAGE = 15
HISTORY_PAGES = 4


def _call(method: str, fn: Callable[[], T], metrics: Metrics | None = None) -> T:
    """Run a Web API call; turn Slack's refusals into MessengerError with Slack's code."""
    try:
        return fn()
    except SlackApiError as exc:
        code = str(exc.response.get("error", "unknown_error")) if exc.response else "unknown_error"
        retry_after: float | None = None
        if exc.response is not None and exc.response.status_code == 429:
            code = "ratelimited"
            retry_after = _retry_after(exc.response.headers)
        elif exc.response is not None and exc.response.status_code >= 500:
            # A 5xx that outlived the retry handler is worth retrying on a later tick.
            code = "server_error"
        error = MessengerError(code, method, retry_after)
        cause: Exception = exc
    except SlackClientError as exc:
        error, cause = MessengerError("client_error", method), exc
    except TimeoutError as exc:  # Slack may have acted on it; the answer never came
        error, cause = MessengerError("timeout", method), exc
    except OSError as exc:  # connection refused / timed out after the retry handlers gave up
        error, cause = MessengerError("connection_error", method), exc
    if metrics is not None:
        metrics.slack_errors.labels(method=method, error=error.code).inc()
    raise error from cause


def _retry_after(headers: Any) -> float:
    """Slack's Retry-After in seconds (1 when it is missing or unreadable)."""
    for key, value in (headers or {}).items():
        if str(key).lower() == "retry-after":
            first = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return max(0.0, float(first))
            except (TypeError, ValueError):
                break
    return 1.0


class SlackMessenger(EscalationMessaging, DigestMessaging):
    """Sends LearnLoop's messages through one WebClient (the escalation and digest mixins)."""

    def __init__(
        self,
        client: WebClient,
        metrics: Metrics | None = None,
        pacer: Pacer | None = None,
        channel_pacer: ChannelPacer | None = None,
        digest_retry_budget: float = DIGEST_RETRY_BUDGET,
        pacers: WorkspacePacers | None = None,
        workspace_of: Callable[[str], str | None] | None = None,
        holds: SharedHolds | None = None,
    ) -> None:
        self.client = client
        self.metrics = metrics
        # Spaces out fan-out DMs (prompts, reminders) just under each workspace's rate limit:
        # one pacer per workspace (`workspace_of` says which one a send goes to), or the one
        # `pacer` given (a single workspace).
        if pacers is None and pacer is not None:
            pacers = WorkspacePacers(lambda: pacer)
        self.pacers = pacers
        self.workspace_of = workspace_of
        # A 429's Retry-After, shared with every other worker sending into the same workspace.
        self.holds = holds
        # Slack also limits each conversation to about a message a second: a digest's parts
        # and charts go into one channel, one after another.
        self.channel_pacer = channel_pacer or ChannelPacer()
        self.digest_retry_budget = digest_retry_budget

    def _call(self, method: str, fn: Callable[[], T]) -> T:
        return _call(method, fn, self.metrics)

    def pace_key(self, to: str) -> str:
        """The workspace a paced send to `to` waits its turn in (one key in a single one)."""
        if self.workspace_of is None:
            return ONE_WORKSPACE
        return self.workspace_of(to) or ONE_WORKSPACE

    @property
    def pacer(self) -> Pacer | None:
        """The pacer of a single-workspace deployment (None when sends are not paced)."""
        return self.pacers.for_workspace(ONE_WORKSPACE) if self.pacers is not None else None

    def send(self, to: str, message: Message, *, paced: bool = False) -> MessageRef:
        """Post a message; to a user id, Slack opens the DM with the app."""
        text, blocks = render.message(message)
        post: dict[str, Any] = {"channel": to, "text": text, "blocks": blocks}
        tag = render.metadata(message)
        if tag is not None:
            post["metadata"] = tag
        if paced:
            resp = self._paced_post(self.pace_key(to), **post)
        else:
            resp = self._call("chat.postMessage", lambda: self.client.chat_postMessage(**post))
        return MessageRef(channel=str(resp["channel"]), ts=str(resp["ts"]))

    def update(self, ref: MessageRef, message: Message) -> None:
        """chat.update of a message already posted."""
        text, blocks = render.message(message)
        self._call(
            "chat.update",
            lambda: self.client.chat_update(
                channel=ref.channel, ts=ref.ts, text=text, blocks=blocks
            ),
        )

    def _paced_post(self, workspace: str, **kwargs: Any) -> Any:
        """chat.postMessage for fan-outs: waits its workspace's turn and tells its pacer."""
        if self.pacers is None:
            return self._call("chat.postMessage", lambda: self.client.chat_postMessage(**kwargs))
        pacer = self.pacers.for_workspace(workspace)
        # The WebClient leaves 429s and 5xx of paced methods to us, so that each retry waits its
        # turn too: retries bypassing the pacer would push the rate over Slack's limit.
        limited = failed = 0
        while True:
            pacer.acquire()  # after a 429, this waits out Retry-After
            held = self.holds.remaining(slack_key(workspace)) if self.holds is not None else 0.0
            if held > 0:
                # Another worker was told 429 here: nobody sends until its Retry-After is up.
                pacer.hold(held)
                continue
            try:
                resp = self._call(
                    "chat.postMessage", lambda: self.client.chat_postMessage(**kwargs)
                )
            except MessengerError as exc:
                # Told here, not in the WebClient's retry handler: only fan-out posts are
                # paced, and a digest's 429 (one busy channel) must not slow the fan-out.
                if exc.code == "ratelimited":
                    pacer.rate_limited(exc.retry_after or 1.0)
                    if self.holds is not None:
                        self.holds.record(slack_key(workspace), exc.retry_after or 1.0)
                elif exc.code == "server_error":
                    pacer.failed()  # it reached Slack and counted against the limit
                if exc.code == "ratelimited" and limited < RATE_LIMIT_RETRIES:
                    limited += 1
                elif exc.code == "server_error" and failed < SERVER_ERROR_RETRIES:
                    failed += 1
                    time.sleep(SERVER_ERROR_BACKOFF * 2 ** (failed - 1))
                else:
                    raise
                if self.metrics is not None:
                    reason = "ratelimited" if exc.code == "ratelimited" else "server_error"
                    self.metrics.slack_retries.labels(
                        method="chat.postMessage", reason=reason
                    ).inc()
                continue
            pacer.succeeded()
            return resp

    def send_file(self, user_id: str, filename: str, content: bytes, comment: str) -> None:
        """Upload a file into the person's DM with the app (their data export)."""
        # files.completeUploadExternal shares into a conversation id, not a user id.
        opened: Any = self._call(
            "conversations.open", lambda: self.client.conversations_open(users=user_id)
        )
        channel = str(opened["channel"]["id"])
        self._call(
            "files.upload",
            lambda: self.client.files_upload_v2(
                channel=channel,
                filename=filename,
                title=filename,
                content=content,
                initial_comment=comment,
            ),
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

    # Scheduled prompts.

    def usergroup_members(self, usergroup: str) -> list[str]:
        """User ids in a user group."""
        resp: Any = self._call(
            "usergroups.users.list",
            lambda: self.client.usergroups_users_list(usergroup=usergroup),
        )
        return [str(u) for u in resp.get("users", [])]

    def user_profile(self, user_id: str) -> UserProfile | None:
        """Time zone, bot and deactivated flags from users.info."""
        resp: Any = self._call("users.info", lambda: self.client.users_info(user=user_id))
        user = resp.get("user") or {}
        return UserProfile(
            timezone=user.get("tz") or None,
            is_bot=bool(user.get("is_bot")) or user_id == SLACKBOT,
            deleted=bool(user.get("deleted")),
        )

    def user_by_email(self, platform: str, email: str, where: str | None = None) -> str | None:
        """users.lookupByEmail (users:read.email); None when no one in the workspace has it.

        `where` is the workspace to ask (OAuth mode: its token is used); None, the default one.
        """
        context = request_workspace.set(where) if where else None
        try:
            resp: Any = self._call(
                "users.lookupByEmail", lambda: self.client.users_lookupByEmail(email=email)
            )
        except MessengerError as exc:
            if exc.code == "users_not_found":
                return None
            raise
        finally:
            if context is not None:
                request_workspace.reset(context)
        return str((resp.get("user") or {}).get("id") or "") or None

    def fewer_senders(self) -> None:
        """Each workspace's pacer learns its limit again: it learned the share left to it by
        the other workers sending into the same workspace."""
        if self.pacers is not None:
            for pacer in self.pacers.known().values():
                pacer.relearn()

    def can_find_prompt(self, user_id: str) -> bool:
        """Yes: the DM's history carries each prompt's metadata (`conversations.history`)."""
        return True

    def find_prompt(self, user_id: str, prompt_id: int) -> MessageRef | None:
        """Look through the DM's recent messages for the prompt's metadata."""
        opened: Any = self._call(
            "conversations.open", lambda: self.client.conversations_open(users=user_id)
        )
        channel = str(opened["channel"]["id"])
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            history: Any = self._call(
                "conversations.history",
                lambda cursor=cursor: self.client.conversations_history(
                    channel=channel, limit=HISTORY_PAGE, include_all_metadata=True, cursor=cursor
                ),
            )
            for message in history.get("messages", []):
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                ours = metadata.get("event_type") == PROMPT_TAG
                if ours and str(payload.get("prompt_id")) == str(prompt_id):
                    return MessageRef(channel=channel, ts=str(message["ts"]))
            cursor = (history.get("response_metadata") or {}).get("next_cursor") or None
            if not history.get("has_more") or cursor is None:
                break
        return None

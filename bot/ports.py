"""Ports: what services need from the outside world, as Protocols with no platform in them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.views.message import Message, Thread

Clock = Callable[[], dt.datetime]

# Platform errors that mean the person can no longer be reached: retrying will not help.
UNREACHABLE_ERRORS = frozenset(
    {"user_not_found", "account_inactive", "user_disabled", "cannot_dm_bot", "channel_not_found"}
    # On Teams, someone who hasn't installed the app, or blocked or removed it
    # (installing it again makes them reachable again).
    | {"not_installed", "conversation_blocked", "conversation_not_found"}
)

# Failures worth trying again on a later tick (the call may simply not have got through).
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "server_error",
        "timeout",
        "connection_error",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    }
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

    def __init__(self, code: str, method: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{method or 'platform call'} failed: {code}")
        self.code = code
        self.method = method
        # Seconds the platform asked us to wait before trying again (Slack's 429 Retry-After).
        self.retry_after = retry_after

    @property
    def unreachable(self) -> bool:
        """Whether the person cannot be reached at all (do not retry, mark inactive)."""
        return self.code in UNREACHABLE_ERRORS

    @property
    def transient(self) -> bool:
        """Whether trying again later may work (rate limits, 5xx, timeouts, lost connections)."""
        return self.code in TRANSIENT_ERRORS


@dataclass
class DigestProgress:
    """How far posting a digest got, so that a retry resumes after the parts already accepted.

    A digest can be several messages (the first, then replies in its thread). `parts` holds
    the platform's id (ts) of each part it accepted, in order; `on_part` is called as each one
    is accepted so the caller can record it before the next is sent. `in_doubt` says the last
    attempt may have posted the next part without hearing back (a crash, a timeout): the
    messenger then looks for it by `marker` before posting it again.
    """

    marker: str = ""
    channel: str | None = None
    parts: list[str] = field(default_factory=list)
    in_doubt: bool = False
    total: int | None = None
    on_part: Callable[[int, MessageRef], None] | None = None

    def accepted(self, index: int, ref: MessageRef) -> None:
        """Note that part `index` is out (and tell the caller)."""
        if index == 0:
            self.channel = ref.channel
        self.parts.append(ref.ts)
        if self.on_part is not None:
            self.on_part(index, ref)

    @property
    def head(self) -> MessageRef | None:
        """The first message, once it is out."""
        if not self.parts or self.channel is None:
            return None
        return MessageRef(channel=self.channel, ts=self.parts[0])


@dataclass(frozen=True)
class UserProfile:
    """What the platform says about a person that decides whether and when to prompt."""

    timezone: str | None
    is_bot: bool = False
    deleted: bool = False


class Messenger(Protocol):
    """Sends LearnLoop's messages on one chat platform."""

    def send(self, to: str, message: Message, *, paced: bool = False) -> MessageRef:
        """Post a message to a person (their 1:1 chat with the app) or a conversation.

        `paced` posts are part of a fan-out and wait their turn under the platform's limit.
        """
        ...

    def pace_key(self, to: str) -> str:
        """Which pace a paced send to `to` waits in: its Slack workspace, its Teams tenant.

        A fan-out sends each pace's messages on threads of their own, so one workspace or
        tenant held back by the platform never holds up another.
        """
        ...

    def update(self, ref: MessageRef, message: Message) -> None:
        """Replace a message already posted."""
        ...

    def channel_members(self, channel: str) -> list[str]:
        """User ids of a channel's members (humans only where the platform says so)."""
        ...

    # Scheduled prompts.

    def usergroup_members(self, usergroup: str) -> list[str]:
        """User ids of a user group's members."""
        ...

    def user_profile(self, user_id: str) -> UserProfile | None:
        """A person's time zone and whether they are a bot or deactivated (None: unknown)."""
        ...

    def user_by_email(self, platform: str, email: str, where: str | None = None) -> str | None:
        """The user id of whoever has this e-mail address on `platform` (None: nobody).

        `where` is the Slack workspace (team id) or Teams tenant to look in: the agency's own;
        None is the deployment's default one.
        """
        ...

    def find_prompt(self, user_id: str, prompt_id: int) -> MessageRef | None:
        """The prompt message already in the person's DM, if it was delivered (after a crash)."""
        ...

    def fewer_senders(self) -> None:
        """Another worker that shared the sending has stopped (it was found gone).

        Limits the platform counts per workspace or app were shared with it: a messenger that
        learned its share learns them again, to use what the other one left.
        """
        ...

    def can_find_prompt(self, user_id: str) -> bool:
        """Whether `find_prompt` can read the person's chat back (Slack can, Teams can't).

        Where it can't, a prompt whose outcome was never written is sent again after a crash,
        so a fan-out writes each outcome the moment the platform answers instead of in batches.
        """
        ...

    def link_to(self, ref: MessageRef) -> str | None:
        """A link people can follow to a message, or None if the platform has none."""
        ...

    # Privacy.

    def send_file(self, user_id: str, filename: str, content: bytes, comment: str) -> None:
        """DM a person a file (their data export), with a short comment."""
        ...

    # The weekly learning digest.

    def post_digest(
        self, channel: str, digest: Thread, progress: DigestProgress | None = None
    ) -> MessageRef:
        """Post a digest in a channel or DM (overflow in its thread); the main message's ref.

        With `progress`, parts it lists are not posted again and each new one is reported.
        """
        ...

    def upload_chart(
        self, channel: str, png: bytes, filename: str, title: str, alt_text: str
    ) -> None:
        """Upload a chart image, with alt text, into a conversation."""
        ...

    def join_channel(self, channel: str) -> None:
        """Join a public channel the bot is not in yet."""
        ...


# ------------------------------------------------------------------------------ e-mail


@dataclass(frozen=True)
class InlineImage:
    """A picture sent inside an e-mail (a chart), with the words read instead of it."""

    title: str
    png: bytes
    alt: str


class MailError(Exception):
    """The mail server refused a message or could not be reached.

    `permanent` is the server's "never" (an SMTP 5xx: no such mailbox, refused): trying again
    will not help and someone must be told. Otherwise (4xx, connection refused, timeout) the
    message may go through on a later try.
    """

    def __init__(self, code: str, permanent: bool) -> None:
        super().__init__(f"mail not sent: {code}")
        self.code = code
        self.permanent = permanent


class Mailer(Protocol):
    """What services need from e-mail: one neutral message to one address."""

    def send(
        self,
        to: str,
        message: Message,
        images: tuple[InlineImage, ...] = (),
        key: str | None = None,
    ) -> None:
        """Send `message` as plain text and HTML (images inline); `key` makes its Message-ID
        the same on every try, so a reader's mail program can tell a repeat.

        Raises MailError when it was not accepted (after the mailer's own quick retries).
        """
        ...


class SignInMailer(Protocol):
    """Sends a Learning Board sign-in link by e-mail (the SMTP sender implements it)."""

    def send_signin_link(self, to: str, name: str, url: str) -> None:
        """Send `url` (a one-time sign-in link, valid 15 minutes) to `to`, addressed to `name`."""
        ...

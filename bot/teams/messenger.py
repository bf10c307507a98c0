"""The Messenger port on Teams: renders view-models as Adaptive Cards and sends them proactively.

Teams lets a bot message someone only in a conversation it was given, so each person is
reached through the 1:1 chat stored when they installed the app (or one opened with them as a
member of a team the app is installed in). A message is addressed `teams:<n>` (the stored
conversation) with the activity id Teams returned, so it can be updated in place.

The port is synchronous and the SDK asynchronous: each call runs on the bot's private loop.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from microsoft_teams.api import (
    Account,
    Attachment,
    CreateConversationParams,
    MessageActivityInput,
)
from microsoft_teams.apps import to_threaded_conversation_id
from microsoft_teams.cards import AdaptiveCard

from bot.domain.platforms import is_entra_object_id
from bot.ports import DigestProgress, MessageRef, MessengerError, UserProfile
from bot.services.teams import TeamsConversation, TeamsConversationService
from bot.shared_holds import SharedHolds, teams_key
from bot.teams import render
from bot.teams.app import TeamsBot
from bot.teams.files import PendingFiles
from bot.teams.pacing import TeamsPacer
from bot.views.message import Message, Thread, mentioned

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 3
MAX_RETRY_AFTER_SECONDS = 10.0


@dataclass(frozen=True)
class RosterEntry:
    """What a team's roster says about a person: enough to open a 1:1 chat with them."""

    teams_user_id: str
    tenant_id: str | None
    service_url: str


def error_code(exc: BaseException) -> str:
    """LearnLoop's code for a failed Bot Connector call."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status == 429:
            return "ratelimited"
        if status >= 500:
            return "server_error"
        # Teams answers 403 when the person blocked or removed the bot, 404 for a conversation
        # that no longer exists: either way they cannot be reached there.
        return {
            401: "unauthorized",
            403: "conversation_blocked",
            404: "conversation_not_found",
        }.get(status, f"http_{status}")
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.TransportError):
        return "connection_error"
    return "client_error"


def _retry_after(exc: BaseException, attempt: int) -> float | None:
    """Seconds to wait before trying again, or None when trying again won't help."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status == 429:
            header = exc.response.headers.get("retry-after", "1")
            try:
                return min(float(header), MAX_RETRY_AFTER_SECONDS)
            except ValueError:
                return 1.0
        if status >= 500:
            return 0.5 * 2**attempt
        return None
    if isinstance(exc, httpx.TransportError):
        return 0.5 * 2**attempt
    return None


def _told_to_wait(exc: BaseException) -> float | None:
    """A 429's Retry-After in seconds, uncapped (1 when unreadable); None for other errors."""
    if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 429:
        try:
            return max(0.0, float(exc.response.headers.get("retry-after", "1")))
        except ValueError:
            return 1.0
    return None


class TeamsMessenger:
    """Sends LearnLoop's messages through one Teams App."""

    def __init__(
        self,
        bot: TeamsBot,
        conversations: TeamsConversationService,
        graph_url: str | None = None,
        pacer: TeamsPacer | None = None,
        holds: SharedHolds | None = None,
    ) -> None:
        self.bot = bot
        self.conversations = conversations
        # Microsoft Graph for this cloud (looking people up by e-mail address).
        self.graph_url = (graph_url or _graph_root(bot)).rstrip("/")
        # Every call into a conversation keeps under the Bot Connector's published limits.
        self.pacer = pacer or TeamsPacer()
        # A 429's Retry-After, shared with every other worker sending into the same tenant.
        self.holds = holds
        self._tenants: dict[str, str] = {}  # address -> tenant, for pace_key
        self.pending_files = PendingFiles()
        # Filled by channel_members, read by the sends that follow in the same prompt run.
        self._roster: dict[str, RosterEntry] = {}

    # ------------------------------------------------------------------ plumbing

    def _call(
        self,
        method: str,
        make: Callable[[], Awaitable[T]],
        where: TeamsConversation | None = None,
    ) -> T:
        """Run one SDK call with polite retries; refusals become MessengerError.

        A call into a conversation (`where`) waits its turn under the tenant's and the
        conversation's limits first, each attempt; a 429 holds the tenant for its Retry-After.
        """

        async def attempt_all() -> T:
            for attempt in range(MAX_ATTEMPTS):
                while where is not None:
                    turn = self.pacer.reserve(where.tenant_id, where.conversation_id)
                    if turn > 0:
                        await asyncio.sleep(turn)
                    key = teams_key(where.tenant_id)
                    held = self.holds.remaining(key) if self.holds is not None else 0.0
                    if held <= 0:
                        break
                    # Another worker was told 429 in this tenant: wait it out, then a new turn.
                    self.pacer.hold(where.tenant_id, held)
                try:
                    return await make()
                except Exception as exc:  # noqa: BLE001 - classified right below
                    wait = _retry_after(exc, attempt)
                    told = _told_to_wait(exc)
                    if where is not None and told is not None:
                        # The next turn of every call in this tenant waits it out.
                        self.pacer.rate_limited(where.tenant_id, told)
                        if self.holds is not None:
                            self.holds.record(teams_key(where.tenant_id), told)
                    if wait is None or attempt == MAX_ATTEMPTS - 1:
                        raise
                    log.info("teams %s: retrying in %.1fs (%s)", method, wait, error_code(exc))
                    if where is None or told is None:
                        await asyncio.sleep(wait)
            raise AssertionError("unreachable")

        try:
            return self.bot.portal.run(attempt_all())
        except MessengerError:
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK failure is reported the same way
            code = error_code(exc)
            log.warning("teams %s failed: %s", method, code)
            raise MessengerError(code, method) from exc

    def _personal(self, user_id: str) -> TeamsConversation:
        """The 1:1 chat with a person (opened now if a team roster names them)."""
        found = self.conversations.personal_for(user_id)
        if found is not None:
            return found
        entry = self._roster.get(user_id)
        if entry is None:
            raise MessengerError("not_installed", "conversations.get")
        api = self.bot.app.api.clone(service_url=entry.service_url)
        params = CreateConversationParams(
            members=[Account(id=entry.teams_user_id)], tenant_id=entry.tenant_id
        )
        resource = self._call("conversations.create", lambda: api.conversations.create(params))
        return self.conversations.installed(
            resource.id,
            "personal",
            entry.service_url,
            aad_object_id=user_id,
            teams_user_id=entry.teams_user_id,
            tenant_id=entry.tenant_id,
        ).conversation

    def _conversation(self, address: str) -> TeamsConversation:
        """A stored conversation by address (`teams:<n>`), Teams channel id, or person."""
        if is_entra_object_id(address):
            # A person (a manager's digest, say): their 1:1 chat.
            return self._personal(address)
        found = self.conversations.resolve(address)
        if found is None:
            # The app was never added there (or was removed): the same answer Slack gives for
            # a channel the bot isn't in, so admins are told to add it.
            raise MessengerError("not_in_channel", "conversations.get")
        return found

    def _send(
        self,
        where: TeamsConversation,
        content: str | AdaptiveCard,
        attachments: list[Attachment] | None = None,
        thread_of: str | None = None,
    ) -> MessageRef:
        activity = (
            MessageActivityInput(text=content)
            if isinstance(content, str)
            else MessageActivityInput().add_card(content)
        )
        for attachment in attachments or []:
            activity.add_attachments(attachment)
        # A reply in a channel thread goes to "<channel>;messageid=<first message>".
        target = (
            to_threaded_conversation_id(where.conversation_id, thread_of)
            if thread_of
            else where.conversation_id
        )
        sent = self._call(
            "activities.create",
            lambda: self.bot.app.send(target, activity, service_url=where.service_url),
            where,
        )
        return MessageRef(channel=where.address, ts=str(sent.id))

    def _names(self, *user_ids: str | None) -> dict[str, str]:
        return self.conversations.display_names([u for u in user_ids if u])

    def _update(self, ref: MessageRef, content: AdaptiveCard) -> None:
        where = self._conversation(ref.channel)
        activity = MessageActivityInput(id=ref.ts).add_card(content)
        # An activity with an id is an update (PUT) of that message, not a new one.
        self._call(
            "activities.update",
            lambda: self.bot.app.send(
                where.conversation_id, activity, service_url=where.service_url
            ),
            where,
        )

    # ------------------------------------------------------------------ the port

    def pace_key(self, to: str) -> str:
        """The tenant a send to `to` is paced in (its conversation's turns are kept anyway)."""
        tenant = self._tenants.get(to)
        if tenant is None:
            found = (
                self.conversations.personal_for(to)
                if is_entra_object_id(to)
                else self.conversations.resolve(to)
            )
            tenant = (found.tenant_id or "") if found is not None else ""
            if len(self._tenants) > 100_000:  # a person's tenant never changes; bound it anyway
                self._tenants.clear()
            self._tenants[to] = tenant
        return tenant

    def send(self, to: str, message: Message, *, paced: bool = False) -> MessageRef:
        """Post a card to a person's 1:1 chat or a stored conversation."""
        return self._send(self._conversation(to), self._card(message))

    def update(self, ref: MessageRef, message: Message) -> None:
        """Replace a card already posted."""
        self._update(ref, self._card(message))

    def _card(self, message: Message) -> AdaptiveCard:
        return render.card(message, self._names(*mentioned(message)))

    def channel_members(self, channel: str) -> list[str]:
        """Entra object ids of a team's members (the channel must have the app installed)."""
        where = self._conversation(channel)
        api = self.bot.app.api.clone(service_url=where.service_url)
        accounts: Any = self._call(
            "conversations.members",
            lambda: api.conversations.members(where.conversation_id).get_all(),
        )
        members: list[str] = []
        for account in accounts:
            if not account.aad_object_id:
                continue
            members.append(account.aad_object_id)
            self._roster[account.aad_object_id] = RosterEntry(
                teams_user_id=account.id,
                tenant_id=account.tenant_id or where.tenant_id,
                service_url=where.service_url,
            )
        return members

    def usergroup_members(self, usergroup: str) -> list[str]:
        """Teams has no user groups a bot can read (check-config refuses them)."""
        raise MessengerError("usergroups_not_supported", "usergroups.users.list")

    def user_profile(self, user_id: str) -> UserProfile | None:
        """Teams doesn't tell a bot someone's time zone: unknown, so the alliance's applies."""
        return None

    def user_by_email(self, platform: str, email: str, where: str | None = None) -> str | None:
        """Microsoft Graph `GET /v1.0/users/{address}`: the Entra object id, None if nobody.

        Looked up in tenant `where` (the agency's `tenant`), else in the bot's own. Needs the
        app permission User.Read.All (admin-consented) in that tenant; a refusal is reported as
        `graph_403`, and the address is looked up again on the next pass.
        """
        method = "graph.users.get"
        # The SDK's own Graph token (its cache, the bot's credentials) for that tenant: Graph
        # answers from the tenant the token was issued in, so the same address in another
        # tenant is never found.
        token = self._call(method, lambda: self.bot.app._get_graph_token(where))
        if token is None:
            raise MessengerError("graph_token_unavailable", method)
        url = f"{self.graph_url}/v1.0/users/{quote(email, safe='@')}"
        try:
            response = httpx.get(
                url,
                params={"$select": "id"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=GRAPH_TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as exc:
            raise MessengerError("graph_unreachable", method) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            retry = response.headers.get("Retry-After")
            raise MessengerError(
                f"graph_{response.status_code}",
                method,
                retry_after=float(retry) if retry and retry.isdigit() else None,
            )
        found = response.json().get("id")
        return str(found) if found else None

    def find_prompt(self, user_id: str, prompt_id: int) -> MessageRef | None:
        """A bot can't read back its chat history in Teams, so an in-doubt send is unknown."""
        return None

    def fewer_senders(self) -> None:
        """Nothing to relearn: Teams publishes its limits, and the pacer keeps to them."""

    def can_find_prompt(self, user_id: str) -> bool:
        """No: the Bot Connector has no call that reads a chat's messages."""
        return False

    # ------------------------------------------------------------------ escalations

    def link_to(self, ref: MessageRef) -> str | None:
        """No link: a Teams message link needs the team's group id, which a bot isn't given."""
        return None

    # ------------------------------------------------------------------ digests and more

    def post_digest(
        self, channel: str, digest: Thread, progress: DigestProgress | None = None
    ) -> MessageRef:
        """Post the digest card in a channel; what doesn't fit one card goes in its thread.

        Cards already in `progress` are not sent again. A card in doubt (the last attempt
        never heard back) cannot be looked up by a bot on Teams, so it is sent again.
        """
        where = self._conversation(channel)
        cards = render.thread_cards(digest, self._names(*mentioned(digest.message)))
        progress = progress if progress is not None else DigestProgress()
        progress.total = len(cards)
        progress.in_doubt = False
        for index in range(len(progress.parts), len(cards)):
            head = progress.head
            sent = self._send(where, cards[index], thread_of=head.ts if head else None)
            progress.accepted(index, sent)
        head = progress.head
        assert head is not None
        return head

    def upload_chart(
        self, channel: str, png: bytes, filename: str, title: str, alt_text: str
    ) -> None:
        """Post a chart as an inline image (Teams shows data-URI images sent by bots)."""
        image = Attachment(
            content_type="image/png",
            content_url="data:image/png;base64," + base64.b64encode(png).decode(),
            name=filename,
        )
        self._send(self._conversation(channel), f"{title}. {alt_text}", attachments=[image])

    def join_channel(self, channel: str) -> None:
        """A bot can't join a Teams channel: someone adds the app to the team."""
        raise MessengerError("not_in_channel", "conversations.join")

    def send_file(self, user_id: str, filename: str, content: bytes, comment: str) -> None:
        """Send a file to someone's 1:1 chat, after they agree (Teams' file consent card).

        Teams stores a bot's file in the person's OneDrive, so it asks them first; the bytes
        wait here until they accept (`upload_consented`), for FILE_CONSENT_MINUTES.
        """
        where = self._personal(user_id)
        key = self.pending_files.put(user_id, filename, content)
        consent = Attachment(
            content_type="application/vnd.microsoft.teams.card.file.consent",
            name=filename,
            content={
                "description": comment,
                "sizeInBytes": len(content),
                "acceptContext": {"file": key},
                "declineContext": {"file": key},
            },
        )
        self._send(where, comment, attachments=[consent])

    def upload_consented(
        self, key: str, user_id: str, upload_url: str, info: dict[str, str]
    ) -> bool:
        """The person accepted a file: upload it to the URL Teams gave, then show it.

        False when there is nothing to upload (expired, already taken, or someone else's).
        """
        pending = self.pending_files.take(key, user_id)
        if pending is None:
            return False
        size = len(pending.content)
        headers = {
            "Content-Length": str(size),
            "Content-Range": f"bytes 0-{size - 1}/{size}",
        }
        try:
            # The upload URL is pre-authorised by Teams: no bot token goes with it.
            response = httpx.put(upload_url, content=pending.content, headers=headers, timeout=30)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise MessengerError(error_code(exc), "file.upload") from exc
        file_info = Attachment(
            content_type="application/vnd.microsoft.teams.card.file.info",
            content_url=info.get("content_url"),
            name=info.get("name") or pending.filename,
            content={"uniqueId": info.get("unique_id"), "fileType": info.get("file_type")},
        )
        self._send(self._personal(user_id), "Your file is ready:", attachments=[file_info])
        return True


GRAPH_TIMEOUT_SECONDS = 10.0


def _graph_root(bot: TeamsBot) -> str:
    """Microsoft Graph's root for the bot's cloud, from its token scope."""
    scope = str(getattr(bot.app.cloud, "graph_scope", "https://graph.microsoft.com/.default"))
    return scope.removesuffix("/.default")

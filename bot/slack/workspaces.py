"""Several Slack workspaces in one alliance — which workspace's token each call uses.

Inside a request Bolt already hands listeners a client with the right token. Outside one
(prompts, reminders, digests, barrier notices sent by the worker or the CLI) LearnLoop's
Messenger calls one `WorkspaceWebClient`, which picks the bot token per call from where the
call goes:

1. a person (a user id, or the DM channel LearnLoop has with them) → their agency's `team:`;
2. a configured channel → its agency's `team:`; a digest or ladder channel → the alliance's
   `slack_team:` (the steward group's workspace);
3. otherwise the workspace of the Slack request being handled, if any;
4. otherwise the alliance's `slack_team:`, or the only installed workspace.

The token is the workspace's latest installation from the (encrypted) installation store,
rotated first when it is about to expire. A token that does not rotate is kept for
`TOKEN_TTL_SECONDS` (a fan-out sends tens of messages a second per workspace, and each would
otherwise read and decrypt the store), so an uninstall or a reinstall takes effect in another
process within that time; in the process that stored it, at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar, copy_context
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.oauth.token_rotation import TokenRotator
from slack_sdk.web import SlackResponse

from bot.alliance import AllianceConfig
from storage.slack_installations import EncryptedInstallationStore, SealError
from storage.uow import UnitOfWorkFactory
from storage.workspace_queries import WorkspaceQueries

log = logging.getLogger(__name__)
T = TypeVar("T")

# The workspace (team id, or org id for an org-wide install) of the Slack request being handled.
request_workspace: ContextVar[str | None] = ContextVar("learnloop_slack_workspace", default=None)

# Error codes a call gets when no installed workspace can be found for it (as if Slack said so).
NOT_INSTALLED = "workspace_not_installed"
WORKSPACE_UNKNOWN = "workspace_unknown"
# The stored token was sealed with a key LEARNLOOP_ENCRYPTION_KEY no longer holds.
TOKEN_UNREADABLE = "token_unreadable"
# Minutes before expiry at which a rotating token is refreshed (Bolt's default too).
ROTATE_MINUTES_BEFORE_EXPIRY = 120
# DM channels whose workspace is kept in memory, at most (then forgotten and read again).
MAX_KEPT_DMS = 200_000
# How long a workspace's (non-rotating) bot token is kept before the store is read again.
TOKEN_TTL_SECONDS = 10.0


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool that runs each task in a copy of the submitter's context variables.

    Bolt runs listeners in its own pool; without this they would not see the request's
    workspace or request id.
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run `fn` in the submitting thread's context."""
        context = copy_context()
        return super().submit(context.run, fn, *args, **kwargs)


class WorkspaceTokens:
    """Bot tokens per workspace from the installation store, rotated when due."""

    def __init__(
        self,
        store: EncryptedInstallationStore,
        rotator: TokenRotator | None = None,
        minutes_before_expiry: int = ROTATE_MINUTES_BEFORE_EXPIRY,
    ) -> None:
        self.store = store
        self.rotator = rotator
        self.minutes_before_expiry = minutes_before_expiry
        self.ttl = TOKEN_TTL_SECONDS
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[float, str | None]] = {}  # workspace -> (until, token)
        self._seen_saves = store.saves

    def bot_token(self, workspace_id: str) -> str | None:
        """The workspace's bot token, or None if LearnLoop is not installed there."""
        now = time.monotonic()
        with self._lock:
            if self._seen_saves != self.store.saves:  # installed or removed here: read again
                self._kept.clear()
                self._seen_saves = self.store.saves
            kept = self._kept.get(workspace_id)
        if kept is not None and kept[0] > now:
            return kept[1]
        token = self._read_token(workspace_id)
        return token

    def _read_token(self, workspace_id: str) -> str | None:
        bot = self.store.find_workspace_bot(workspace_id)
        if bot is None:
            return None
        if bot.bot_refresh_token and self.rotator is not None:
            rotated = self.rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=self.minutes_before_expiry
            )
            if rotated is not None:
                self.store.save_bot(rotated)
                log.info("rotated the bot token of workspace %s", workspace_id)
                return rotated.bot_token
        if not (bot.bot_refresh_token and self.rotator is not None):
            # A rotating token is read every time, so it is refreshed before it expires.
            with self._lock:
                self._kept[workspace_id] = (time.monotonic() + self.ttl, bot.bot_token)
        return bot.bot_token

    def installed(self) -> list[str]:
        """Workspaces LearnLoop is installed in."""
        return self.store.installed_teams()


class WorkspaceDirectory:
    """Which workspace a person or channel belongs to, from the alliance file and the database."""

    def __init__(self, alliance: AllianceConfig, uow: UnitOfWorkFactory) -> None:
        self.uow = uow
        self.default = alliance.alliance.slack_team
        self._agency_team = {a.id: a.team or self.default for a in alliance.agencies}
        self._users: dict[str, str | None] = {}
        self._channels: dict[str, str | None] = {}
        self._usergroups: dict[str, str | None] = {}
        self._dms: dict[str, str] = {}  # DM channel -> workspace, as found in the database
        for digest in alliance.digests:
            if digest.channel is None:
                continue  # sent by e-mail
            scope = digest.scope.removeprefix("agency:")
            self._channels[digest.channel] = self._agency_team.get(scope, self.default)
        for rung in alliance.escalation_ladder:
            self._channels.setdefault(rung.channel, self.default)
        for agency in alliance.agencies:
            if agency.platform != "slack":
                continue
            team = self._agency_team[agency.id]
            if agency.channel:
                self._channels[agency.channel] = team
            if agency.usergroup:
                self._usergroups[agency.usergroup] = team
            if agency.leadership_channel:
                self._channels[agency.leadership_channel] = team
            for user_id in [*agency.member_ids, *agency.managers]:
                self._users.setdefault(user_id, team)
        for user_id in [*alliance.roles.stewards, *alliance.roles.admins]:
            self._users.setdefault(user_id, self.default)

    def of_user(self, user_id: str) -> str | None:
        """The workspace of a Slack user id, if known."""
        if user_id in self._users:
            return self._users[user_id]
        with self.uow() as uow:
            agency = WorkspaceQueries(uow.session).agency_of_user(user_id)
        return self._agency_team.get(agency) if agency else None

    def of_channel(self, channel: str) -> str | None:
        """The workspace of a channel, DM or user id (Slack accepts a user id as a channel)."""
        if channel[:1] in ("U", "W"):
            return self.of_user(channel)
        if channel in self._channels:
            return self._channels[channel]
        if channel.startswith("D"):
            if channel in self._dms:
                return self._dms[channel]
            with self.uow() as uow:
                agency = WorkspaceQueries(uow.session).agency_of_dm(channel)
            team = self._agency_team.get(agency) if agency else None
            if team is not None:
                # A DM stays in its workspace: kept, so a fan-out of reminders into DMs does
                # not ask the database twice per message (its pace and its token).
                if len(self._dms) > MAX_KEPT_DMS:
                    self._dms.clear()
                self._dms[channel] = team
            return team
        return None

    def of_call(self, args: dict[str, Any]) -> str | None:
        """The workspace a Web API call is aimed at, from its arguments."""
        for key in ("channel", "channel_id"):
            if args.get(key):
                return self.of_channel(str(args[key]))
        for key in ("users", "user", "user_id"):
            if args.get(key):
                return self.of_user(str(args[key]).split(",")[0])
        if args.get("usergroup"):
            return self._usergroups.get(str(args["usergroup"]))
        return None


class WorkspaceRouter:
    """Chooses the bot token for each outbound call (see the module docstring for the order)."""

    def __init__(self, directory: WorkspaceDirectory, tokens: WorkspaceTokens) -> None:
        self.directory = directory
        self.tokens = tokens

    def workspace_for(self, args: dict[str, Any]) -> str | None:
        """The workspace a call should be made in, or None if nothing says."""
        workspace = self.directory.of_call(args) or request_workspace.get()
        if workspace is None:
            workspace = self.directory.default
        if workspace is None:
            installed = self.tokens.installed()
            workspace = installed[0] if len(installed) == 1 else None
        return workspace

    def token_for(self, args: dict[str, Any]) -> tuple[str | None, str]:
        """The bot token for a call and the workspace, or None and the reason there is none."""
        workspace = self.workspace_for(args)
        if workspace is None:
            return None, WORKSPACE_UNKNOWN
        try:
            token = self.tokens.bot_token(workspace)
        except SealError:
            log.error("the token of workspace %s cannot be decrypted with this key", workspace)
            return None, TOKEN_UNREADABLE
        return (token, workspace) if token else (None, NOT_INSTALLED)


class WorkspaceWebClient(WebClient):
    """A WebClient that signs each call with the bot token of the workspace it is aimed at."""

    def __init__(self, router: WorkspaceRouter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.router = router

    def _refuse(self, api_method: str, code: str) -> SlackResponse:
        # Shaped like Slack's own refusal, so the Messenger reports it like any other error.
        log.warning("no Slack workspace to send %s in: %s", api_method, code)
        return SlackResponse(
            client=self,
            http_verb="POST",
            api_url=self.base_url + api_method,
            req_args={},
            data={"ok": False, "error": code},
            headers={},
            status_code=200,
        ).validate()

    def api_call(  # type: ignore[override]
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> SlackResponse:
        """Make the call with the right workspace's token (an explicit token or auth wins)."""
        args = {**(params or {}), **(data or {}), **(json or {})}
        if auth is None and not args.get("token"):
            token, reason = self.router.token_for(args)
            if token is None:
                return self._refuse(api_method, reason)
            headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        return super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=data,
            params=params,
            json=json,
            headers=headers,
            auth=auth,
        )

    def files_upload_v2(self, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        """Upload with one workspace's token throughout (the first steps name no channel)."""
        if not kwargs.get("token"):
            channel = kwargs.get("channel") or (kwargs.get("channels") or [None])[0]
            token, reason = self.router.token_for({"channel": channel} if channel else {})
            if token is None:
                return self._refuse("files.getUploadURLExternal", reason)
            kwargs["token"] = token
        return super().files_upload_v2(**kwargs)

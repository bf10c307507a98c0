"""Multi-workspace installs — the OAuth flow, its stores and the authorize step.

OAuth mode is on when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set. Then
`GET /slack/install` starts an install, `GET /slack/oauth_redirect` finishes it, each workspace's
tokens are kept encrypted in the database, and every request is authorized with the token of
the workspace it came from (rotated when due). Every Web API call, the OAuth ones included,
goes to SLACK_API_URL, so GovSlack works by setting that alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine

from bot.services.workspaces import WorkspaceService
from bot.settings import Settings
from bot.slack.manifest import BOT_SCOPES
from bot.slack.workspaces import ROTATE_MINUTES_BEFORE_EXPIRY, WorkspaceTokens
from storage.slack_installations import EncryptedInstallationStore, TokenCipher, oauth_state_store

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# How long an install link's `state` stays valid (slack_sdk's default).
STATE_EXPIRY_SECONDS = 600


def authorize_url(api_url: str) -> str:
    """Slack's "allow this app" page next to a Web API base URL (GovSlack has its own)."""
    base = api_url.removesuffix("/").removesuffix("/api")
    return f"{base}/oauth/v2/authorize"


@dataclass
class SlackInstalls:
    """What OAuth mode adds: where installs are kept, and a token-less client for the flow."""

    store: EncryptedInstallationStore
    state_store: SQLAlchemyOAuthStateStore
    tokens: WorkspaceTokens
    client: WebClient
    client_id: str
    client_secret: str
    authorize_url: str
    audit: WorkspaceService
    # Told the workspace id of each signed request Bolt refuses for want of an installation.
    on_refused: Callable[[str | None], None] = field(default=lambda _workspace: None)

    def installed(self, args: SuccessArgs) -> BoltResponse:
        """After a successful install: audit it, then Slack's usual "all done" page."""
        installation = args.installation
        self.audit.installed(
            installation.team_id or installation.enterprise_id,
            installation.user_id,
            bool(installation.is_enterprise_install),
        )
        return args.default.success(args)

    def uninstalled(self, enterprise_id: str | None, team_id: str | None) -> None:
        """`app_uninstalled`: forget every token of the workspace."""
        self.store.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        self.audit.uninstalled(team_id or enterprise_id)

    def revoked(
        self, enterprise_id: str | None, team_id: str | None, users: list[str], bot: bool
    ) -> None:
        """`tokens_revoked`: forget the revoked user tokens and, if revoked, the bot token."""
        for user_id in users:
            self.store.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        if bot:
            self.store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self.audit.tokens_revoked(team_id or enterprise_id, bot, len(users))


def build_installs(settings: Settings, engine: Engine, audit: WorkspaceService) -> SlackInstalls:
    """The installation stores on LearnLoop's database; ConfigError names anything missing."""
    settings.require_oauth()
    assert settings.slack_client_id and settings.slack_client_secret
    assert settings.learnloop_encryption_key is not None
    cipher = TokenCipher(settings.learnloop_encryption_key.get_secret_value().split(","))
    client_id = settings.slack_client_id
    client_secret = settings.slack_client_secret.get_secret_value()
    # No token: oauth.v2.access authenticates with the client id and secret.
    client = WebClient(
        base_url=settings.slack_api_url, timeout=10, logger=logging.getLogger("learnloop.slack")
    )
    store = EncryptedInstallationStore(client_id, engine, cipher)
    rotator = TokenRotator(client_id=client_id, client_secret=client_secret, client=client)
    return SlackInstalls(
        store=store,
        state_store=oauth_state_store(engine, STATE_EXPIRY_SECONDS),
        tokens=WorkspaceTokens(store, rotator),
        client=client,
        client_id=client_id,
        client_secret=client_secret,
        authorize_url=authorize_url(settings.slack_api_url),
        audit=audit,
    )


def oauth_settings(installs: SlackInstalls) -> OAuthSettings:
    """Bolt's OAuth settings: LearnLoop's stores, paths, scopes and Slack's URLs."""
    return OAuthSettings(
        client_id=installs.client_id,
        client_secret=installs.client_secret,
        scopes=BOT_SCOPES,
        user_scopes=[],
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=installs.authorize_url,
        installation_store=installs.store,
        state_store=installs.state_store,
        state_expiration_seconds=STATE_EXPIRY_SECONDS,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        callback_options=CallbackOptions(success=installs.installed, failure=_install_failed),
        logger=log,
    )


def _install_failed(args: FailureArgs) -> BoltResponse:
    # The reason is a code (invalid_state, access_denied…), never a token.
    log.warning("a Slack install did not complete: %s", args.reason)
    return args.default.failure(args)


class CountingAuthorize(InstallationStoreAuthorize):
    """Bolt's authorizer, telling `installs.on_refused` of each workspace with no installation.

    Bolt already refuses such a request (nothing runs, nothing is stored); this makes the
    refusal visible in /metrics and the log.
    """

    def __init__(self, installs: SlackInstalls, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._installs = installs

    def __call__(  # type: ignore[override]
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **actor: Any,
    ) -> AuthorizeResult | None:
        """Bolt's answer, after noting a refusal."""
        result = super().__call__(
            context=context,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            **actor,
        )
        if result is None:
            self._installs.on_refused(team_id or enterprise_id)
        return result


def authorizer(installs: SlackInstalls) -> InstallationStoreAuthorize:
    """Finds (and rotates) each request's token; rotation goes to SLACK_API_URL too.

    Bolt's default authorizer rotates tokens through slack.com whatever the client says, and
    calls auth.test on every request; this one uses LearnLoop's client and remembers each
    token's auth.test answer (a rotated token is a new key).
    """
    return CountingAuthorize(
        installs,
        logger=log,
        installation_store=installs.store,
        client_id=installs.client_id,
        client_secret=installs.client_secret,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        cache_enabled=True,
        client=installs.client,
    )

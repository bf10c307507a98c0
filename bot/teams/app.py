"""Builds the Teams side: the Teams SDK App, its cloud and credentials, mounted on our FastAPI app.

Inbound JWT validation is always on: the SDK checks every request to `POST /api/messages`
against the keys published next to the cloud's OpenID metadata (issuer, audience = the bot's
app id, expiry, and the `serviceurl` claim against the activity). TEAMS_OPENID_METADATA_URL
points that at another key service (sovereign clouds; tests sign real RS256 tokens locally).

Credentials for outbound calls follow the Azure Bot's identity type:

- TEAMS_CLIENT_SECRET set → client secret (TEAMS_TENANT_ID set: single-tenant; unset:
  multi-tenant, tokens from botframework.com);
- no secret → managed identity: a user-assigned identity whose client id is TEAMS_CLIENT_ID,
  or TEAMS_MANAGED_IDENTITY_CLIENT_ID ("system" or another identity's id) federated to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from microsoft_teams.api.auth.cloud_environment import (
    CHINA,
    PUBLIC,
    US_GOV,
    US_GOV_DOD,
    CloudEnvironment,
    with_overrides,
)
from microsoft_teams.apps import App, AppOptions, FastAPIAdapter
from microsoft_teams.apps.auth import InboundActivityTokenValidator
from microsoft_teams.apps.http.adapter import HttpMethod, HttpRouteHandler

from bot.settings import ConfigError, Settings
from bot.teams.inbound import TokenValidator, guarded_messages
from bot.teams.portal import AsyncPortal

log = logging.getLogger("learnloop.teams")

MESSAGING_ENDPOINT = "/api/messages"
CLOUDS: dict[str, CloudEnvironment] = {
    "public": PUBLIC,
    "us_gov": US_GOV,
    "us_gov_dod": US_GOV_DOD,
    "china": CHINA,
}

# (scope, tenant id) -> an access token for the Bot Connector; replaces the secret or managed
# identity when given (tests, or a deployment with its own token broker).
TokenSource = Callable[[str | list[str], str | None], str]


def teams_cloud(settings: Settings) -> CloudEnvironment:
    """The Azure cloud TEAMS_CLOUD names, with TEAMS_OPENID_METADATA_URL applied if set."""
    return with_overrides(
        CLOUDS[settings.teams_cloud], openid_metadata_url=settings.teams_openid_metadata_url
    )


class DeferredAdapter:
    """An HttpServerAdapter that holds the SDK's routes until a FastAPI app exists to take them.

    The Teams App is built with the services (the CLI and worker send proactively and never
    serve); `create_web_app` mounts the routes later on the shared FastAPI app.
    """

    def __init__(self, validator: TokenValidator | None = None) -> None:
        self.routes: list[tuple[HttpMethod, str, HttpRouteHandler]] = []
        self._target: FastAPIAdapter | None = None
        # Checks tokens of malformed activities, which never reach the SDK's own check.
        self.validator = validator
        self._api: FastAPI | None = None

    def register_route(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        """Keep a route, or register it at once if already mounted."""
        self.routes.append((method, path, handler))
        if self._target is not None:
            self._register(method, path, handler)

    def serve_static(self, path: str, directory: str) -> None:
        """LearnLoop serves no static tabs."""
        raise NotImplementedError("LearnLoop's Teams app has no static pages")

    async def start(self, port: int) -> None:
        """Never used: uvicorn serves the shared FastAPI app."""
        raise NotImplementedError("serve the FastAPI app from create_web_app instead")

    async def stop(self) -> None:
        """Nothing to stop."""

    def mount(self, api: FastAPI) -> None:
        """Register every route on `api` through the SDK's own FastAPI adapter."""
        if self._target is not None:
            raise RuntimeError("the Teams routes are already mounted")
        self._target = FastAPIAdapter(app=api)
        self._api = api
        for method, path, handler in self.routes:
            self._register(method, path, handler)

    def _register(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        """The messaging endpoint behind LearnLoop's checks; any other route as the SDK has it."""
        if self._target is None or self._api is None:
            raise RuntimeError("the Teams routes are not mounted yet")
        if path == MESSAGING_ENDPOINT and method == "POST" and self.validator is not None:
            self._api.post(path)(guarded_messages(handler, self.validator))
            return
        self._target.register_route(method, path, handler)


@dataclass
class TeamsBot:
    """The Teams App, where its routes go, and the loop proactive sends run on."""

    app: App
    adapter: DeferredAdapter
    portal: AsyncPortal = field(default_factory=AsyncPortal)

    def initialize(self) -> None:
        """Set up JWT validation and the messaging route (no server is started)."""
        self.portal.run(self.app.initialize())

    def mount(self, api: FastAPI) -> None:
        """Serve `POST /api/messages` from the shared FastAPI app."""
        self.adapter.mount(api)

    def close(self) -> None:
        """Stop the proactive loop."""
        self.portal.close()


def teams_options(settings: Settings, token: TokenSource | None = None) -> AppOptions:
    """The SDK options for these settings (explicit, so stray CLIENT_ID-style vars are unused)."""
    if not settings.teams_client_id:
        raise ConfigError(["TEAMS_CLIENT_ID is not set: it is the Azure Bot's Microsoft App ID"])
    options: AppOptions = {
        "client_id": settings.teams_client_id,
        "tenant_id": settings.teams_tenant_id,
        "cloud": teams_cloud(settings),
        "messaging_endpoint": MESSAGING_ENDPOINT,
        # Never accept an unsigned request, whatever DANGEROUSLY_ALLOW_... says.
        "dangerously_allow_unauthenticated_requests": False,
        # LearnLoop keeps its own state in its database; the SDK's in-memory store is unused.
        "state": False,
    }
    secret = settings.teams_client_secret.get_secret_value() if settings.teams_client_secret else ""
    if token is not None:
        options["token"] = token
    elif secret:
        options["client_secret"] = secret
    else:
        options["managed_identity_client_id"] = (
            settings.teams_managed_identity_client_id or settings.teams_client_id
        )
    return options


def build_teams_bot(settings: Settings, token: TokenSource | None = None) -> TeamsBot:
    """The Teams App for these settings, initialized for proactive sends, routes not mounted."""
    options: dict[str, Any] = dict(teams_options(settings, token))
    adapter = DeferredAdapter(
        InboundActivityTokenValidator(options["client_id"], cloud=options["cloud"])
    )
    app = App(http_server_adapter=adapter, **options)
    bot = TeamsBot(app=app, adapter=adapter)
    bot.initialize()
    return bot

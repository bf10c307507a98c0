"""Builds the Slack side: a WebClient that retries politely, and the Bolt app around it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.metrics import CountingRetryHandler, Metrics
from bot.services import Services
from bot.settings import Settings
from bot.slack.blocks import CheckinForms
from bot.slack.oauth import SlackInstalls, authorizer, oauth_settings
from bot.slack.pacing import PacedRateLimitRetryHandler, PacedServerErrorRetryHandler
from bot.slack.workspaces import (
    ContextThreadPoolExecutor,
    WorkspaceRouter,
    WorkspaceWebClient,
    request_workspace,
)

RATE_LIMIT_RETRIES = 3
# The Web API methods a fan-out paces (per workspace, in the messenger).
PACED_METHODS = ("chat.postMessage",)
SERVER_ERROR_RETRIES = 2
# Bolt's listener threads only acknowledge (and store check-ins first); what follows the ack
# (opening a form, thanks, confirmations) queues on a pool of its own, so a burst of clicks
# never waits for a free listener thread behind other people's views.open calls. Bolt counts
# Slack's 3 seconds from when it starts dispatching, so a listener must never wait for a
# thread: there is one for each request the web app dispatches at once (anyio's default
# limit of 40 worker threads).
LISTENER_THREADS = 40
AFTER_ACK_THREADS = 8


def build_web_client(
    settings: Settings,
    metrics: Metrics | None = None,
    timeout: int = 10,
    paced_methods: Collection[str] = (),
    router: WorkspaceRouter | None = None,
) -> WebClient:
    """A WebClient for SLACK_API_URL that retries on 429 (after Retry-After), 5xx and resets.

    `paced_methods` leave their 429s and 5xx to the messenger, which tells the workspace's
    pacer and retries through it, so a fan-out slows down.
    With a `router` (OAuth mode) each call uses its workspace's bot token.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    rate_limit: RetryHandler = RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
    server_error: RetryHandler = ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES)
    if paced_methods:
        # Paced methods retry 429s and 5xx through their pacer, in the messenger.
        rate_limit = PacedRateLimitRetryHandler(paced_methods, max_retry_count=RATE_LIMIT_RETRIES)
        server_error = PacedServerErrorRetryHandler(
            paced_methods, max_retry_count=SERVER_ERROR_RETRIES
        )
    handlers_: list[RetryHandler] = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        rate_limit,
        server_error,
    ]
    if metrics is not None:
        reasons = ("connection", "ratelimited", "server_error")
        handlers_ = [
            CountingRetryHandler(metrics, h, r) for h, r in zip(handlers_, reasons, strict=True)
        ]
    if router is not None:
        return WorkspaceWebClient(
            router,
            base_url=settings.slack_api_url,
            timeout=timeout,
            retry_handlers=handlers_,
            logger=logging.getLogger("learnloop.slack"),
        )
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=handlers_,
        logger=logging.getLogger("learnloop.slack"),
    )


def build_bolt_app(
    settings: Settings,
    services: Services,
    client: WebClient,
    installs: SlackInstalls | None = None,
) -> App:
    """The Bolt app, ready for `handlers.slack.register`; listeners get services from the context.

    With `installs` (OAuth mode) each request is authorized with its workspace's
    token, and the app serves the install flow.
    """
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    multi: dict[str, Any] = {}
    if installs is not None:
        multi = {
            "oauth_settings": oauth_settings(installs),
            "authorize": authorizer(installs),
            "installation_store": installs.store,
        }
    app = App(
        # In OAuth mode Bolt gives each request a copy of this client with its workspace's token.
        client=installs.client if installs is not None else client,
        signing_secret=signing_secret,
        # Verifying the token would call auth.test at start-up; /healthz reports Slack instead.
        token_verification_enabled=False,
        # Unhandled events (e.g. a reaction) still get their 200 so Slack doesn't retry them.
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("learnloop.bolt"),
        # Listeners see the request's context variables (workspace, request id).
        listener_executor=ContextThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="learnloop-listener"
        ),
        **multi,
    )
    after_ack = ContextThreadPoolExecutor(
        max_workers=AFTER_ACK_THREADS, thread_name_prefix="learnloop-after-ack"
    )
    # The rendered forms belong to one version of the alliance file: a reload starts afresh.
    forms = [CheckinForms(services.alliance.version, services.alliance.themes)]

    def inject_services(context: BoltContext, next: Callable[[], Any]) -> None:  # noqa: A002
        alliance = services.alliance
        if forms[0].version != alliance.version:
            forms[0] = CheckinForms(alliance.version, alliance.themes)
        context["services"] = services
        context["installs"] = installs
        context["after_ack"] = after_ack
        context["forms"] = forms[0]
        # Outbound calls made while handling this request default to its workspace.
        token = request_workspace.set(context.team_id or context.enterprise_id)
        try:
            next()
        finally:
            request_workspace.reset(token)

    app.middleware(inject_services)
    return app

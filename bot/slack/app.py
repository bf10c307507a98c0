"""Builds the Slack side: a WebClient that retries politely, and the Bolt app around it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

import handlers
from bot.config import Settings
from bot.observability import CountingRetryHandler, Metrics
from bot.services import Services

RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2


def build_web_client(
    settings: Settings, metrics: Metrics | None = None, timeout: int = 10
) -> WebClient:
    """A WebClient for SLACK_API_URL that retries on 429 (after Retry-After), 5xx and resets."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    handlers_: list[RetryHandler] = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]
    if metrics is not None:
        reasons = ("connection", "ratelimited", "server_error")
        handlers_ = [
            CountingRetryHandler(metrics, h, r) for h, r in zip(handlers_, reasons, strict=True)
        ]
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=handlers_,
        logger=logging.getLogger("learnloop.slack"),
    )


def build_bolt_app(settings: Settings, services: Services, client: WebClient) -> App:
    """The Bolt app with every LearnLoop listener; services reach listeners via the context."""
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    app = App(
        client=client,
        signing_secret=signing_secret,
        # Verifying the token would call auth.test at start-up; /healthz reports Slack instead.
        token_verification_enabled=False,
        # Unhandled events (e.g. a reaction) still get their 200 so Slack doesn't retry them.
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("learnloop.bolt"),
    )

    def inject_services(context: BoltContext, next: Callable[[], Any]) -> None:  # noqa: A002
        context["services"] = services
        next()

    app.middleware(inject_services)
    handlers.register(app)
    return app

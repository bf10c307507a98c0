"""The composition root: the one place that knows every part and wires them together."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from bot.config import AllianceConfig, ConfigError, Settings, load_alliance
from bot.observability import CONTENT_TYPE, Metrics
from bot.ports import Clock, Messenger, system_clock
from bot.services import Services, build_services
from bot.slack.app import build_bolt_app, build_web_client
from bot.slack.messenger import SlackMessenger
from storage.db import current_revision, make_engine, migrate, ping
from storage.uow import UnitOfWorkFactory

log = logging.getLogger("learnloop")

# Slack's documented replay window for request timestamps.
MAX_REQUEST_AGE_SECONDS = 60 * 5


@dataclass
class LearnLoop:
    """Everything a running LearnLoop process holds."""

    settings: Settings
    alliance: AllianceConfig
    engine: Engine
    services: Services
    metrics: Metrics
    client: WebClient | None = None
    bolt: App | None = None


def prepare_database(engine: Engine) -> None:
    """Create or upgrade an embedded SQLite schema; refuse a PostgreSQL one that is behind."""
    if engine.dialect.name == "sqlite":
        migrate(engine)
        return
    if current_revision(engine) is None:
        raise ConfigError(
            ["DATABASE_URL: the database has no LearnLoop schema yet: run `learnloop migrate`"]
        )


def build(
    settings: Settings,
    alliance: AllianceConfig | None = None,
    clock: Clock = system_clock,
    messenger: Messenger | None = None,
    with_slack: bool = True,
) -> LearnLoop:
    """Build a LearnLoop from settings; Slack parts only when `with_slack`."""
    alliance = alliance or load_alliance(settings.learnloop_config)
    engine = make_engine(settings.database_url)
    prepare_database(engine)
    uow = UnitOfWorkFactory(engine)
    metrics = Metrics()
    metrics.watch_database(engine)
    client = build_web_client(settings, metrics) if with_slack else None
    if messenger is None:
        if client is None:
            raise ValueError("a messenger is needed when Slack is not configured")
        messenger = SlackMessenger(client, metrics)
    services = build_services(uow, alliance, messenger, clock)
    services.members.sync_config()
    bolt = build_bolt_app(settings, services, client) if client is not None else None
    return LearnLoop(
        settings=settings,
        alliance=alliance,
        engine=engine,
        services=services,
        metrics=metrics,
        client=client,
        bolt=bolt,
    )


def slack_request_problem(secret: str, headers: Any, body: bytes, now: float) -> str | None:
    """Why a request must be refused as not from Slack, or None if it is signed and fresh.

    Checked before Bolt sees the request: Bolt answers a non-numeric timestamp with a 500.
    """
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        return "missing signature headers"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "malformed timestamp"
    if abs(now - int(timestamp)) > MAX_REQUEST_AGE_SECONDS:
        return "stale timestamp"
    # Slack's v0 scheme over the raw bytes (the body may not even be valid UTF-8).
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return "bad signature"
    return None


def create_web_app(loop: LearnLoop) -> FastAPI:
    """The HTTP app: Slack events, health."""
    api = FastAPI(title="LearnLoop", docs_url=None, redoc_url=None, openapi_url=None)
    bolt = loop.bolt
    secret = loop.settings.slack_signing_secret
    signing_secret = secret.get_secret_value() if secret else None

    @api.middleware("http")
    async def time_requests(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        label = getattr(route, "path", "unmatched")
        loop.metrics.request_latency.labels(route=label).observe(time.perf_counter() - started)
        return response

    def database_ok() -> bool:
        try:
            ping(loop.engine)
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            log.warning("health check: database unreachable")
            return False
        return True

    @api.get("/healthz")
    def healthz() -> JSONResponse:
        """Liveness plus a database round trip."""
        if not database_ok():
            return JSONResponse({"status": "unhealthy", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @api.get("/readyz")
    def readyz() -> JSONResponse:
        """Ready to serve: the database answers and Slack accepts the bot token."""
        checks = {"database": "ok" if database_ok() else "unreachable"}
        if loop.client is not None:
            try:
                loop.client.auth_test()
                checks["slack"] = "ok"
            except SlackApiError as exc:
                checks["slack"] = str(exc.response.get("error", "error"))
            except Exception as exc:  # noqa: BLE001 - report, don't crash the probe
                checks["slack"] = exc.__class__.__name__
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", **checks}, 200 if ready else 503
        )

    @api.get("/metrics")
    def metrics() -> Response:
        """Prometheus metrics: counts only."""
        return Response(loop.metrics.render(), media_type=CONTENT_TYPE)

    @api.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        """Events, slash commands and interactivity from Slack."""
        if bolt is None or not signing_secret:
            return JSONResponse({"error": "slack is not configured"}, 503)
        body = await request.body()
        problem = slack_request_problem(signing_secret, request.headers, body, time.time())
        if problem:
            log.info("refused a Slack request: %s", problem)
            return JSONResponse({"error": "invalid request signature"}, 401)
        try:
            bolt_request = to_bolt_request(request, body)
        except (UnicodeDecodeError, ValueError):
            return JSONResponse({"error": "malformed body"}, 400)
        # Bolt's App is synchronous: run it off the event loop so requests don't queue.
        bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    return api

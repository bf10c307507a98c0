"""The composition root: the one place that knows every part and wires them together."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from bot.config import AllianceConfig, ConfigError, Settings, load_alliance
from bot.logs import install_log_scrubbing, secrets_of
from bot.metrics import CONTENT_TYPE, Metrics
from bot.ports import Clock, Messenger, system_clock
from bot.readiness import SlackReadiness, auth_test_call
from bot.render.pages import render_page_html
from bot.services import Services, build_services
from bot.services.members import MemberService
from bot.services.workspaces import WorkspaceService
from bot.slack.app import build_bolt_app, build_web_client
from bot.slack.inbound import MalformedBody, SlackBody, read_slack_body
from bot.slack.messenger import SlackMessenger
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH, SlackInstalls, build_installs
from bot.slack.own_workspace import OwnWorkspace
from bot.slack.pacing import Pacer
from bot.slack.workspaces import WorkspaceDirectory, WorkspaceRouter
from bot.views.legal import privacy_page, terms_page
from bot.web_middleware import RequestMiddleware
from storage.db import (
    SchemaState,
    code_head,
    known_revisions,
    make_engine,
    migrate,
    ping,
    schema_state,
)
from storage.uow import UnitOfWorkFactory

if TYPE_CHECKING:  # issue 7: the Teams SDK is imported only when Teams is configured
    from bot.teams.app import TeamsBot, TokenSource
    from bot.teams.messenger import TeamsMessenger

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
    teams: TeamsBot | None = None  # issue 7
    installs: SlackInstalls | None = None  # issue 8: multi-workspace (OAuth) mode
    # Single-workspace mode: requests naming another workspace or app are refused.
    own_workspace: OwnWorkspace | None = None
    # What /readyz compares the database's schema with: this code's head and known revisions.
    schema_head: str = ""
    schema_known: frozenset[str] = field(default_factory=frozenset)
    # Slack's answer for /readyz (single-workspace mode only), cached and bounded in time.
    slack_readiness: SlackReadiness | None = None

    def schema(self) -> SchemaState:
        """Where the database's schema stands against this code's migrations (one query)."""
        return schema_state(self.engine, self.schema_head, self.schema_known)


def prepare_database(engine: Engine, migrations: Path | None = None) -> SchemaState:
    """Create or upgrade an embedded SQLite schema; refuse a PostgreSQL one that is behind.

    A schema newer than this code (a release rolled back without a downgrade) is served, with
    a warning: migrations only add, so an older release keeps working on it.
    """
    head, known = code_head(migrations), known_revisions(migrations)
    state = schema_state(engine, head, known)
    if engine.dialect.name == "sqlite" and state.state in ("empty", "behind"):
        migrate(engine, migrations=migrations)
        return schema_state(engine, head, known)
    if not state.usable:
        raise ConfigError([f"DATABASE_URL: {state.problem()}"])
    if state.state == "newer":
        log.warning("%s; serving it anyway", state.problem())
    return state


def build(
    settings: Settings,
    alliance: AllianceConfig | None = None,
    clock: Clock = system_clock,
    messenger: Messenger | None = None,
    with_slack: bool = True,
    teams_token: TokenSource | None = None,
    set_up: bool = True,
    migrations: Path | None = None,
) -> LearnLoop:
    """Build a LearnLoop from settings; Slack parts only when `with_slack`.

    Teams parts are built when TEAMS_CLIENT_ID is set; `teams_token` replaces the secret or
    managed identity for outbound Teams calls (tests). `set_up=False` skips preparing the
    database and storing the alliance file (a web worker whose parent `serve` did both).
    `migrations` replaces the migrations this code ships (tests of a release that is ahead
    of its database).
    """
    # Issue 6: before anything can log, so no token, payload or identifier reaches a log.
    install_log_scrubbing(secrets_of(settings))
    alliance = alliance or load_alliance(settings.learnloop_config)
    engine = make_engine(settings.database_url)
    if set_up:
        prepare_database(engine, migrations)
    uow = UnitOfWorkFactory(engine)
    metrics = Metrics()
    metrics.watch_database(engine, alliance.alliance.suppress_below)
    # Issue 3: one pacer per process keeps fan-out DMs just under Slack's rate limit.
    pacer = Pacer()
    # Issue 8: in OAuth mode tokens come from each workspace's install (a missing key refuses).
    installs = (
        build_installs(settings, engine, WorkspaceService(uow))
        if with_slack and settings.slack_oauth_enabled
        else None
    )
    if installs is not None:
        installs.on_refused = lambda workspace: _count_uninstalled(metrics, workspace)
    router = (
        WorkspaceRouter(WorkspaceDirectory(alliance, uow), installs.tokens) if installs else None
    )
    client = (
        build_web_client(settings, metrics, pacers={"chat.postMessage": pacer}, router=router)
        if with_slack
        else None
    )
    teams = _build_teams(settings, uow, clock, teams_token) if settings.teams_enabled else None
    if messenger is None:
        slack_messenger = (
            SlackMessenger(
                client,
                metrics,
                pacer=pacer,
                digest_retry_budget=settings.learnloop_digest_retry_seconds,
            )
            if client is not None
            else None
        )
        if teams is not None:
            # Issue 7: one alliance on both platforms; each call goes where its address lives.
            from bot.messenger_router import MessengerRouter

            messenger = MessengerRouter(slack=slack_messenger, teams=teams[1])
        elif slack_messenger is None:
            raise ValueError("a messenger is needed when Slack is not configured")
        else:
            messenger = slack_messenger
    services = build_services(uow, alliance, messenger, clock)
    if teams is not None:
        import handlers.teams

        handlers.teams.register(teams[0].app, services, teams[1])
    if set_up:
        services.members.sync_config()
    bolt = build_bolt_app(settings, services, client, installs) if client is not None else None
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    readiness = (
        SlackReadiness(auth_test_call(token, settings.slack_api_url))
        if client is not None and installs is None and token
        else None
    )
    return LearnLoop(
        settings=settings,
        alliance=alliance,
        engine=engine,
        services=services,
        metrics=metrics,
        client=client,
        bolt=bolt,
        teams=teams[0] if teams is not None else None,
        installs=installs,
        own_workspace=OwnWorkspace(client) if client is not None and installs is None else None,
        schema_head=code_head(migrations),
        schema_known=known_revisions(migrations),
        slack_readiness=readiness,
    )


def _count_uninstalled(metrics: Metrics, workspace: str | None) -> None:
    """OAuth mode: a signed request from a workspace with no installation was refused."""
    metrics.slack_refused.labels(reason="not_installed", kind="any").inc()
    log.warning("refused a Slack request from a workspace with no installation (%s)", workspace)


def _build_teams(
    settings: Settings, uow: UnitOfWorkFactory, clock: Clock, token: TokenSource | None
) -> tuple[TeamsBot, TeamsMessenger]:
    """Issue 7: the Teams App (initialized for proactive sends) and its messenger."""
    from bot.services.teams import TeamsConversationService
    from bot.teams.app import build_teams_bot
    from bot.teams.messenger import TeamsMessenger

    bot = build_teams_bot(settings, token)
    return bot, TeamsMessenger(bot, TeamsConversationService(uow, clock))


def set_up(settings: Settings) -> AllianceConfig:
    """Once before several web workers start: validate, prepare the database, store the file.

    Done by `serve`'s parent so that its workers don't migrate or write the same rows at once.
    """
    install_log_scrubbing(secrets_of(settings))
    alliance = load_alliance(settings.learnloop_config)
    engine = make_engine(settings.database_url)
    try:
        prepare_database(engine)
        MemberService(UnitOfWorkFactory(engine), alliance, system_clock).sync_config()
    finally:
        engine.dispose()
    return alliance


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


def is_ssl_check(headers: Any, body: bytes) -> bool:
    """Slack's unsigned certificate probe, exactly: a form body of `ssl_check=1` and a token.

    Slack sends it without a signature when it checks the Request URL's certificate and
    expects a 200. Only that shape passes unsigned; anything else (more fields, a JSON body,
    signature headers that may be checked) goes through the signature check as usual.
    """
    if headers.get("x-slack-signature") or headers.get("x-slack-request-timestamp"):
        return False
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded" or len(body) > 512:
        return False
    try:
        fields = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return False
    names = [name for name, _ in fields]
    return (
        sorted(names) in (["ssl_check"], ["ssl_check", "token"])
        and dict(fields)["ssl_check"] == "1"
    )


def create_web_app(loop: LearnLoop) -> FastAPI:
    """The HTTP app: Slack events, health."""
    api = FastAPI(title="LearnLoop", docs_url=None, redoc_url=None, openapi_url=None)
    bolt = loop.bolt
    secret = loop.settings.slack_signing_secret
    signing_secret = secret.get_secret_value() if secret else None

    # One plain ASGI middleware (request id, access line, latency) keeps the ack path short.
    api.add_middleware(RequestMiddleware, metrics=loop.metrics)

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
        """Ready to serve: the database answers at this code's schema, Slack takes the token.

        Never held long: Slack's answer is cached and asked for in the background.
        """
        database = database_ok()
        checks: dict[str, Any] = {"database": "ok" if database else "unreachable"}
        ready = database
        if database:
            try:
                schema = loop.schema()
            except Exception:  # noqa: BLE001 - report, don't crash the probe
                schema = None
            checks["schema"] = (
                "unknown" if schema is None else "ok" if schema.state == "current" else schema.state
            )
            if schema is None or not schema.usable:
                ready = False
                if schema is not None:
                    checks["schema_problem"] = schema.problem()
            elif schema.state == "newer":
                checks["schema_problem"] = schema.problem()
        if loop.installs is not None:
            # Issue 8: each workspace has its own token. One revoked token (or none installed
            # yet) must not take the process out of service: others, and installs, need it.
            try:
                checks["workspaces"] = len(loop.installs.tokens.installed())
                checks["slack"] = "ok"
            except Exception as exc:  # noqa: BLE001 - report, don't crash the probe
                checks["slack"] = exc.__class__.__name__
                ready = False
        elif loop.slack_readiness is not None:
            answer = loop.slack_readiness.answer()
            checks["slack"] = answer.status
            if answer.stale and answer.age_seconds is not None:
                checks["slack_checked_seconds_ago"] = round(answer.age_seconds)
            ready = ready and answer.status == "ok"
        return JSONResponse(
            {"status": "ready" if ready else "not ready", **checks},
            200 if ready else 503,
        )

    # Teams requires a privacy and a terms-of-use URL in its app package: these say what this
    # deployment stores, with the alliance's own name and retention period.
    about = loop.alliance.alliance

    @api.get("/privacy")
    def privacy_notice() -> HTMLResponse:
        """The public privacy notice: what LearnLoop stores, for how long, who sees it."""
        page = privacy_page(about.name, about.retention_months, about.suppress_below)
        return HTMLResponse(render_page_html(page))

    @api.get("/terms")
    def terms_of_use() -> HTMLResponse:
        """The public terms of use."""
        return HTMLResponse(render_page_html(terms_page(about.name)))

    @api.get("/metrics")
    def metrics() -> Response:
        """Prometheus metrics: counts only."""
        return Response(loop.metrics.render(), media_type=CONTENT_TYPE)

    def refuse_foreign(inbound: SlackBody, reason: str) -> Response:
        """Nothing is stored for another workspace or app; the refusal is counted and logged."""
        loop.metrics.slack_refused.labels(reason=reason, kind=inbound.kind).inc()
        log.warning(
            "refused a Slack %s for another %s (team %s, app %s)",
            inbound.kind,
            "workspace" if reason == "team" else "app",
            inbound.team_id,
            inbound.api_app_id,
        )
        if inbound.kind == "event_callback":
            # Events must get a 2xx or Slack redelivers them (and may turn the subscription off).
            return Response(status_code=200)
        # Interactions and commands are never redelivered: say plainly that they are refused.
        return JSONResponse({"error": "this LearnLoop does not serve that workspace or app"}, 403)

    @api.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        """Events, slash commands and interactivity from Slack."""
        if bolt is None or not signing_secret:
            return JSONResponse({"error": "slack is not configured"}, 503)
        body = await request.body()
        if is_ssl_check(request.headers, body):
            return Response(status_code=200)
        problem = slack_request_problem(signing_secret, request.headers, body, time.time())
        if problem:
            log.info("refused a Slack request: %s", problem)
            return JSONResponse({"error": "invalid request signature"}, 401)
        try:
            inbound = read_slack_body(request.headers.get("content-type"), body)
        except MalformedBody as exc:
            # Signed but not shaped like anything Slack sends: Bolt would fail with a 500.
            log.info("refused a malformed Slack request: %s", exc)
            return JSONResponse({"error": f"malformed request: {exc}"}, 400)
        own = loop.own_workspace
        if own is not None:
            # The first request asks Slack who we are (a network call): off the event loop.
            reason = (
                own.refusal(inbound) if own.known else await run_in_threadpool(own.refusal, inbound)
            )
            if reason is not None:
                return refuse_foreign(inbound, reason)
        try:
            bolt_request = to_bolt_request(request, body)
        except (UnicodeDecodeError, ValueError):
            return JSONResponse({"error": "malformed body"}, 400)
        # Bolt's App is synchronous: run it off the event loop so requests don't queue.
        bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    oauth_flow = bolt.oauth_flow if bolt is not None else None
    if oauth_flow is not None:
        # Issue 8: multi-workspace installs (only when SLACK_CLIENT_ID/SECRET are set).

        @api.get(INSTALL_PATH)
        async def slack_install(request: Request) -> Response:
            """The "Add to Slack" page: a one-use state in a cookie, then Slack's consent page."""
            bolt_request = to_bolt_request(request, b"")
            response = await run_in_threadpool(oauth_flow.handle_installation, bolt_request)
            return to_starlette_response(response)

        @api.get(REDIRECT_PATH)
        async def slack_oauth_redirect(request: Request) -> Response:
            """Slack returns the installer here: the state is checked, then the tokens stored."""
            bolt_request = to_bolt_request(request, b"")
            response = await run_in_threadpool(oauth_flow.handle_callback, bolt_request)
            return to_starlette_response(response)

    # Issue 7: Teams posts activities to /api/messages; the SDK validates each one's JWT.
    if loop.teams is not None:
        loop.teams.mount(api)
    else:

        @api.post("/api/messages")
        def teams_not_configured() -> JSONResponse:
            """Teams is not set up in this deployment."""
            return JSONResponse({"error": "teams is not configured"}, 503)

    return api

"""LearnLoop's HTTP surface: health and readiness, Slack's and Teams' endpoints, public pages.

Everything here is built from a `LearnLoop` that `bot.app.build` wired; this module only maps
requests onto it. Requests Slack signs are checked here, before Bolt sees them, so a forged or
malformed one gets a 401 (never a 500) and costs nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

from bot.app import LearnLoop
from bot.metrics import CONTENT_TYPE
from bot.render.pages import render_page_html
from bot.slack.inbound import MalformedBody, SlackBody, read_slack_body
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH
from bot.views.legal import privacy_page, terms_page
from bot.web.board.routes import mount_board
from bot.web.contribute import contribute_router
from bot.web.middleware import RequestMiddleware
from storage.db import ping

log = logging.getLogger("learnloop")

# Slack's documented replay window for request timestamps.
MAX_REQUEST_AGE_SECONDS = 60 * 5


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
            # Each workspace has its own token. One revoked token (or none installed
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
        # Multi-workspace installs (only when SLACK_CLIENT_ID/SECRET are set).

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

    api.include_router(contribute_router(lambda: loop.services.contributors))

    # Teams posts activities to /api/messages; the SDK validates each one's JWT.
    if loop.teams is not None:
        loop.teams.mount(api)
    else:

        @api.post("/api/messages")
        def teams_not_configured() -> JSONResponse:
            """Teams is not set up in this deployment."""
            return JSONResponse({"error": "teams is not configured"}, 503)

    # The Learning Board (/board/): sign-in, sessions and its pages.
    mount_board(api, loop)
    return api

"""One plain ASGI middleware for every request: its id, its access line, its latency metric.

It replaces two of Starlette's `BaseHTTPMiddleware`s: each of those runs the app in a task
group and streams the response through a memory channel, which profiling showed cost about a
tenth of the CPU of a Slack acknowledgement. This wraps `send` instead and sees the status and
headers as they go out.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.logs import new_request_id, request_id
from bot.metrics import Metrics

access_log = logging.getLogger("learnloop.http")
# Probes and scrapes arrive every few seconds: logged at DEBUG so they don't drown the rest.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class RequestMiddleware:
    """Sets the request id (sent back as X-Request-ID), times the request, logs one line."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id(_header(scope, b"x-request-id"))
        token = request_id.set(rid)
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            # The route, never the raw path: /slack/oauth_redirect's query carries the code.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.request_latency.labels(route=route).observe(elapsed)
            access_log.log(
                logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
                "%s %s %s",
                scope.get("method", ""),
                route,
                status["code"],
                extra={
                    "method": scope.get("method", ""),
                    "route": route,
                    "status": status["code"],
                    "duration_ms": round(elapsed * 1000, 1),
                    # With several workers, which process answered.
                    "pid": os.getpid(),
                },
            )
            request_id.reset(token)

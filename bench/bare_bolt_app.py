"""The baseline for bench/ack_latency.py: a bare Bolt app with no-op listeners, served on the
same stack as LearnLoop (FastAPI + uvicorn, Bolt's sync App dispatched in a worker thread).

Run: SLACK_SIGNING_SECRET=... uvicorn bench.bare_bolt_app:api --port 8001
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from starlette.concurrency import run_in_threadpool

bolt = App(
    client=WebClient(token="xoxb-bench", base_url=os.environ.get("SLACK_API_URL", "")),
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    token_verification_enabled=False,
)


@bolt.command("/checkin")
def noop_command(ack) -> None:  # noqa: ANN001 - Bolt injects by name
    """Acknowledge and do nothing."""
    ack()


@bolt.action("checkin_open")
def noop_action(ack) -> None:  # noqa: ANN001
    """Acknowledge and do nothing."""
    ack()


@bolt.event("message")
def noop_event() -> None:
    """Events are acknowledged by Bolt before the listener runs."""


api = FastAPI()


@api.post("/slack/events")
async def events(request: Request) -> Response:
    """Dispatch to Bolt off the event loop, as LearnLoop does."""
    body = await request.body()
    response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
    return to_starlette_response(response)

"""`POST /api/messages` in front of the Teams SDK: a token that expires, and an activity that
is shaped like one, before the SDK is given it.

The SDK answers a body that is not a JSON object, or an activity its own models refuse, with a
500 (Teams then retries it), and accepts a correctly signed token that never expires. Here a
token without `exp` is refused with 401, and a malformed activity with 400 — but only once its
token has been checked, so a caller without a valid token learns nothing but 401.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import jwt
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from microsoft_teams.api import ActivityTypeAdapter
from microsoft_teams.apps.events import CoreActivity
from microsoft_teams.apps.http.adapter import HttpRequest, HttpResponse
from pydantic import ValidationError

from bot.domain.text import storable_json

log = logging.getLogger("learnloop.teams")

# Every activity LearnLoop answers names these (the SDK reads them to reply and to route).
_REQUIRED_OBJECTS = ("from", "recipient", "conversation")


class TokenValidator(Protocol):
    """What the SDK's InboundActivityTokenValidator offers."""

    async def validate_token(self, raw_token: str, service_url: str | None = None) -> Any:
        """The token's claims; raises if it is not valid."""


def activity_problem(data: Any) -> str | None:
    """Why a decoded body is not an activity LearnLoop can answer, or None if it is."""
    if not isinstance(data, dict):
        return "the body is not a JSON object"
    if not isinstance(data.get("type"), str) or not data["type"]:
        return "the activity has no type"
    if not isinstance(data.get("serviceUrl"), str) or not data["serviceUrl"]:
        return "the activity has no serviceUrl"
    for key in _REQUIRED_OBJECTS:
        part = data.get(key)
        if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"]:
            return f"the activity has no {key}.id"
    try:
        # The same two steps the SDK takes before routing: anything they refuse would be a 500.
        core = CoreActivity.model_validate(data)
        ActivityTypeAdapter.validate_python(core.model_dump(by_alias=True, exclude_none=True))
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if not isinstance(p, int))
        return f"the activity is not valid at {where or 'its top level'}"
    return None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    return header.removeprefix("Bearer ") if header.startswith("Bearer ") else None


def _expires(token: str) -> bool:
    """Whether the token carries an `exp` claim (its signature is checked elsewhere)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return False
    return isinstance(claims.get("exp"), int | float)


def guarded_messages(
    handler: Callable[[HttpRequest], Awaitable[HttpResponse]], validator: TokenValidator
) -> Callable[[Request], Awaitable[Response]]:
    """A FastAPI endpoint that checks the token's expiry and the activity, then runs `handler`."""

    async def messages(request: Request) -> Response:
        """Activities from the Bot Connector."""
        token = _bearer(request)
        if token is None or not _expires(token):
            # A signed token that never expires would be valid for ever if it leaked.
            log.warning("refused a Teams request: missing token or token without exp")
            return JSONResponse({"error": "Unauthorized"}, 401)
        raw = await request.body()
        try:
            # Names, titles and card inputs reach the database without passing redaction:
            # every string is made valid UTF-8 here, where the activity is read.
            data: Any = storable_json(json.loads(raw))
        except ValueError:  # includes bytes that are not UTF-8
            data = None
        problem = activity_problem(data)
        if problem is not None:
            service_url = data.get("serviceUrl") if isinstance(data, dict) else None
            try:
                await validator.validate_token(
                    token, service_url if isinstance(service_url, str) else None
                )
            except Exception:  # noqa: BLE001 - any failure means the caller is not the connector
                return JSONResponse({"error": "Unauthorized"}, 401)
            log.info("refused a malformed Teams activity: %s", problem)
            return JSONResponse({"error": f"malformed activity: {problem}"}, 400)
        result = await handler(HttpRequest(body=data, headers=dict(request.headers)))
        body = result.get("body")
        if body is not None:
            return JSONResponse(content=body, status_code=result["status"])
        return Response(status_code=result["status"])

    return messages

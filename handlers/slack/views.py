"""Modal submissions."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.domain.checkins import Source
from bot.domain.errors import LearnLoopError, ValidationFailed
from bot.services import Services
from bot.slack import render
from bot.slack.ids import View as ViewId
from bot.views.checkin import QUESTION_PREFIX, errors_for, field_of
from handlers.slack.errors import after_ack


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _as_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def submit_checkin(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    services: Services,
) -> None:
    """Store the check-in *before* acknowledging, so a closed modal always means saved."""
    user_id = body["user"]["id"]
    meta = _metadata(view)
    values = render.read_values(view.get("state", {}).get("values", {}))
    try:
        saved = services.checkins.submit_form(
            "slack",
            user_id,
            values,
            source=Source.MODAL,
            prompt_id=_as_id(meta.get("prompt_id")),
            checkin_id=_as_id(meta.get("checkin_id")),
            idempotency_key=f"slack:view:{view['id']}:{view.get('hash', '')}"
            if view.get("id") and meta.get("checkin_id") is None
            else None,
        )
    except ValidationFailed as exc:
        ack(**render.form_errors(errors_for(exc.errors)))
        return
    except LearnLoopError as exc:
        # Keep the modal open with everything typed in it, and say why it wasn't saved.
        first = next(
            (key for key in values if key.startswith(QUESTION_PREFIX)), field_of("learned")
        )
        ack(**render.form_errors({first: exc.message[:150]}))
        return
    ack()
    after_ack(context, body, client, lambda: services.checkins.thank(user_id, saved))


def register(app: App) -> None:
    """Attach the modal listeners."""
    app.view(ViewId.CHECKIN.value)(submit_checkin)

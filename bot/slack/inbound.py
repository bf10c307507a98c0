"""The shape a signed Slack request must have before Bolt is given it.

A correct signature proves the bytes came from Slack (or someone holding the signing secret),
not that they are well formed. Bolt assumes they are: `payload=[1,2]`, JSON `null` or an
action list that is a string make it raise deep inside, and the caller sees a 500 (or a reset
connection). Each request is checked here for the few things Bolt and the listeners rely on,
and answered 400 with the reason otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

__all__ = ["MalformedBody", "SlackBody", "read_slack_body"]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

# Interactive payload types and the object each one is about (Bolt reads these).
_NEEDS_DICT = {
    "view_submission": "view",
    "view_closed": "view",
    "block_suggestion": "view",
}
# Fields of a message event the listeners read as text.
_MESSAGE_STRINGS = ("text", "user", "channel", "channel_type", "subtype", "bot_id", "ts")


@dataclass(frozen=True)
class SlackBody:
    """What a well-formed request is: its kind, and the workspace and app it names."""

    kind: str
    team_id: str | None
    api_app_id: str | None
    enterprise_id: str | None


class MalformedBody(ValueError):
    """The request is signed but not shaped like anything Slack sends."""


def read_slack_body(content_type: str | None, body: bytes) -> SlackBody:
    """Check a signed body's shape; MalformedBody says what is wrong with it."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in (FORM, JSON):
        raise MalformedBody(f"unsupported content type {media or 'none'!r}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody("the body is not UTF-8") from exc
    if not text.strip():
        raise MalformedBody("the body is empty")
    if media == JSON:
        return _events_api(_json_object(text, "the body"))
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        return _interactive(_json_object(form["payload"][0], "payload"))
    if "ssl_check" in form:
        return SlackBody("ssl_check", None, None, None)
    command = _first(form, "command")
    if command is None or not command.startswith("/"):
        raise MalformedBody("a form body needs a payload or a slash command")
    return SlackBody(
        "slash_command",
        _first(form, "team_id"),
        _first(form, "api_app_id"),
        _first(form, "enterprise_id"),
    )


def _first(form: dict[str, list[str]], key: str) -> str | None:
    values = form.get(key)
    return values[0] if values else None


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MalformedBody(f"{what} is not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedBody(f"{what} is not a JSON object")
    if not isinstance(data.get("type"), str) or not data["type"]:
        raise MalformedBody(f"{what} has no type")
    return data


def _optional_str(data: dict[str, Any], key: str, what: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedBody(f"{what}.{key} is not a string")
    return value


def _events_api(data: dict[str, Any]) -> SlackBody:
    kind = data["type"]
    if kind == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise MalformedBody("an event_callback needs an event with a type")
        if event["type"] == "message":
            for key in _MESSAGE_STRINGS:
                _optional_str(event, key, "event")
    enterprise = data.get("enterprise_id")
    return SlackBody(
        kind,
        _optional_str(data, "team_id", "body"),
        _optional_str(data, "api_app_id", "body"),
        enterprise if isinstance(enterprise, str) else None,
    )


def _check_view(view: dict[str, Any]) -> None:
    """A view as Slack sends it: a type, string ids, and state values block -> action -> entry."""
    if not isinstance(view.get("type"), str):
        raise MalformedBody("payload.view has no type")
    for key in ("id", "hash", "callback_id", "private_metadata"):
        _optional_str(view, key, "payload.view")
    state = view.get("state")
    if state is None:
        return
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(
        isinstance(block, dict) and all(isinstance(entry, dict) for entry in block.values())
        for block in values.values()
    ):
        raise MalformedBody("payload.view.state.values is not block -> action -> value")
    for block in values.values():
        for entry in block.values():
            _optional_str(entry, "value", "payload.view.state entry")
            option = entry.get("selected_option")
            options = entry.get("selected_options")
            if option is not None and not isinstance(option, dict):
                raise MalformedBody("payload.view.state entry has a bad selected_option")
            if options is not None and not (
                isinstance(options, list) and all(isinstance(o, dict) for o in options)
            ):
                raise MalformedBody("payload.view.state entry has bad selected_options")


def _interactive(data: dict[str, Any]) -> SlackBody:
    kind = data["type"]
    user = data.get("user")
    if user is not None and not (isinstance(user, dict) and isinstance(user.get("id"), str)):
        raise MalformedBody("payload.user has no id")
    if kind == "block_actions":
        actions = data.get("actions")
        if not isinstance(actions, list) or not all(
            isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions
        ):
            raise MalformedBody("payload.actions is not a list of actions")
    needed = _NEEDS_DICT.get(kind)
    if needed and not isinstance(data.get(needed), dict):
        raise MalformedBody(f"payload.{needed} is missing")
    if isinstance(data.get("view"), dict):
        _check_view(data["view"])
    if kind in ("shortcut", "message_action") and not isinstance(data.get("callback_id"), str):
        raise MalformedBody("payload.callback_id is missing")
    team = data.get("team")
    team_id = team.get("id") if isinstance(team, dict) else None
    enterprise = data.get("enterprise")
    enterprise_id = enterprise.get("id") if isinstance(enterprise, dict) else None
    return SlackBody(
        kind,
        team_id if isinstance(team_id, str) else None,
        _optional_str(data, "api_app_id", "payload"),
        enterprise_id if isinstance(enterprise_id, str) else None,
    )

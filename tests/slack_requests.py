"""Builders of signed Slack HTTP requests (slash commands, interactivity, Events API).

Payload shapes start from the documented samples copied verbatim into ``tests/payloads/``
(top-level keys starting with ``_`` are metadata and are stripped). Every builder returns a
:class:`SignedRequest` whose ``body`` is exactly the signed bytes.

This module does not depend on pytest.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

PAYLOAD_DIR = Path(__file__).resolve().parent / "payloads"

SIGNING_SECRET = "test-signing-secret"
TEAM_ID = "T0001"
TEAM_DOMAIN = "example"
API_APP_ID = "A0001"
USER_ID = "U2147483697"
CHANNEL_ID = "C2147483705"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
VIEW_ID = "VNHU13V36"
VIEW_HASH = "156663117.cd33ad1f"
RESPONSE_URL = "https://hooks.slack.com/commands/1234/5678"
ACTION_RESPONSE_URL = "https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09sSasdasdAS9091209"

JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass
class SignedRequest:
    """A request body plus the headers Slack would send with it."""

    body: bytes
    headers: dict[str, str]
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Return the body decoded as UTF-8."""
        return self.body.decode("utf-8")


def load_sample(name: str) -> dict[str, Any]:
    """Load ``tests/payloads/<name>.json`` without its top-level ``_`` metadata keys."""
    path = PAYLOAD_DIR / (name if name.endswith(".json") else f"{name}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def load_signature_vector() -> dict[str, str]:
    """Return Slack's documented signature test vector (secret, timestamp, body, signature)."""
    return {k: str(v) for k, v in load_sample("signature_test_vector").items()}


def dm_channel_id(user_id: str) -> str:
    """Return the DM channel id the fake Web API uses for a user (``"D" + user_id``)."""
    return f"D{user_id}"


def new_trigger_id() -> str:
    """Return a fresh trigger_id shaped like Slack's."""
    return f"13345224609.738474920.{uuid.uuid4().hex}"


def new_event_id() -> str:
    """Return a fresh, unique Events API event_id."""
    return "Ev" + uuid.uuid4().hex[:10].upper()


def new_ts() -> str:
    """Return a message timestamp for now (``seconds.micros``)."""
    return f"{time.time():.6f}"


def _to_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def sign(signing_secret: str, body: bytes | str, timestamp: int | str) -> dict[str, str]:
    """Return Slack's v0 signature headers (and Content-Type) for a raw body."""
    raw = _to_bytes(body)
    ts = str(timestamp)
    base = b"v0:" + ts.encode("ascii") + b":" + raw
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    content_type = JSON_CONTENT_TYPE if raw.lstrip().startswith(b"{") else FORM_CONTENT_TYPE
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def _signed(
    body: bytes,
    payload: dict[str, Any],
    signing_secret: str,
    timestamp: int | str | None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> SignedRequest:
    ts = int(time.time()) if timestamp is None else timestamp
    headers = sign(signing_secret, body, ts)
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return SignedRequest(body=body, headers=headers, payload=payload)


def _json_request(
    payload: dict[str, Any],
    signing_secret: str,
    timestamp: int | str | None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> SignedRequest:
    body = json.dumps(payload).encode("utf-8")
    return _signed(body, payload, signing_secret, timestamp, retry_num, retry_reason)


def _payload_form_request(
    payload: dict[str, Any], signing_secret: str, timestamp: int | str | None
) -> SignedRequest:
    body = urlencode({"payload": json.dumps(payload)}).encode("utf-8")
    return _signed(body, payload, signing_secret, timestamp)


def _team(team_id: str) -> dict[str, str]:
    return {"id": team_id, "domain": TEAM_DOMAIN}


def _user(user_id: str, team_id: str) -> dict[str, str]:
    name = f"user.{user_id.lower()}"
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


# ---------------------------------------------------------------------------- slash commands


def slash_command(
    command: str,
    text: str = "",
    *,
    user_id: str = USER_ID,
    team_id: str = TEAM_ID,
    channel_id: str = CHANNEL_ID,
    trigger_id: str | None = None,
    response_url: str = RESPONSE_URL,
    signing_secret: str = SIGNING_SECRET,
    timestamp: int | str | None = None,
    **fields: str | None,
) -> SignedRequest:
    """Build a slash command form body in the documented field order.

    Extra keyword ``fields`` override documented fields (``channel_name="x"``) or add new ones;
    a value of ``None`` removes the field.
    """
    form: dict[str, Any] = load_sample("slash_command")
    form.update(
        {
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": "directmessage" if channel_id.startswith("D") else "test",
            "user_id": user_id,
            "user_name": f"user.{user_id.lower()}",
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger_id(),
            "api_app_id": API_APP_ID,
        }
    )
    form.update(fields)
    pairs = [(k, str(v)) for k, v in form.items() if v is not None]
    body = urlencode(pairs).encode("utf-8")
    return _signed(body, dict(pairs), signing_secret, timestamp)


# ---------------------------------------------------------------------------- interactivity


def block_actions(
    action_id: str,
    value: str | None = None,
    *,
    user_id: str = USER_ID,
    message_ts: str | None = None,
    channel_id: str | None = None,
    container_type: str = "message",
    view: dict[str, Any] | None = None,
    block_id: str = "learnloop_actions",
    action_type: str = "button",
    action: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    response_url: str = ACTION_RESPONSE_URL,
    signing_secret: str = SIGNING_SECRET,
    timestamp: int | str | None = None,
) -> SignedRequest:
    """Build a ``block_actions`` interaction (form field ``payload=<json>``).

    ``container_type="message"`` models a button in a bot message (a DM with the user unless
    ``channel_id`` is given); ``container_type="view"`` models a button in a Home tab or modal,
    where ``view`` overrides fields of the documented Home tab view. ``action`` adds fields to
    the action element (e.g. ``selected_option``); ``message`` overrides message fields.
    """
    element: dict[str, Any] = {
        "type": action_type,
        "block_id": block_id,
        "action_id": action_id,
        "action_ts": new_ts(),
    }
    if action_type == "button":
        element["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
    if value is not None:
        element["value"] = value
    element.update(action or {})

    if container_type == "message":
        payload = load_sample("block_actions")
        channel = channel_id or dm_channel_id(user_id)
        ts = message_ts or "1548261231.000200"
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": False,
        }
        payload["channel"] = {
            "id": channel,
            "name": "directmessage" if channel.startswith("D") else "review-updates",
        }
        msg: dict[str, Any] = {
            "bot_id": BOT_ID,
            "type": "message",
            "text": "This content can't be displayed.",
            "user": BOT_USER_ID,
            "ts": ts,
            "team": team_id,
            "blocks": [],
        }
        msg.update(message or {})
        payload["message"] = msg
        payload["response_url"] = response_url
        payload["state"] = {"values": {}}
    elif container_type == "view":
        payload = load_sample("block_actions_home_tab")
        merged_view = dict(payload["view"])
        merged_view.update({"team_id": team_id, "app_id": API_APP_ID, "bot_id": BOT_ID})
        merged_view["app_installed_team_id"] = team_id
        merged_view.update(view or {})
        merged_view.setdefault("root_view_id", merged_view["id"])
        payload["view"] = merged_view
        payload["container"] = {"type": "view", "view_id": merged_view["id"]}
    else:
        raise ValueError(f"unsupported container_type {container_type!r}")

    payload.update(
        {
            "team": _team(team_id),
            "user": _user(user_id, team_id),
            "api_app_id": API_APP_ID,
            "trigger_id": trigger_id or new_trigger_id(),
            "is_enterprise_install": False,
            "enterprise": None,
            "actions": [element],
        }
    )
    return _payload_form_request(payload, signing_secret, timestamp)


def plain_text_value(value: str | None) -> dict[str, Any]:
    """Return a view state entry for a ``plain_text_input``."""
    return {"type": "plain_text_input", "value": value}


def static_select_value(value: str, text: str | None = None) -> dict[str, Any]:
    """Return a view state entry for a ``static_select`` with one selected option."""
    return {
        "type": "static_select",
        "selected_option": {
            "text": {"type": "plain_text", "text": text or value, "emoji": True},
            "value": value,
        },
    }


def multi_static_select_value(values: list[str]) -> dict[str, Any]:
    """Return a view state entry for a ``multi_static_select``."""
    return {
        "type": "multi_static_select",
        "selected_options": [
            {"text": {"type": "plain_text", "text": v, "emoji": True}, "value": v} for v in values
        ],
    }


def _state_values(values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    state: dict[str, dict[str, Any]] = {}
    for block_id, actions in values.items():
        state[block_id] = {}
        for action_id, entry in actions.items():
            if isinstance(entry, dict):
                state[block_id][action_id] = entry
            elif entry is None or isinstance(entry, str):
                state[block_id][action_id] = plain_text_value(entry)
            else:
                raise TypeError(f"state value for {block_id}/{action_id} must be dict or str")
    return state


def view_submission(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    user_id: str = USER_ID,
    private_metadata: str = "",
    view_id: str = VIEW_ID,
    hash: str = VIEW_HASH,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    view: dict[str, Any] | None = None,
    signing_secret: str = SIGNING_SECRET,
    timestamp: int | str | None = None,
) -> SignedRequest:
    """Build a ``view_submission`` (form field ``payload=<json>``).

    ``values`` is keyed block_id -> action_id -> state entry (``{"type", "value"}``,
    ``selected_option`` or ``selected_options``); a bare string means a plain_text_input value.
    ``view`` overrides other view fields (title, blocks, external_id, ...).
    """
    payload = load_sample("view_submission")
    merged_view = dict(payload["view"])
    merged_view.update(
        {
            "id": view_id,
            "team_id": team_id,
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": _state_values(values)},
            "hash": hash,
            "response_urls": [],
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": API_APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": BOT_ID,
        }
    )
    merged_view.update(view or {})
    payload.update(
        {
            "team": _team(team_id),
            "user": _user(user_id, team_id),
            "api_app_id": API_APP_ID,
            "token": "9s8d9as89d8as9d8as989",
            "trigger_id": trigger_id or new_trigger_id(),
            "view": merged_view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
    )
    return _payload_form_request(payload, signing_secret, timestamp)


def view_closed(
    callback_id: str = "",
    *,
    user_id: str = USER_ID,
    private_metadata: str = "",
    view_id: str = VIEW_ID,
    is_cleared: bool = False,
    team_id: str = TEAM_ID,
    view: dict[str, Any] | None = None,
    signing_secret: str = SIGNING_SECRET,
    timestamp: int | str | None = None,
) -> SignedRequest:
    """Build a ``view_closed`` (sent only for views opened with notify_on_close)."""
    payload = load_sample("view_closed")
    merged_view = dict(payload["view"])
    merged_view.update(
        {
            "id": view_id,
            "team_id": team_id,
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": {}},
            "notify_on_close": True,
            "root_view_id": view_id,
            "app_id": API_APP_ID,
            "bot_id": BOT_ID,
        }
    )
    merged_view.update(view or {})
    payload.update(
        {
            "team": _team(team_id),
            "user": _user(user_id, team_id),
            "view": merged_view,
            "api_app_id": API_APP_ID,
            "is_cleared": is_cleared,
            "is_enterprise_install": False,
            "enterprise": None,
        }
    )
    return _payload_form_request(payload, signing_secret, timestamp)


# ---------------------------------------------------------------------------- Events API


def _event_callback(
    sample: str, event: dict[str, Any], event_id: str | None, team_id: str
) -> dict[str, Any]:
    envelope = load_sample(sample)
    envelope.update(
        {
            "team_id": team_id,
            "api_app_id": API_APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or new_event_id(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )
    return envelope


def message_im(
    text: str,
    *,
    user_id: str = USER_ID,
    channel: str | None = None,
    event_id: str | None = None,
    ts: str | None = None,
    bot_id: str | None = None,
    subtype: str | None = None,
    thread_ts: str | None = None,
    team_id: str = TEAM_ID,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    signing_secret: str = SIGNING_SECRET,
    timestamp: int | str | None = None,
    **event_fields: Any,
) -> SignedRequest:
    """Build a ``message.im`` event_callback (JSON body); ``retry_num`` adds retry headers.

    ``channel`` defaults to the fake's DM id for ``user_id``; ``event_id`` and ``ts`` default
    to fresh values, so pass them explicitly to model Slack's retries of one event.
    """
    message_ts = ts or new_ts()
    sample_event = copy.deepcopy(load_sample("message_im")["event"])
    sample_event.update(
        {
            "channel": channel or dm_channel_id(user_id),
            "user": user_id,
            "text": text,
            "ts": message_ts,
            "event_ts": message_ts,
            "channel_type": "im",
        }
    )
    if bot_id is not None:
        sample_event["bot_id"] = bot_id
    if subtype is not None:
        sample_event["subtype"] = subtype
    if thread_ts is not None:
        sample_event["thread_ts"] = thread_ts
    sample_event.update(event_fields)
    payload = _event_callback("message_im", sample_event, event_id, team_id)
    return _json_request(payload, signing_secret, timestamp, retry_num, retry_reason)


def message_changed_im(
    original_ts: str,
    text: str,
    previous_text: str,
    *,
    user_id: str = USER_ID,
    channel: str | None = None,
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    signing_secret: str = SIGNING_SECRET,
) -> SignedRequest:
    """Build the ``message`` event (subtype ``message_changed``) Slack sends when a person
    edits their message ``original_ts`` in a DM: the edited message keeps its ``ts``, and
    the event carries the message before and after the edit."""
    channel = channel or dm_channel_id(user_id)
    edited_at = new_ts()
    message = {
        "type": "message",
        "user": user_id,
        "text": text,
        "ts": original_ts,
        "edited": {"user": user_id, "ts": edited_at},
        "team": team_id,
        "client_msg_id": str(uuid.uuid4()),
    }
    event = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": channel,
        "channel_type": "im",
        "ts": edited_at,
        "event_ts": edited_at,
        "message": message,
        "previous_message": {**message, "text": previous_text, "edited": None},
    }
    payload = _event_callback("message_im", event, event_id, team_id)
    return _json_request(payload, signing_secret, None, None, "http_timeout")


def app_home_opened(
    user_id: str = USER_ID,
    *,
    channel: str | None = None,
    tab: str = "home",
    view: dict[str, Any] | None = None,
    include_view: bool = True,
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    signing_secret: str = SIGNING_SECRET,
    timestamp: int | str | None = None,
) -> SignedRequest:
    """Build an ``app_home_opened`` event_callback; ``include_view=False`` models a first visit."""
    event = copy.deepcopy(load_sample("app_home_opened")["event"])
    event.update(
        {
            "user": user_id,
            "channel": channel or dm_channel_id(user_id),
            "tab": tab,
            "event_ts": new_ts(),
        }
    )
    if include_view:
        merged_view = dict(event["view"])
        merged_view.update(
            {
                "team_id": team_id,
                "app_id": API_APP_ID,
                "bot_id": BOT_ID,
                "app_installed_team_id": team_id,
            }
        )
        merged_view.update(view or {})
        event["view"] = merged_view
    else:
        event.pop("view", None)
    payload = _event_callback("app_home_opened", event, event_id, team_id)
    return _json_request(payload, signing_secret, timestamp, retry_num, retry_reason)


def url_verification(
    challenge: str | None = None,
    *,
    signing_secret: str = SIGNING_SECRET,
    timestamp: int | str | None = None,
) -> SignedRequest:
    """Build the Events API ``url_verification`` challenge (JSON body)."""
    payload = load_sample("url_verification")
    if challenge is not None:
        payload["challenge"] = challenge
    return _json_request(payload, signing_secret, timestamp)


# ---------------------------------------------------------------------------- sending


def post(
    base_url: str,
    req: SignedRequest,
    path: str = "/slack/events",
    timeout: float = 5.0,
) -> httpx.Response:
    """POST a signed request to ``base_url + path`` with httpx and return the response."""
    url = base_url.rstrip("/") + "/" + path.lstrip("/")
    return httpx.post(url, content=req.body, headers=req.headers, timeout=timeout)

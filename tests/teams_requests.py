"""Teams activities built from the documented samples, signed and posted like the Bot Connector.

Each builder starts from a payload in tests/payloads/teams_*.json (metadata keys starting with
`_` stripped), swaps the published placeholders for the test's people, and points serviceUrl at
the fake Bot Connector — the URL the signed token's `serviceurl` claim names too.

This module does not depend on pytest.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from teams_auth import KeyService

PAYLOAD_DIR = Path(__file__).parent / "payloads"
BOT_ID = "28:c9e8c047-2a74-40a2-b28a-b162d5f5327c"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
APP_ID = "00000000-0000-4000-8000-00000000b07a"

JsonDict = dict[str, Any]
_ids = itertools.count(1)


def load_teams_sample(name: str) -> JsonDict:
    """A sample from tests/payloads without its `_` metadata keys."""
    path = PAYLOAD_DIR / (name if name.endswith(".json") else f"{name}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


@dataclass(frozen=True)
class TeamsUser:
    """A person on Teams: Entra object id (LearnLoop's id for them), Teams user id, name."""

    aad: str
    name: str

    @property
    def teams_id(self) -> str:
        """Their app-scoped Teams user id."""
        return f"29:{self.aad[:8]}-user"

    @property
    def chat_id(self) -> str:
        """The id of their 1:1 chat with the bot."""
        return f"a:1{self.aad}"

    def account(self) -> JsonDict:
        """As they appear in `from`."""
        return {"id": self.teams_id, "name": self.name, "aadObjectId": self.aad}


class TeamsDriver:
    """Builds activities and posts them to a live LearnLoop with a Bot Connector token."""

    def __init__(
        self, app_url: str, keys: KeyService, service_url: str, app_id: str = APP_ID
    ) -> None:
        self.app_url = app_url
        self.keys = keys
        self.service_url = service_url
        self.app_id = app_id
        self.http = httpx.Client(timeout=20)

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()

    # ------------------------------------------------------------------ sending

    def token(self, **overrides: Any) -> str:
        """A valid token for this app and service URL (override parts to break it)."""
        return self.keys.token(self.app_id, self.service_url, **overrides)

    def post(
        self, activity: JsonDict, token: str | None = "valid", **token_overrides: Any
    ) -> httpx.Response:
        """POST an activity to /api/messages; token=None sends no Authorization header."""
        headers = {"Content-Type": "application/json"}
        if token == "valid":
            token = self.token(**token_overrides)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.post(
            self.app_url + "/api/messages", content=json.dumps(activity), headers=headers
        )

    def invoke(self, activity: JsonDict) -> JsonDict:
        """Post an invoke and return its response body (AssertionError unless HTTP 200)."""
        response = self.post(activity)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json() if response.content else {}

    # ------------------------------------------------------------------ activities

    def _envelope(self, sample: str, user: TeamsUser, conversation_id: str | None) -> JsonDict:
        activity = load_teams_sample(sample)
        activity["id"] = f"f:test-{next(_ids)}"
        activity["serviceUrl"] = self.service_url
        activity["from"] = user.account()
        activity["recipient"] = {"id": BOT_ID, "name": "LearnLoop"}
        activity["conversation"] = {
            "conversationType": "personal",
            "id": conversation_id or user.chat_id,
            "tenantId": TENANT_ID,
        }
        activity["channelData"] = {"tenant": {"id": TENANT_ID}}
        return activity

    def personal_install(self, user: TeamsUser) -> JsonDict:
        """conversationUpdate: someone installed the app for themself (personal scope)."""
        activity = self._envelope("teams_conversation_update", user, None)
        activity["membersAdded"] = [{"id": BOT_ID}, user.account()]
        return activity

    def personal_uninstall(self, user: TeamsUser) -> JsonDict:
        """installationUpdate (remove) in someone's 1:1 chat."""
        activity = self._envelope("teams_installation_update", user, None)
        activity["action"] = "remove"
        return activity

    def channel_install(self, user: TeamsUser, channel_id: str, team: str = "Stewards") -> JsonDict:
        """installationUpdate (add) in a team channel, as the documented sample."""
        activity = load_teams_sample("teams_installation_update")
        activity["id"] = f"f:test-{next(_ids)}"
        activity["serviceUrl"] = self.service_url
        activity["from"] = user.account()
        activity["recipient"] = {"id": BOT_ID, "name": "LearnLoop"}
        activity["conversation"].update({"id": channel_id, "tenantId": TENANT_ID})
        activity["channelData"]["team"]["name"] = team
        activity["channelData"]["channel"] = {"id": channel_id}
        activity["channelData"]["settings"]["selectedChannel"] = {"id": channel_id}
        activity["channelData"]["tenant"] = {"id": TENANT_ID}
        return activity

    def team_install(self, user: TeamsUser, channel_id: str, team: str = "Stewards") -> JsonDict:
        """conversationUpdate: the app was added to a team (greets the channel)."""
        activity = load_teams_sample("teams_conversation_update_team")
        activity["id"] = f"f:test-{next(_ids)}"
        activity["serviceUrl"] = self.service_url
        activity["from"] = user.account()
        activity["recipient"] = {"id": BOT_ID, "name": "LearnLoop"}
        activity["membersAdded"] = [{"id": BOT_ID}]
        activity["conversation"].update({"id": channel_id, "tenantId": TENANT_ID, "name": team})
        activity["channelData"]["team"]["name"] = team
        activity["channelData"]["tenant"] = {"id": TENANT_ID}
        return activity

    def message(
        self,
        user: TeamsUser,
        text: str,
        activity_id: str | None = None,
        conversation_id: str | None = None,
    ) -> JsonDict:
        """A message typed to the bot, from the documented sample."""
        activity = self._envelope("teams_message_activity", user, conversation_id)
        activity["text"] = text
        activity["attachments"] = [{"contentType": "text/html", "content": f"<p>{text}</p>"}]
        if activity_id:
            activity["id"] = activity_id
        return activity

    def card_action(
        self, user: TeamsUser, action: JsonDict, channel_id: str | None = None
    ) -> JsonDict:
        """adaptiveCard/action: the person pressed an Action.Execute button (in a channel
        when `channel_id` is given, else in their 1:1 chat)."""
        activity = self._envelope("teams_invoke_adaptive_card", user, channel_id)
        if channel_id:
            activity["conversation"].update({"conversationType": "channel", "isGroup": True})
        activity["value"] = {
            "action": {
                "type": "Action.Execute",
                "verb": action["verb"],
                "data": copy.deepcopy(action.get("data") or {}),
            },
            "trigger": "manual",
        }
        return activity

    def task_fetch(
        self, user: TeamsUser, action: JsonDict, channel_id: str | None = None
    ) -> JsonDict:
        """task/fetch: the person pressed a button that opens a dialog."""
        activity = self._envelope("teams_invoke_adaptive_card", user, channel_id)
        if channel_id:
            activity["conversation"].update({"conversationType": "channel", "isGroup": True})
        activity["name"] = "task/fetch"
        activity["value"] = {"data": copy.deepcopy(action["data"]), "context": {"theme": "default"}}
        return activity

    def task_submit(self, user: TeamsUser, data: JsonDict) -> JsonDict:
        """task/submit: the person sent a dialog's form (inputs merged into the action data)."""
        activity = self._envelope("teams_invoke_adaptive_card", user, None)
        activity["name"] = "task/submit"
        activity["value"] = {"data": data, "context": {"theme": "default"}}
        return activity

    def extension_fetch(self, user: TeamsUser, command_id: str) -> JsonDict:
        """composeExtension/fetchTask: a message-extension action command opens its dialog."""
        activity = self._extension(user, command_id, {})
        activity["name"] = "composeExtension/fetchTask"
        activity["value"].pop("data")
        return activity

    def extension_submit(self, user: TeamsUser, command_id: str, data: JsonDict) -> JsonDict:
        """composeExtension/submitAction, from the documented sample."""
        return self._extension(user, command_id, data)

    def _extension(self, user: TeamsUser, command_id: str, data: JsonDict) -> JsonDict:
        sample = load_teams_sample("teams_message_extension_submit")
        activity = self._envelope("teams_invoke_adaptive_card", user, None)
        activity["name"] = sample["name"]
        activity["value"] = copy.deepcopy(sample["value"])
        activity["value"]["commandId"] = command_id
        activity["value"]["data"] = data
        return activity

    def file_consent(
        self, user: TeamsUser, context: JsonDict, upload_url: str, accept: bool = True
    ) -> JsonDict:
        """fileConsent/invoke: the person pressed Allow (or Decline) on a file consent card."""
        activity = self._envelope("teams_invoke_adaptive_card", user, None)
        activity["name"] = "fileConsent/invoke"
        activity["value"] = {
            "type": "fileUpload",
            "action": "accept" if accept else "decline",
            "context": context,
            "uploadInfo": {
                "contentUrl": "https://contoso.example/personal/megan/export.json",
                "name": "learnloop-export.json",
                "uploadUrl": upload_url,
                "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C",
                "fileType": "json",
            },
        }
        return activity

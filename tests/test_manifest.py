"""The Slack manifest in the repo matches the code, and lists every command the app handles."""

from __future__ import annotations

import yaml

from bot.slack.ids import Command
from bot.slack.manifest import MANIFEST_FILE, manifest


def test_manifest_file_matches_generated() -> None:
    assert yaml.safe_load(MANIFEST_FILE.read_text()) == manifest()


def test_http_manifest_points_everything_at_slack_events() -> None:
    data = manifest("https://learnloop.example.org/")
    url = "https://learnloop.example.org/slack/events"
    assert data["settings"]["event_subscriptions"]["request_url"] == url
    assert data["settings"]["interactivity"]["request_url"] == url
    assert {c["url"] for c in data["features"]["slash_commands"]} == {url}
    assert data["settings"]["socket_mode_enabled"] is False


def test_every_command_id_is_in_the_manifest() -> None:
    in_manifest = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert {c.value for c in Command} == in_manifest


def test_scopes_cover_what_the_app_calls() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "commands", "im:history", "im:write", "users:read"} <= scopes
    assert "message.im" in manifest()["settings"]["event_subscriptions"]["bot_events"]

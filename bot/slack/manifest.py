"""The Slack app manifest, built from the same ids the listeners use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MANIFEST_FILE = Path(__file__).resolve().parents[2] / "manifest.yml"

COMMANDS: list[tuple[str, str, str]] = [
    (
        "/checkin",
        "Share a learning (what happened, what helped, what got in the way)",
        "[what happened]",
    ),
    (
        "/learnloop",
        "Help, pause or resume prompts, and your data",
        "[help | pause 2w | resume | privacy | inquiry | admin add @person agency]",
    ),
    (
        "/escalate",
        "Raise a barrier your team can't remove (you can stay anonymous)",
        "[what gets in the way]",
    ),
    (
        "/barriers",
        "List barriers and where they are: open, yours, stale or all",
        "[open | mine | stale | all]",
    ),
]
BOT_SCOPES = sorted(
    [
        "channels:join",
        "channels:read",
        "chat:write",
        "commands",
        "files:write",
        "groups:read",
        "im:history",
        "im:read",
        "im:write",
        "usergroups:read",
        "users:read",
        "users:read.email",
    ]
)
BOT_EVENTS = sorted(["app_home_opened", "app_uninstalled", "message.im", "tokens_revoked"])


def manifest(url: str | None = None) -> dict[str, Any]:
    """The manifest: Socket Mode when `url` is None, else HTTP mode at `{url}/slack/events`."""
    events_url = f"{url.rstrip('/')}/slack/events" if url else None
    commands = []
    for command, description, hint in COMMANDS:
        entry: dict[str, Any] = {"command": command}
        if events_url:
            entry["url"] = events_url
        # /learnloop names people (`admin add @person`): Slack sends them as <@U…|name>.
        escape = command == "/learnloop"
        entry.update({"description": description, "usage_hint": hint, "should_escape": escape})
        commands.append(entry)
    events: dict[str, Any] = {"bot_events": BOT_EVENTS}
    interactivity: dict[str, Any] = {"is_enabled": True}
    oauth_config: dict[str, Any] = {"scopes": {"bot": BOT_SCOPES}}
    if events_url:
        events = {"request_url": events_url, **events}
        interactivity["request_url"] = events_url
        # Where Slack returns installers in multi-workspace (OAuth) mode.
        redirect = f"{events_url.removesuffix('/slack/events')}/slack/oauth_redirect"
        oauth_config = {"redirect_urls": [redirect], **oauth_config}
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "LearnLoop",
            "description": "What did we learn this week? Check-ins, digests and escalations "
            "for a learning alliance.",
            "background_color": "#2e5e4e",
            "long_description": (
                "LearnLoop asks frontline practitioners a short weekly question - what did we "
                "learn? - and turns the answers into a cross-agency learning digest and a "
                "register of systemic barriers that system stewards escalate and close. Authors "
                "choose who sees each entry; identifiers of the people services support are "
                "removed before anything is stored; there are no per-person rankings."
            ),
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "LearnLoop", "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": oauth_config,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": url is None,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(url: str | None = None) -> str:
    """The manifest as YAML text."""
    return yaml.safe_dump(manifest(url), sort_keys=False, width=100, allow_unicode=True)

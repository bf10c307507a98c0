"""Issue 8: the App Home — each person's own page, plus what their roles add.

Every button acts on the person who pressed it (`body["user"]["id"]`). The Home tab has no
response_url, so its privacy buttons are answered here (registered before the privacy panel's
own listeners, which answer the same buttons in messages): Export sends the file by DM, and
Delete sends the privacy panel's confirmation step by DM, where the deletion is confirmed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.pause import pause_until
from bot.services import Services
from bot.slack.home_blocks import home_view
from bot.slack.ids import Action
from bot.slack.privacy_blocks import privacy_message
from handlers.slack.errors import reported

PLATFORM = "slack"


def from_home_tab(body: dict[str, Any]) -> bool:
    """Matcher: the button was pressed in the App Home (not in a message or modal)."""
    return (body.get("view") or {}).get("type") == "home"


def publish(
    client: WebClient,
    services: Services,
    user_id: str,
    notice: str | None = None,
    *,
    offset: int = 0,
    problem: str | None = None,
) -> None:
    """Render and publish someone's App Home (`offset`: which page of their entries)."""
    view = services.home.for_user(PLATFORM, user_id, notice=notice, offset=offset)
    if problem is not None:
        view = replace(view, problem=problem)
    client.views_publish(user_id=user_id, view=home_view(view))


def home_opened(ack: Ack, event: dict[str, Any], client: WebClient, services: Services) -> None:
    """`app_home_opened`: publish the person's page (the Messages tab needs nothing)."""
    ack()
    if event.get("tab", "home") != "home":
        return
    publish(client, services, event["user"])


def pause_from_home(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    """ "Pause prompts for 4 weeks"."""
    ack()
    user_id = body["user"]["id"]
    zone = services.alliance.alliance.zone
    until = pause_until("", services.members.clock(), zone)
    services.members.pause(PLATFORM, user_id, until)
    local = until.astimezone(zone)
    notice = f"Paused: no prompts until {local:%-d %B %Y}."
    publish(client, services, user_id, notice)


def resume_from_home(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    """ "Resume my prompts"."""
    ack()
    user_id = body["user"]["id"]
    services.members.pause(PLATFORM, user_id, None)
    publish(client, services, user_id, "Welcome back — your weekly prompt is on again.")


def export_from_home(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    """ "Export my data": the file goes to the person's DM with LearnLoop."""
    ack()
    user_id = body["user"]["id"]
    services.privacy.send_export(PLATFORM, user_id)
    notice = "Your data is in your messages with LearnLoop, as a file only you can see."
    publish(client, services, user_id, notice)


def delete_from_home(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    """ "Delete my data": the confirmation (saying exactly what would go) arrives by DM."""
    ack()
    user_id = body["user"]["id"]
    text, blocks = privacy_message(services.privacy.confirm_delete(PLATFORM, user_id))
    client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
    notice = "Nothing is deleted yet: confirm it in your messages with LearnLoop."
    publish(client, services, user_id, notice)


def register(app: App) -> None:
    """Attach the App Home listeners (before the privacy panel's, which share two buttons)."""
    app.event("app_home_opened")(reported(home_opened))
    app.action(Action.HOME_PAUSE.value)(reported(pause_from_home))
    app.action(Action.HOME_RESUME.value)(reported(resume_from_home))
    app.action(Action.PRIVACY_EXPORT.value, matchers=[from_home_tab])(reported(export_from_home))
    app.action(Action.PRIVACY_DELETE.value, matchers=[from_home_tab])(reported(delete_from_home))

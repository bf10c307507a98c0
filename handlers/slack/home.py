"""The App Home — each person's own page, plus what their roles add.

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
from bot.slack.render import message
from bot.views.digest import note_switched
from bot.views.home import (
    HomeAction,
    delete_pending_notice,
    exported_notice,
    paused_notice,
    resumed_notice,
)
from bot.views.privacy import PrivacyAction, privacy_message
from bot.views.words import Words
from handlers.slack.errors import reported

PLATFORM = "slack"


def from_home_tab(body: dict[str, Any]) -> bool:
    """Matcher: the button was pressed in the App Home (not in a message or modal)."""
    return (body.get("view") or {}).get("type") == "home"


def publish(
    client: WebClient,
    services: Services,
    user_id: str,
    notice: Words | str | None = None,
    *,
    offset: int = 0,
    problem: Words | str | None = None,
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
    publish(client, services, user_id, paused_notice(until.astimezone(zone).date()))


def resume_from_home(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    """ "Resume my prompts"."""
    ack()
    user_id = body["user"]["id"]
    services.members.pause(PLATFORM, user_id, None)
    publish(client, services, user_id, resumed_notice())


def note_off_from_home(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Stop the weekly alliance note"."""
    ack()
    user_id = body["user"]["id"]
    services.notes.set_on(PLATFORM, user_id, False)
    publish(client, services, user_id, note_switched(False))


def note_on_from_home(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Send me the weekly alliance note"."""
    ack()
    user_id = body["user"]["id"]
    services.notes.set_on(PLATFORM, user_id, True)
    publish(client, services, user_id, note_switched(True))


def export_from_home(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    """ "Export my data": the file goes to the person's DM with LearnLoop."""
    ack()
    user_id = body["user"]["id"]
    services.privacy.send_export(PLATFORM, user_id)
    publish(client, services, user_id, exported_notice())


def delete_from_home(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    """ "Delete my data": the confirmation (saying exactly what would go) arrives by DM."""
    ack()
    user_id = body["user"]["id"]
    text, blocks = message(privacy_message(services.privacy.confirm_delete(PLATFORM, user_id)))
    client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
    publish(client, services, user_id, delete_pending_notice())


def register(app: App) -> None:
    """Attach the App Home listeners (before the privacy panel's, which share two buttons)."""
    app.event("app_home_opened")(reported(home_opened))
    app.action(HomeAction.PAUSE.value)(reported(pause_from_home))
    app.action(HomeAction.RESUME.value)(reported(resume_from_home))
    app.action(HomeAction.NOTE_OFF.value)(reported(note_off_from_home))
    app.action(HomeAction.NOTE_ON.value)(reported(note_on_from_home))
    app.action(PrivacyAction.EXPORT.value, matchers=[from_home_tab])(reported(export_from_home))
    app.action(PrivacyAction.DELETE.value, matchers=[from_home_tab])(reported(delete_from_home))

"""The privacy panel — see, export and delete your own data, or start again.

Every action acts on the person who pressed the button (`body["user"]["id"]`), never on an
id carried in a button value, so nobody can export or delete someone else's data by replaying
or editing a payload.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import Services
from bot.slack.render import message
from bot.views.privacy import PrivacyAction, PrivacyView, privacy_message
from handlers.slack.errors import reported

PLATFORM = "slack"


def _show(respond: Respond, view: PrivacyView, replace: bool = True) -> None:
    text, blocks = message(privacy_message(view))
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=replace)


def show_panel(user_id: str, respond: Respond, services: Services) -> None:
    """`/learnloop privacy`: what LearnLoop holds about you, with Export and Delete."""
    _show(respond, services.privacy.panel(PLATFORM, user_id), replace=False)


def export_my_data(ack: Ack, body: dict[str, Any], respond: Respond, services: Services) -> None:
    """ "Export my data": the person's JSON file, sent to them by DM."""
    ack()
    _show(respond, services.privacy.send_export(PLATFORM, body["user"]["id"]))


def delete_my_data(ack: Ack, body: dict[str, Any], respond: Respond, services: Services) -> None:
    """ "Delete my data": the confirmation step, saying exactly what would go."""
    ack()
    _show(respond, services.privacy.confirm_delete(PLATFORM, body["user"]["id"]))


def delete_confirmed(ack: Ack, body: dict[str, Any], respond: Respond, services: Services) -> None:
    """The confirmed deletion."""
    ack()
    _show(respond, services.privacy.delete_member(PLATFORM, body["user"]["id"]))


def keep_my_data(ack: Ack, respond: Respond, services: Services) -> None:
    """ "Keep my data": nothing happens, and the panel says so."""
    ack()
    _show(respond, services.privacy.kept(PLATFORM))


def start_again(ack: Ack, body: dict[str, Any], respond: Respond, services: Services) -> None:
    """ "Start again" after a deletion: opt back in with a new, empty profile."""
    ack()
    _show(respond, services.privacy.start_again(PLATFORM, body["user"]["id"]))


def register(app: App) -> None:
    """Attach the privacy panel's buttons."""
    app.action(PrivacyAction.EXPORT.value)(reported(export_my_data))
    app.action(PrivacyAction.DELETE.value)(reported(delete_my_data))
    app.action(PrivacyAction.DELETE_CONFIRMED.value)(reported(delete_confirmed))
    app.action(PrivacyAction.KEEP.value)(reported(keep_my_data))
    app.action(PrivacyAction.START_AGAIN.value)(reported(start_again))

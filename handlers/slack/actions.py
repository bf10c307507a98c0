"""Buttons: on the weekly prompt and on a saved reply."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.domain.errors import NotFound
from bot.services import Services
from bot.slack import render
from bot.slack.blocks import CheckinForms
from bot.views.checkin import OUT_OF_DATE, SHARE_CHOICES, CheckinAction, reply_saved_message
from handlers.slack.errors import after_ack, reported


def _int_value(action: dict[str, Any]) -> int:
    try:
        return int(action.get("value", ""))
    except ValueError:
        raise NotFound(render.plain(OUT_OF_DATE)) from None


def share_learning(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    services: Services,
) -> None:
    """ "Share a learning": open the modal linked to this prompt."""
    ack()
    prompt_id = _int_value(action)
    forms: CheckinForms = context["forms"]

    def open_form() -> None:
        # The prompt's cycle decides whether the purpose question is asked.
        qset = services.checkins.question_set_for("slack", body["user"]["id"], prompt_id=prompt_id)
        client.views_open(
            trigger_id=body["trigger_id"], view=forms.modal(qset, {"prompt_id": prompt_id})
        )

    after_ack(context, body, client, open_form)


def skip_week(ack: Ack, body: dict[str, Any], action: dict[str, Any], services: Services) -> None:
    """ "Skip this week"."""
    ack()
    services.checkins.skip("slack", body["user"]["id"], _int_value(action))


def nothing_this_week(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], services: Services
) -> None:
    """ "Nothing this week" — counts as taking part, stores no text, is never reminded."""
    ack()
    services.checkins.nothing_this_week("slack", body["user"]["id"], _int_value(action))


def pause_prompts(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], services: Services
) -> None:
    """ "Pause prompts"."""
    ack()
    services.checkins.pause_from_prompt("slack", body["user"]["id"], _int_value(action))


def add_detail(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    services: Services,
) -> None:
    """ "Add detail" on a saved reply: the modal, pre-filled, updating the same check-in."""
    ack()
    user_id = body["user"]["id"]
    checkin_id = _int_value(action)
    forms: CheckinForms = context["forms"]

    def open_form() -> None:
        # The questions this check-in was answered with, even if the set changed since.
        qset = services.checkins.question_set_for("slack", user_id, checkin_id=checkin_id)
        draft = services.checkins.draft_of("slack", user_id, checkin_id)
        client.views_open(
            trigger_id=body["trigger_id"],
            view=forms.modal(qset, {"checkin_id": checkin_id}, prefill=draft),
        )

    after_ack(context, body, client, open_form)


def share_reply(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Share with the alliance" (or anonymously) on a saved reply: re-share, then say so."""
    ack()
    visibility = SHARE_CHOICES[str(action.get("action_id"))]
    view = services.entries.share_reply("slack", body["user"]["id"], _int_value(action), visibility)
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if channel and ts:
        text, blocks = render.message(reply_saved_message(view))
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)


def register(app: App) -> None:
    """Attach the button listeners."""
    app.action(CheckinAction.SHARE_LEARNING.value)(reported(share_learning))
    app.action(CheckinAction.SKIP_WEEK.value)(reported(skip_week))
    app.action(CheckinAction.NOTHING_THIS_WEEK.value)(reported(nothing_this_week))
    app.action(CheckinAction.PAUSE_PROMPTS.value)(reported(pause_prompts))
    app.action(CheckinAction.ADD_DETAIL.value)(reported(add_detail))
    app.action(CheckinAction.SHARE_ALLIANCE.value)(reported(share_reply))
    app.action(CheckinAction.SHARE_ANONYMOUS.value)(reported(share_reply))

"""An author's own entries in the App Home: Edit, Change who can see it, Delete, Show older.

Each button carries only the entry's id; the service checks the entry belongs to whoever
pressed it (`body["user"]["id"]`), so a forged id changes nothing. Every modal is stored
before its submission is acknowledged, then the Home tab is republished saying what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.checkins import Source, Visibility
from bot.domain.errors import LearnLoopError, NotFound, ValidationFailed
from bot.services import Services
from bot.slack import render
from bot.slack.blocks import checkin_modal
from bot.slack.entries_blocks import delete_modal, read_metadata, visibility_modal
from bot.slack.home_blocks import read_offset
from bot.slack.ids import Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.views import entries as words
from bot.views.checkin import QUESTION_PREFIX, VISIBILITY_FIELD, errors_for, field_of
from handlers.slack.errors import reported
from handlers.slack.home import PLATFORM, publish

OUT_OF_DATE = "That button is out of date. Open LearnLoop's Home tab again."


def _entry_id(action: dict[str, Any]) -> int:
    value = str(action.get("value", ""))
    if not value.isdigit():
        raise NotFound(OUT_OF_DATE)
    return int(value)


def _home_offset(body: dict[str, Any]) -> int:
    return read_offset(body.get("view") or {})


def edit_entry(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Edit": the entry's own form, pre-filled (only within the edit window)."""
    ack()
    user_id, offset = body["user"]["id"], _home_offset(body)
    checkin_id = _entry_id(action)
    try:
        draft = services.checkins.draft_of(PLATFORM, user_id, checkin_id)
        qset = services.checkins.question_set_for(PLATFORM, user_id, checkin_id=checkin_id)
    except LearnLoopError as exc:
        publish(client, services, user_id, offset=offset, problem=exc.message)
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=checkin_modal(
            qset,
            services.alliance.themes,
            {"checkin_id": checkin_id, "offset": offset},
            prefill=draft,
            callback_id=ViewId.ENTRY_EDIT,
            title=words.EDIT_TITLE,
            submit=words.SAVE_CHANGES,
        ),
    )


def submit_edit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services
) -> None:
    """Validate, redact and store the edit before acknowledging; no thank-you is re-sent."""
    user_id = body["user"]["id"]
    checkin_id, offset = read_metadata(view)
    values = render.read_values(view.get("state", {}).get("values", {}))
    first = next((key for key in values if key.startswith(QUESTION_PREFIX)), field_of("learned"))
    if checkin_id is None:
        ack(**render.form_errors({first: OUT_OF_DATE}))
        return
    try:
        saved = services.checkins.submit_form(
            PLATFORM, user_id, values, source=Source.MODAL, checkin_id=checkin_id
        )
    except ValidationFailed as exc:
        ack(**render.form_errors(errors_for(exc.errors)))
        return
    except LearnLoopError as exc:
        ack(**render.form_errors({first: exc.message[:150]}))
        return
    ack()
    notice = words.EDITED
    if saved.redaction_summary:
        notice = f"{notice} {saved.redaction_summary}"
    publish(client, services, user_id, notice, offset=offset)


def _open_step(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    services: Services,
    load: Callable[[str, str, int], Any],
    modal: Callable[[Any, int], dict[str, Any]],
) -> None:
    """A step on one of the author's entries: its view from the service, in a modal; a
    problem (the entry is gone, not theirs) is shown on the Home tab instead."""
    ack()
    user_id, offset = body["user"]["id"], _home_offset(body)
    try:
        step = load(PLATFORM, user_id, _entry_id(action))
    except LearnLoopError as exc:
        publish(client, services, user_id, offset=offset, problem=exc.message)
        return
    client.views_open(trigger_id=body["trigger_id"], view=modal(step, offset))


def choose_visibility(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Change who can see it": the three choices, the current one selected."""
    _open_step(
        ack, body, action, client, services, services.entries.visibility_choice, visibility_modal
    )


def submit_visibility(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services
) -> None:
    """Store the new choice, then say so on the Home tab."""
    user_id = body["user"]["id"]
    checkin_id, offset = read_metadata(view)
    chosen = render.read_values(view.get("state", {}).get("values", {})).get(VISIBILITY_FIELD)
    visibility = str(chosen or Visibility.TEAM.value)
    try:
        if checkin_id is None:
            raise NotFound(OUT_OF_DATE)
        notice = services.entries.change_visibility(PLATFORM, user_id, checkin_id, visibility)
    except LearnLoopError as exc:
        message = (
            " ".join(exc.errors.values()) if isinstance(exc, ValidationFailed) else exc.message
        )
        ack(response_action="errors", errors={BlockId.VISIBILITY.value: message[:150]})
        return
    ack()
    publish(client, services, user_id, notice, offset=offset)


def confirm_delete(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Delete": the confirmation step, saying what goes and what stays."""
    _open_step(ack, body, action, client, services, services.entries.confirm_delete, delete_modal)


def submit_delete(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Delete this learning", confirmed: delete it, then say so on the Home tab."""
    user_id = body["user"]["id"]
    checkin_id, offset = read_metadata(view)
    try:
        if checkin_id is None:
            raise NotFound(OUT_OF_DATE)
        notice = services.entries.delete(PLATFORM, user_id, checkin_id)
    except LearnLoopError as exc:
        # The modal has no input to hang an error on: close it and say why on the Home tab.
        ack()
        publish(client, services, user_id, offset=offset, problem=exc.message)
        return
    ack()
    publish(client, services, user_id, notice, offset=offset)


def show_page(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Show older" / "Show newer"."""
    ack()
    value = str(action.get("value", ""))
    publish(client, services, body["user"]["id"], offset=int(value) if value.isdigit() else 0)


def register(app: App) -> None:
    """Attach the entry listeners (buttons in the Home tab, and their modals)."""
    app.action(Action.ENTRY_EDIT.value)(reported(edit_entry))
    app.action(Action.ENTRY_VISIBILITY.value)(reported(choose_visibility))
    app.action(Action.ENTRY_DELETE.value)(reported(confirm_delete))
    app.action(Action.ENTRIES_PAGE.value)(reported(show_page))
    app.view(ViewId.ENTRY_EDIT.value)(reported(submit_edit))
    app.view(ViewId.ENTRY_VISIBILITY.value)(reported(submit_visibility))
    app.view(ViewId.ENTRY_DELETE.value)(reported(submit_delete))

"""An author's own entries on Teams: `entries` lists them; Edit, Change who can see it, Delete.

The same service methods and words as Slack's App Home. Every action carries only the entry's
id and acts for the activity's sender; the service checks the entry is theirs, so an id from
someone else's card changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from microsoft_teams.api import TaskModuleContinueResponse
from microsoft_teams.cards import AdaptiveCard

from bot.domain.checkins import Source
from bot.domain.errors import NotFound, ValidationFailed
from bot.services import Services
from bot.teams import render
from bot.teams.entries_cards import delete_card, entries_card, visibility_form
from bot.teams.ids import Command, Dialog, Submit, Verb
from bot.views import entries as words
from bot.views.checkin import VISIBILITY_FIELD, CheckinForm, read_checkin
from bot.views.entries import EDIT_FORM, VISIBILITY_FORM, EntryAction
from handlers.teams.support import (
    PLATFORM,
    CommandHandler,
    Ctx,
    Data,
    DialogHandler,
    SubmitHandler,
    VerbHandler,
    call,
    conversation_kind,
    dialog,
    int_of,
    person,
)

OUT_OF_DATE = "That button is out of date. Type **entries** to me to see your learnings."


def _entry_id(data: Data) -> int:
    # "value" on cards built from the view; "checkin_id" on cards sent before.
    checkin_id = int_of(data, "value") or int_of(data, "checkin_id")
    if checkin_id is None:
        raise NotFound(OUT_OF_DATE)
    return checkin_id


async def _page(
    ctx: Ctx, services: Services, offset: int = 0, notice: str | None = None
) -> AdaptiveCard:
    view = await call(services.entries.page, PLATFORM, person(ctx), offset, notice)
    return entries_card(view)


async def entries_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`entries` (or `my entries`): the person's own learnings, with what they can change."""
    if conversation_kind(ctx) != "personal":
        await ctx.send(
            "Type **entries** to me in our 1:1 chat: your learnings are only shown to you."
        )
        return
    await ctx.send(await _page(ctx, services))


async def show_page(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Show older" / "Show newer"."""
    return await _page(ctx, services, int_of(data, "value") or int_of(data, "offset") or 0)


async def confirm_delete(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Delete": the confirmation step, saying what goes and what stays."""
    view = await call(services.entries.confirm_delete, PLATFORM, person(ctx), _entry_id(data))
    return delete_card(view)


async def delete_confirmed(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Delete this learning": delete it; the list comes back saying so."""
    notice = await call(services.entries.delete, PLATFORM, person(ctx), _entry_id(data))
    return await _page(ctx, services, notice=notice)


async def keep(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Keep it": nothing is deleted, and the list says so."""
    return await _page(ctx, services, notice=words.KEPT)


def _edit_form(
    qset: Any,
    themes: list[str],
    checkin_id: int,
    prefill: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> TaskModuleContinueResponse:
    """The entry's own check-in form, under the edit's submit action and title."""
    form = CheckinForm.build(
        qset,
        themes,
        form_id=EDIT_FORM,
        title=words.EDIT_TITLE,
        submit=words.SAVE_CHANGES,
    ).form(json.dumps({"checkin_id": checkin_id}), errors, prefill)
    return dialog(words.EDIT_TITLE, render.form_card(form))


def _edited_id(data: Data) -> int:
    """The entry an edit form was opened for (in its state; older forms carry it flat)."""
    raw = data.get(render.STATE_KEY)
    if isinstance(raw, str):
        try:
            state = json.loads(raw)
        except ValueError:
            state = None
        if isinstance(state, dict):
            return _entry_id(state)
    return _entry_id(data)


async def open_edit(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """ "Edit": the entry's own form, pre-filled (only within the edit window)."""
    user_id, checkin_id = person(ctx), _entry_id(data)
    draft = await call(services.checkins.draft_of, PLATFORM, user_id, checkin_id)
    qset = await call(services.checkins.question_set_for, PLATFORM, user_id, checkin_id=checkin_id)
    return _edit_form(qset, services.alliance.themes, checkin_id, draft)


async def submit_edit(
    ctx: Ctx, services: Services, data: Data
) -> TaskModuleContinueResponse | None:
    """Validate, redact again and store the edit; no thank-you, the list says it is saved."""
    user_id, checkin_id = person(ctx), _edited_id(data)
    try:
        saved = await call(
            services.checkins.submit_form,
            PLATFORM,
            user_id,
            data,
            source=Source.TEAMS_CARD,
            checkin_id=checkin_id,
        )
    except ValidationFailed as exc:
        themes = services.alliance.themes
        qset = await call(
            services.checkins.question_set_for, PLATFORM, user_id, checkin_id=checkin_id
        )
        answers, chosen, visibility = read_checkin(qset, themes, data)
        prefill = {"answers": answers, "themes": chosen, "visibility": visibility}
        return _edit_form(qset, themes, checkin_id, prefill, exc.errors)
    notice = words.EDITED
    if saved.redaction_summary:
        notice = f"{notice} {saved.redaction_summary}"
    await ctx.send(await _page(ctx, services, notice=notice))
    return None


async def open_visibility(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """ "Change who can see it": the three choices, the current one selected."""
    view = await call(services.entries.visibility_choice, PLATFORM, person(ctx), _entry_id(data))
    return dialog(words.VISIBILITY_TITLE, visibility_form(view))


async def submit_visibility(
    ctx: Ctx, services: Services, data: Data
) -> TaskModuleContinueResponse | None:
    """Store the new choice; the list comes back saying so."""
    notice = await call(
        services.entries.change_visibility,
        PLATFORM,
        person(ctx),
        _edited_id(data),
        str(data.get(VISIBILITY_FIELD) or ""),
    )
    await ctx.send(await _page(ctx, services, notice=notice))
    return None


COMMANDS: dict[Command, CommandHandler] = {Command.ENTRIES: entries_command}
VERBS: dict[str, VerbHandler] = {
    EntryAction.PAGE: show_page,
    EntryAction.DELETE: confirm_delete,
    EntryAction.DELETE_CONFIRMED: delete_confirmed,
    EntryAction.KEEP: keep,
    # Cards sent before their buttons were named in the view.
    Verb.ENTRIES_PAGE: show_page,
    Verb.ENTRY_DELETE: confirm_delete,
    Verb.ENTRY_DELETE_CONFIRMED: delete_confirmed,
    Verb.ENTRY_KEEP: keep,
}
DIALOGS: dict[str, DialogHandler] = {
    EntryAction.EDIT: open_edit,
    EntryAction.VISIBILITY: open_visibility,
    Dialog.ENTRY_EDIT: open_edit,
    Dialog.ENTRY_VISIBILITY: open_visibility,
}
SUBMITS: dict[str, SubmitHandler] = {
    EDIT_FORM: submit_edit,
    VISIBILITY_FORM: submit_visibility,
    Submit.ENTRY_EDIT: submit_edit,
    Submit.ENTRY_VISIBILITY: submit_visibility,
}

"""Teams listeners: installs, the prompt card, dialogs, typed commands and plain replies.

The Teams SDK is asyncio and the services are synchronous, so every service call runs in a
worker thread and never blocks the event loop that serves requests. The SDK runs only the first
listener matching an activity, so there is one listener per kind of activity, dispatching on
the action's id through the tables below (escalations and privacy add theirs).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from microsoft_teams.api import (
    AdaptiveCardActionCardResponse,
    AdaptiveCardActionMessageResponse,
    MessagingExtensionActionResponse,
    TaskModuleContinueResponse,
    TaskModuleResponse,
)
from microsoft_teams.apps import App
from microsoft_teams.cards import AdaptiveCard

import handlers.teams.barriers as barriers
import handlers.teams.entries as entries
import handlers.teams.library as library
import handlers.teams.privacy as privacy
from bot.domain.checkins import Source
from bot.domain.errors import NotFound, ValidationFailed
from bot.domain.pause import pause_until
from bot.services import Services
from bot.services.onboarding import BadAdminCommand
from bot.services.teams import Installed, TeamsConversation
from bot.teams import render
from bot.teams.ids import CHANNEL_COMMANDS, Command, Dialog, ExtensionCommand, Submit, Verb
from bot.teams.messenger import TeamsMessenger
from bot.teams.render import markdown, text_message
from bot.views.checkin import (
    CHECKIN_FORM,
    RESUMED,
    SHARE_CHOICES,
    CheckinAction,
    PromptState,
    PromptView,
    checkin_form,
    checkin_launcher,
    paused_words,
    prompt_message,
    read_checkin,
    reply_not_saved,
    reply_saved_message,
)
from bot.views.checkin import (
    OUT_OF_DATE as PROMPT_OUT_OF_DATE,
)
from bot.views.digest import note_switched, note_usage
from bot.views.errors import out_of_date
from bot.views.help import help_message, only_in_private_chat, welcome
from bot.views.onboarding import admin_usage
from bot.views.words import Cmd, Strong
from bot.views.words import Command as Said
from handlers.teams.support import (
    PLATFORM,
    CommandHandler,
    Ctx,
    Data,
    DialogHandler,
    SubmitHandler,
    VerbHandler,
    call,
    card_error,
    conversation_kind,
    data_of,
    dialog,
    dialog_error,
    extension_error,
    int_of,
    person,
    reported,
    service_url,
    tenant_of,
)

# The longest pause request still read as a command rather than as a learning.
MAX_PAUSE_WORDS = 3
# A search is a few words; a longer message that happens to open with "find" is a learning,
# unless it names a --theme or an --agency.
MAX_FIND_WORDS = 8
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


# ----------------------------------------------------------------------- installs


async def conversation_update(ctx: Ctx, services: Services) -> None:
    """The app was added to (or removed from) a chat or team: remember where, say hello."""
    activity = ctx.activity
    bot_id = activity.recipient.id
    if any(m.id == bot_id for m in activity.members_removed or []):
        await call(services.teams.uninstalled, activity.conversation.id)
        return
    if not any(m.id == bot_id for m in activity.members_added or []):
        return
    installed = await _install(ctx, services)
    if installed.conversation.kind == "personal":
        await ctx.send(markdown(welcome(installed.member, "Microsoft Entra object id")))
    else:
        await ctx.send(
            "LearnLoop is here. To post digests or barrier cards in this channel, put its id "
            f"in the alliance configuration: `{activity.conversation.id}`"
        )


async def install_add(ctx: Ctx, services: Services) -> None:
    """installationUpdate (add): remember the conversation (the greeting comes with the
    conversationUpdate Teams sends alongside)."""
    await _install(ctx, services)


async def install_remove(ctx: Ctx, services: Services) -> None:
    """installationUpdate (remove): forget the conversation; prompts there would fail."""
    await call(services.teams.uninstalled, ctx.activity.conversation.id)


async def _install(ctx: Ctx, services: Services) -> Installed:
    activity = ctx.activity
    personal = conversation_kind(ctx) == "personal"
    data = activity.channel_data
    team = getattr(data, "team", None) if data is not None else None
    name = activity.conversation.name or (team.name if team is not None else None)
    sender = activity.from_
    return await call(
        services.teams.installed,
        activity.conversation.id,
        conversation_kind(ctx),
        service_url(ctx),
        aad_object_id=sender.aad_object_id if personal else None,
        teams_user_id=sender.id if personal else None,
        tenant_id=tenant_of(ctx),
        name=None if personal else name,
        display_name=sender.name if personal else None,
    )


async def _remember_chat(ctx: Ctx, services: Services) -> TeamsConversation:
    """Refresh this chat's reference (Teams may move a tenant to another service URL)."""
    sender = ctx.activity.from_
    return await call(
        services.teams.remember,
        ctx.activity.conversation.id,
        conversation_kind(ctx),
        service_url(ctx),
        aad_object_id=sender.aad_object_id,
        teams_user_id=sender.id,
        tenant_id=tenant_of(ctx),
        display_name=sender.name,
    )


# ------------------------------------------------------------------ typed commands


@dataclass(frozen=True)
class TypedCommand:
    """A command typed to the bot (or picked from its command menu)."""

    name: Command
    rest: str


def parse_command(text: str) -> TypedCommand | None:
    """The command a message is, or None if it is a learning.

    Only exact shapes count, so that a reply such as "Help from the GP surgery was great" is
    saved as the learning it is.
    """
    words = text.strip().split(maxsplit=1)
    if not words:
        return None
    if text.strip().lower().rstrip(".!?:") == "my entries":
        return TypedCommand(Command.ENTRIES, "")
    head = words[0].lower().rstrip(".!?:")
    rest = words[1].strip() if len(words) > 1 else ""
    try:
        name = Command(head)
    except ValueError:
        return None
    extra_words = len(rest.split())
    if name in (Command.HELP, Command.RESUME, Command.PRIVACY, Command.ENTRIES) and extra_words:
        return None
    if name is Command.BARRIERS and extra_words > 1:
        return None
    if name is Command.PAUSE and extra_words > MAX_PAUSE_WORDS:
        return None
    if name is Command.DIGEST and rest.lower().rstrip(".!") not in ("", "on", "off"):
        return None  # "Digest of the week: …" is a learning
    if name is Command.FIND and extra_words > MAX_FIND_WORDS and "--" not in rest:
        return None
    return TypedCommand(name, rest)


def _fits_channel(ctx: Ctx, command: TypedCommand) -> bool:
    """Whether a command may be answered where it was typed (a channel shows it to all)."""
    if conversation_kind(ctx) == "personal":
        return True
    if command.name is Command.BARRIERS:
        # "mine" would tell the channel what someone raised, anonymous barriers included.
        return command.rest.strip().lower() != "mine"
    return command.name in CHANNEL_COMMANDS


def _said(name: Command) -> Cmd | Strong:
    """A typed command as words name it (`entries` is Teams' own, with no neutral name)."""
    try:
        return Cmd(Said(name.value))
    except ValueError:
        return Strong(name.value)


def strip_mentions(text: str | None) -> str:
    """The message without `<at>LearnLoop</at>` (how a channel message addresses the bot)."""
    return _MENTION.sub(" ", text or "").strip()


async def help_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`help`."""
    await ctx.send(text_message(help_message(PLATFORM)))


async def checkin_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`checkin [text]`: a card whose button opens the form (a message can't open a dialog)."""
    # Says "not a member" now rather than after the form is filled in.
    await call(services.checkins.question_set_for, PLATFORM, person(ctx))
    await ctx.send(render.card(checkin_launcher(rest)))


async def pause_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`pause [2w | 10d | until 2026-12-31]`."""
    zone = services.alliance.alliance.zone
    until = pause_until(rest, services.members.clock(), zone)
    await call(services.members.pause, PLATFORM, person(ctx), until)
    await ctx.send(render.markdown(paused_words(until.astimezone(zone).date())))


async def resume_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`resume`."""
    await call(services.members.pause, PLATFORM, person(ctx), None)
    await ctx.send(RESUMED)


async def digest_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`digest on | off`: the weekly alliance note (alone, it says what to type)."""
    choice = rest.strip().lower().rstrip(".!")
    if choice not in ("on", "off"):
        await ctx.send(render.markdown(note_usage()))
        return
    on = await call(services.notes.set_on, PLATFORM, person(ctx), choice == "on")
    await ctx.send(render.markdown(note_switched(on)))


log = logging.getLogger("learnloop.teams.handlers")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


async def _mentioned_person(ctx: Ctx) -> str | None:
    """The Entra object id of the one person @mentioned in the message (not the bot)."""
    activity = ctx.activity
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        data = entity.model_dump(by_alias=True) if hasattr(entity, "model_dump") else {}
        mentioned = data.get("mentioned") or {}
        if data.get("type") != "mention" or not mentioned.get("id") or mentioned["id"] == bot_id:
            continue
        if mentioned.get("aadObjectId"):
            return str(mentioned["aadObjectId"])
        # A mention carries the Teams user id; the conversation's roster has the object id.
        try:
            account = await ctx.api.conversations.get_member_by_id(
                activity.conversation.id, mentioned["id"]
            )
        except Exception as exc:  # noqa: BLE001 - not in this conversation: say how instead
            log.info("could not resolve a mentioned person: %s", type(exc).__name__)
            return None
        return account.aad_object_id or None
    return None


async def admin_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`admin add @person agency | remove @person | list` (LearnLoop admins only).

    The person is @mentioned (their mention is taken out of `rest`) or named by Entra object id.
    """
    onboarding = services.onboarding
    admin = person(ctx)
    parts = rest.split()
    action = parts[0].lower() if parts else ""
    named = next((p for p in parts[1:] if _GUID.match(p)), None)
    others = [p for p in parts[1:] if p != named]
    who = named.lower() if named else await _mentioned_person(ctx)
    if action == "list" and not parts[1:]:
        reply = await call(onboarding.listing, PLATFORM, admin)
    elif action == "add" and who and len(others) == 1:
        reply = await call(onboarding.add, PLATFORM, admin, who, others[0])
    elif action == "remove" and who and not others:
        reply = await call(onboarding.remove, PLATFORM, admin, who)
    else:
        raise BadAdminCommand(admin_usage(onboarding.agency_ids()))
    await ctx.send(text_message(reply))


COMMANDS: dict[Command, CommandHandler] = {
    Command.HELP: help_command,
    Command.ADMIN: admin_command,
    Command.CHECKIN: checkin_command,
    Command.PAUSE: pause_command,
    Command.RESUME: resume_command,
    Command.DIGEST: digest_command,
    **barriers.COMMANDS,
    **privacy.COMMANDS,
    **entries.COMMANDS,
    **library.COMMANDS,
}


# ------------------------------------------------------------------------ messages


async def message(ctx: Ctx, services: Services) -> None:
    """A typed command, a card button from an older client, or a plain reply (a learning)."""
    activity = ctx.activity
    value = activity.value
    if isinstance(value, dict) and isinstance(value.get("verb"), str):
        # Clients without Action.Execute send the button as a message carrying its data.
        result = await _run_verb(ctx, services, value["verb"], value)
        await ctx.send(result)
        return
    text = strip_mentions(activity.text)
    if not text:
        return
    command = parse_command(text)
    if command is not None and not _fits_channel(ctx, command):
        # Everyone in a channel sees the answer: what is one person's stays in the 1:1 chat.
        await ctx.send(markdown(only_in_private_chat(_said(command.name))))
        return
    if command is not None:
        await COMMANDS[command.name](ctx, services, command.rest)
        return
    if conversation_kind(ctx) != "personal":
        # In a channel the bot only hears @mentions; a learning belongs in the 1:1 chat.
        await ctx.send(text_message(help_message(PLATFORM)))
        return
    await _plain_reply(ctx, services, text)


async def _plain_reply(ctx: Ctx, services: Services, text: str) -> None:
    chat = await _remember_chat(ctx, services)
    try:
        saved = await call(
            services.checkins.submit_reply, PLATFORM, person(ctx), text, ctx.activity.id
        )
    except ValidationFailed as exc:
        await ctx.send(render.markdown(reply_not_saved(list(exc.errors.values()))))
        return
    await call(services.checkins.confirm_reply, chat.address, saved)


# ------------------------------------------------------------------- card actions


def _prompt_card(view: PromptView) -> AdaptiveCard:
    return render.card(prompt_message(view))


async def skip_week(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Skip this week"."""
    prompt_id = _prompt_id(data)
    await call(services.checkins.skip, PLATFORM, person(ctx), prompt_id)
    return _prompt_card(
        PromptView(prompt_id, services.alliance.alliance.name, "", state=PromptState.SKIPPED),
    )


async def nothing_this_week(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Nothing this week": taking part with nothing to share; the prompt says so."""
    prompt_id = _prompt_id(data)
    state = await call(services.checkins.nothing_this_week, PLATFORM, person(ctx), prompt_id)
    # "Noted", or, if a learning was shared already, still that it is saved.
    return _prompt_card(PromptView(prompt_id, services.alliance.alliance.name, "", state=state))


async def pause_prompts(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Pause prompts" (for four weeks)."""
    prompt_id = _prompt_id(data)
    until = await call(services.checkins.pause_from_prompt, PLATFORM, person(ctx), prompt_id)
    return _prompt_card(
        PromptView(
            prompt_id,
            services.alliance.alliance.name,
            "",
            state=PromptState.PAUSED,
            paused_until=until.date(),
        ),
    )


async def _share_reply(
    ctx: Ctx, services: Services, data: Data, action: CheckinAction
) -> AdaptiveCard | str:
    """A share button on a saved reply: re-share the entry, and the card says with whom."""
    checkin_id = int_of(data, "value")
    if checkin_id is None:
        raise NotFound(render.plain(PROMPT_OUT_OF_DATE))
    view = await call(
        services.entries.share_reply, PLATFORM, person(ctx), checkin_id, SHARE_CHOICES[action]
    )
    return render.card(reply_saved_message(view))


async def share_alliance(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Share with the alliance" on a saved reply."""
    return await _share_reply(ctx, services, data, CheckinAction.SHARE_ALLIANCE)


async def share_anonymous(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Share with the alliance anonymously" on a saved reply."""
    return await _share_reply(ctx, services, data, CheckinAction.SHARE_ANONYMOUS)


def _prompt_id(data: Data) -> int:
    # "value" on cards built from the view; "prompt_id" on cards sent before.
    prompt_id = int_of(data, "value") or int_of(data, "prompt_id")
    if prompt_id is None:
        raise NotFound(out_of_date(Cmd(Said.CHECKIN)))
    return prompt_id


VERBS: dict[str, VerbHandler] = {
    CheckinAction.SKIP_WEEK: skip_week,
    CheckinAction.PAUSE_PROMPTS: pause_prompts,
    CheckinAction.NOTHING_THIS_WEEK: nothing_this_week,
    CheckinAction.SHARE_ALLIANCE: share_alliance,
    CheckinAction.SHARE_ANONYMOUS: share_anonymous,
    # Prompt cards sent before their buttons were named in the view.
    Verb.SKIP_WEEK: skip_week,
    Verb.PAUSE_PROMPTS: pause_prompts,
    **barriers.VERBS,
    **privacy.VERBS,
    **entries.VERBS,
    **library.VERBS,
}


async def _run_verb(ctx: Ctx, services: Services, verb: str, data: Data) -> AdaptiveCard | str:
    handler = VERBS.get(verb)
    if handler is None:
        raise NotFound(out_of_date())
    return await handler(ctx, services, data)


async def card_action(ctx: Ctx, services: Services) -> Any:
    """Action.Execute on a card (adaptiveCard/action): answered with the updated card."""
    action = ctx.activity.value.action
    result = await _run_verb(ctx, services, action.verb or "", dict(action.data or {}))
    if isinstance(result, str):
        return AdaptiveCardActionMessageResponse(value=result)
    return AdaptiveCardActionCardResponse(value=result)


# ------------------------------------------------------------------------ dialogs


def _state(data: Data) -> dict[str, Any]:
    """What the form was opened for (the `state` it carries; older forms carry it flat)."""
    raw = data.get(render.STATE_KEY)
    if isinstance(raw, str):
        try:
            loaded = json.loads(raw)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            return loaded
    return data


async def _checkin_dialog(
    ctx: Ctx,
    services: Services,
    prompt_id: int | None,
    checkin_id: int | None,
    text: str = "",
) -> TaskModuleContinueResponse:
    """The check-in form for a dialog, linked to a prompt or (more detail) to an entry."""
    user_id = person(ctx)
    # The prompt's cycle decides whether the purpose question is asked, as on Slack.
    qset = await call(
        services.checkins.question_set_for,
        PLATFORM,
        user_id,
        prompt_id=prompt_id,
        checkin_id=checkin_id,
    )
    prefill: dict[str, Any] | None = None
    if checkin_id is not None:
        prefill = await call(services.checkins.draft_of, PLATFORM, user_id, checkin_id)
    elif text.strip():
        prefill = {"answers": {qset.questions[0].id: text.strip()}}
    form = checkin_form(services.alliance.version, qset, services.alliance.themes)
    state = json.dumps({"prompt_id": prompt_id, "checkin_id": checkin_id})
    return dialog(form.blank.title, render.form_card(form.form(state, prefill=prefill)))


async def share_learning(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """ "Share a learning" on the prompt: the form, linked to this prompt."""
    return await _checkin_dialog(ctx, services, int_of(data, "value"), None)


async def add_detail(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """ "Add detail" on a saved reply: the form, pre-filled, updating the same check-in."""
    checkin_id = int_of(data, "value")
    if checkin_id is None:
        raise NotFound(render.plain(PROMPT_OUT_OF_DATE))
    return await _checkin_dialog(ctx, services, None, checkin_id)


async def open_checkin(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """The `checkin` command's button, the "+" menu, and cards sent before the view's ids."""
    text = data.get("value") if isinstance(data.get("value"), str) else data.get("text")
    return await _checkin_dialog(
        ctx,
        services,
        int_of(data, "prompt_id"),
        int_of(data, "checkin_id"),
        text if isinstance(text, str) else "",
    )


async def escalate_checkin(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """ "Escalate this" on the thanks: the barrier form, linked to that check-in."""
    return await barriers.open_escalate(ctx, services, {"checkin_id": data.get("value")})


async def submit_checkin(
    ctx: Ctx, services: Services, data: Data
) -> TaskModuleContinueResponse | None:
    """Validate, redact and store the form; it comes back with the reasons if it can't be."""
    user_id = person(ctx)
    state = _state(data)
    prompt_id, checkin_id = int_of(state, "prompt_id"), int_of(state, "checkin_id")
    try:
        saved = await call(
            services.checkins.submit_form,
            PLATFORM,
            user_id,
            data,
            source=Source.TEAMS_CARD,
            prompt_id=prompt_id,
            checkin_id=checkin_id,
            # A retried invoke carries the same activity id, so it is stored once.
            idempotency_key=f"teams:activity:{ctx.activity.id}" if checkin_id is None else None,
        )
    except ValidationFailed as exc:
        qset = await call(
            services.checkins.question_set_for,
            PLATFORM,
            user_id,
            prompt_id=prompt_id,
            checkin_id=checkin_id,
        )
        themes = services.alliance.themes
        answers, chosen, visibility = read_checkin(qset, themes, data)
        prefill = {"answers": answers, "themes": chosen, "visibility": visibility}
        form = checkin_form(services.alliance.version, qset, themes)
        again = form.form(json.dumps(state), exc.errors, prefill)
        # Filled in as it was sent, so nothing typed is lost.
        return dialog(again.title, render.form_card(again))
    # Thanks on the prompt card itself when there is one, else in the chat.
    await call(services.checkins.thank, user_id, saved)
    return None


DIALOGS: dict[str, DialogHandler] = {
    CheckinAction.SHARE_LEARNING: share_learning,
    CheckinAction.ADD_DETAIL: add_detail,
    CheckinAction.ESCALATE_CHECKIN: escalate_checkin,
    CheckinAction.WRITE: open_checkin,
    **barriers.DIALOGS,
    **entries.DIALOGS,
}
SUBMITS: dict[str, SubmitHandler] = {
    CHECKIN_FORM: submit_checkin,
    Submit.CHECKIN: submit_checkin,  # forms opened before the form's id came from the view
    **barriers.SUBMITS,
    **entries.SUBMITS,
}
EXTENSIONS: dict[str, tuple[str, str]] = {
    ExtensionCommand.CHECKIN: (CheckinAction.WRITE, CHECKIN_FORM),
    ExtensionCommand.ESCALATE: (Dialog.ESCALATE, Submit.ESCALATE),
}


async def dialog_open(ctx: Ctx, services: Services) -> TaskModuleResponse:
    """task/fetch: a card button asked for one of LearnLoop's dialogs."""
    data = data_of(ctx)
    handler = DIALOGS.get(str(data.get("dialog_id")))
    if handler is None:
        raise NotFound(out_of_date())
    return TaskModuleResponse(task=await handler(ctx, services, data))


async def dialog_submit(ctx: Ctx, services: Services) -> TaskModuleResponse | None:
    """task/submit: a dialog's form was sent; closes it, or shows it again with reasons."""
    data = data_of(ctx)
    handler = SUBMITS.get(str(data.get("action")))
    if handler is None:
        raise NotFound(out_of_date())
    again = await handler(ctx, services, data)
    return TaskModuleResponse(task=again) if again is not None else None


def _extension(ctx: Ctx) -> tuple[str, str]:
    found = EXTENSIONS.get(str(ctx.activity.value.command_id))
    if found is None:
        raise NotFound(out_of_date())
    return found


async def extension_open(ctx: Ctx, services: Services) -> MessagingExtensionActionResponse:
    """composeExtension/fetchTask: the "+" menu's actions open their form directly."""
    opened, _ = _extension(ctx)
    return MessagingExtensionActionResponse(task=await DIALOGS[opened](ctx, services, {}))


async def extension_submit(ctx: Ctx, services: Services) -> MessagingExtensionActionResponse | None:
    """composeExtension/submitAction: a form opened from the "+" menu was sent."""
    _, submitted = _extension(ctx)
    again = await SUBMITS[submitted](ctx, services, data_of(ctx))
    return MessagingExtensionActionResponse(task=again) if again is not None else None


def register(app: App, services: Services, messenger: TeamsMessenger) -> None:
    """Attach every Teams listener to the Teams App (one per kind of activity)."""
    app.on_conversation_update(reported(conversation_update, services, None))
    app.on_install_add(reported(install_add, services, None))
    app.on_install_remove(reported(install_remove, services, None))
    app.on_message(reported(message, services, None))
    app.on_card_action(reported(card_action, services, card_error))
    app.on_dialog_open(reported(dialog_open, services, dialog_error))
    app.on_dialog_submit(reported(dialog_submit, services, dialog_error))
    app.on_message_ext_open(reported(extension_open, services, extension_error))
    app.on_message_ext_submit(reported(extension_submit, services, extension_error))
    app.on_file_consent(reported(privacy.file_consent(messenger), services, None))

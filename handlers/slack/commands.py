"""Slash commands: /checkin and /learnloop."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.alliance import QuestionKind
from bot.domain.pause import pause_until
from bot.services import Services
from bot.services.onboarding import BadAdminCommand
from bot.slack import render
from bot.slack.blocks import CheckinForms
from bot.slack.ids import Command
from bot.slack.render import message
from bot.views.checkin import RESUMED, paused_words
from bot.views.digest import note_switched, note_usage
from bot.views.help import help_message, unknown_command
from bot.views.message import Message
from bot.views.onboarding import admin_usage
from handlers.slack import library, privacy
from handlers.slack.errors import after_ack, reported
from handlers.slack.inquiries import run_inquiry_command

PLATFORM = "slack"


def open_checkin(
    ack: Ack,
    body: dict[str, Any],
    command: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    services: Services,
) -> None:
    """`/checkin [text]`: open the modal, pre-filling the first answer with any text typed."""
    ack()
    forms: CheckinForms = context["forms"]

    def open_form() -> None:
        qset = services.checkins.question_set_for("slack", command["user_id"])
        text = (command.get("text") or "").strip()
        # A custom set may open with a choice question; the text goes to the first
        # text one.
        first = next(
            (
                q.id
                for q in qset.questions
                if q.kind in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)
            ),
            qset.questions[0].id,
        )
        prefill = {"answers": {first: text}} if text else None
        client.views_open(
            trigger_id=command["trigger_id"],
            view=forms.modal(qset, {"prompt_id": None}, prefill),
        )

    after_ack(context, body, client, open_form)


def learnloop_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services
) -> None:
    """`/learnloop help | pause | resume | privacy | inquiry | find | digest on|off | admin`."""
    words = (command.get("text") or "").strip().split(maxsplit=1)
    sub = words[0].lower() if words else "help"
    rest = words[1] if len(words) > 1 else ""
    if sub == "help":
        text, blocks = message(help_message(PLATFORM))
        ack(text=text, blocks=blocks)
        return
    if sub == "digest":
        ack()
        switch_note(command["user_id"], rest, respond, services)
        return
    if sub not in ("pause", "resume", "privacy", "inquiry", "find", "admin"):
        text, blocks = message(unknown_command(f"/learnloop {sub}", PLATFORM))
        ack(text=text, blocks=blocks)
        return
    ack()
    user_id = command["user_id"]
    if sub == "privacy":
        privacy.show_panel(user_id, respond, services)
        return
    if sub == "find":
        library.find(user_id, rest, respond, services)
        return
    if sub == "inquiry":
        run_inquiry_command(command, rest, respond, client, services)
        return
    if sub == "admin":
        reply = admin_command(user_id, rest, services)
        text, blocks = message(reply)
        respond(text=text, blocks=blocks, response_type="ephemeral")
        return
    if sub == "resume":
        services.members.pause("slack", user_id, None)
        respond(text=RESUMED, response_type="ephemeral")
        return
    until = pause_until(rest, services.members.clock(), services.alliance.alliance.zone)
    services.members.pause("slack", user_id, until)
    local = until.astimezone(services.alliance.alliance.zone)
    respond(text=render.mrkdwn(paused_words(local.date())), response_type="ephemeral")


def switch_note(user_id: str, rest: str, respond: Respond, services: Services) -> None:
    """`/learnloop digest on|off`: the weekly alliance note; anything else says what to type."""
    choice = rest.strip().lower()
    if choice not in ("on", "off"):
        respond(text=render.mrkdwn(note_usage()), response_type="ephemeral")
        return
    on = services.notes.set_on(PLATFORM, user_id, choice == "on")
    respond(text=render.mrkdwn(note_switched(on)), response_type="ephemeral")


# A person as Slack escapes them in a command (<@U123|name>), or a bare user id.
_PERSON = re.compile(r"^(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|([UW][A-Z0-9]{2,}))$")


def admin_command(user_id: str, text: str, services: Services) -> Message:
    """`/learnloop admin add @person agency | remove @person | list` (admins only)."""
    onboarding = services.onboarding
    parts = text.split()
    action = parts[0].lower() if parts else ""
    if action == "list" and len(parts) == 1:
        return onboarding.listing(PLATFORM, user_id)
    person = _PERSON.match(parts[1]) if len(parts) > 1 else None
    person_id = (person.group(1) or person.group(2)) if person else None
    if action == "add" and person_id and len(parts) == 3:
        return onboarding.add(PLATFORM, user_id, person_id, parts[2])
    if action == "remove" and person_id and len(parts) == 2:
        return onboarding.remove(PLATFORM, user_id, person_id)
    raise BadAdminCommand(admin_usage(onboarding.agency_ids()))


def register(app: App) -> None:
    """Attach the slash commands."""
    app.command(Command.CHECKIN.value)(reported(open_checkin))
    app.command(Command.LEARNLOOP.value)(reported(learnloop_command))

"""Slash commands: /checkin and /learnloop."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.config import QuestionKind
from bot.domain.pause import pause_until
from bot.services import Services
from bot.slack import render
from bot.slack.blocks import CheckinForms
from bot.slack.ids import Command
from bot.views.checkin import RESUMED, paused_words
from handlers.slack import privacy
from handlers.slack.errors import after_ack, reported
from handlers.slack.inquiries import run_inquiry_command

HELP = """*LearnLoop* helps our alliance learn together. Here's what you can do:
• `/checkin` — share a learning any time (what happened, what helped, what got in the way)
• Reply to my weekly message — your reply is saved as a learning your team can see
• `/learnloop pause [2w | 10d | until 2026-12-31]` — pause the weekly prompt (4 weeks if you \
don't say)
• `/learnloop resume` — start the weekly prompt again
• `/learnloop privacy` — see, export or delete what LearnLoop holds about you
• LearnLoop's *Home* tab — your learnings, each with who can see it: edit one (for 7 days \
after you save it), change who can see it, or delete it; editing your reply to my weekly \
message edits that learning too
• `/learnloop inquiry start | list | close` — for system stewards: ask a cohort a focused \
question for a few weeks (`/learnloop inquiry help` says how)
• `/learnloop help` — this message
You choose who sees each learning. Please don't name or identify the people you support."""


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
        # Issue 9: a custom set may open with a choice question; the text goes to the first
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
    """`/learnloop help | pause | resume | privacy`."""
    words = (command.get("text") or "").strip().split(maxsplit=1)
    sub = words[0].lower() if words else "help"
    rest = words[1] if len(words) > 1 else ""
    if sub == "help":
        ack(text=HELP)
        return
    if sub not in ("pause", "resume", "privacy", "inquiry"):
        ack(text=f"I don't know `/learnloop {sub}`.\n\n{HELP}")
        return
    ack()
    user_id = command["user_id"]
    if sub == "privacy":  # issue 6
        privacy.show_panel(user_id, respond, services)
        return
    if sub == "inquiry":  # issue 9
        run_inquiry_command(command, rest, respond, client, services)
        return
    if sub == "resume":
        services.members.pause("slack", user_id, None)
        respond(text=RESUMED, response_type="ephemeral")
        return
    until = pause_until(rest, services.members.clock(), services.alliance.alliance.zone)
    services.members.pause("slack", user_id, until)
    local = until.astimezone(services.alliance.alliance.zone)
    respond(text=render.mrkdwn(paused_words(local.date())), response_type="ephemeral")


def register(app: App) -> None:
    """Attach the slash commands."""
    app.command(Command.CHECKIN.value)(reported(open_checkin))
    app.command(Command.LEARNLOOP.value)(reported(learnloop_command))

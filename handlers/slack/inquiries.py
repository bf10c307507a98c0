"""`/learnloop inquiry start | list | close` and the "Start an inquiry" form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import LearnLoopError, ValidationFailed
from bot.domain.inquiry import (
    DEFAULT_WEEKS,
    MAX_QUESTION_CHARS,
    MAX_WEEKS,
    USAGE,
    BadInquiryCommand,
    InquiryConflict,
    parse_inquiry_command,
)
from bot.services import Services
from bot.services.inquiries import InquiryInfo
from bot.slack import render
from bot.views.inquiry import (
    COHORT_FIELD,
    QUESTION_FIELD,
    START_FORM,
    WEEKS_FIELD,
    closed_reply,
    list_reply,
    start_form,
    started_reply,
    still_open,
)
from bot.views.message import Form
from bot.views.words import Words
from handlers.slack.errors import reported

# Slack shows modal field errors in a small space: keep them short.
FIELD_ERROR_CHARS = 150


def _form(services: Services) -> Form:
    cohorts = [c.id for c in services.alliance.cohorts]
    return start_form(cohorts, MAX_WEEKS, DEFAULT_WEEKS, MAX_QUESTION_CHARS)


def _said(error: LearnLoopError) -> str:
    """An error's words as plain text, commands spelled for Slack (a form error is plain)."""
    return render.plain(error.words) if error.words is not None else error.message


def run_inquiry_command(
    command: dict[str, Any], text: str, respond: Respond, client: WebClient, services: Services
) -> None:
    """What follows `/learnloop inquiry` (already acknowledged); mistakes raise typed errors,
    which the error boundary spells with Slack's renderer."""
    user_id = command["user_id"]
    parsed = parse_inquiry_command(text)
    inquiries = services.inquiries
    if parsed.action == "help":
        respond(text=render.mrkdwn(USAGE), response_type="ephemeral")
    elif parsed.action == "form":
        inquiries.require_steward(user_id, "run an inquiry")
        client.views_open(trigger_id=command["trigger_id"], view=render.modal(_form(services)))
    elif parsed.action == "start":
        try:
            info = inquiries.start("slack", user_id, parsed.question, parsed.cohort, parsed.weeks)
        except ValidationFailed as exc:
            raise BadInquiryCommand(" ".join(exc.errors.values())) from None
        respond(text=render.mrkdwn(_started(info, services)), response_type="ephemeral")
    elif parsed.action == "list":
        said = list_reply(inquiries.list("slack", user_id))
        respond(text=render.mrkdwn(said), response_type="ephemeral")
    else:
        closed = inquiries.close("slack", user_id, parsed.inquiry_id)
        reply = closed_reply(closed.summary, closed.channel, closed.posted, closed.error)
        respond(
            text=render.mrkdwn(reply.summary),
            blocks=render.blocks(reply.blocks),
            response_type="ephemeral",
        )


def submit_inquiry(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services
) -> None:
    """The "Start an inquiry" form: start it, or keep the form open saying what to change."""
    user_id = body["user"]["id"]
    values = render.read_form(_form(services), view.get("state", {}).get("values", {}))
    weeks = str(values.get(WEEKS_FIELD) or "")
    try:
        info = services.inquiries.start(
            "slack",
            user_id,
            values.get(QUESTION_FIELD) or "",
            values.get(COHORT_FIELD),
            int(weeks) if weeks.isdigit() else DEFAULT_WEEKS,
        )
    except ValidationFailed as exc:
        ack(**render.form_errors({QUESTION_FIELD: " ".join(exc.errors.values())}))
        return
    except InquiryConflict as exc:
        ack(**render.form_errors({COHORT_FIELD: render.plain(still_open(exc.inquiry_id))}))
        return
    except BadInquiryCommand as exc:
        problem = render.plain(exc.problem)[:FIELD_ERROR_CHARS]
        ack(**render.form_errors({COHORT_FIELD: problem}))
        return
    except LearnLoopError as exc:
        ack(**render.form_errors({QUESTION_FIELD: _said(exc)[:FIELD_ERROR_CHARS]}))
        return
    ack()
    client.chat_postMessage(
        channel=user_id, text=render.mrkdwn(_started(info, services)), unfurl_links=False
    )


def _started(info: InquiryInfo, services: Services) -> Words:
    ends = info.ends.astimezone(services.alliance.alliance.zone).date()
    return started_reply(
        info.id,
        info.question,
        info.cohort_id,
        ends,
        info.weeks,
        services.inquiries.steward_channel(),
        info.redaction_summary,
    )


def register(app: App) -> None:
    """Attach the inquiry form's listener (the command itself is part of `/learnloop`)."""
    app.view(START_FORM)(reported(submit_inquiry))

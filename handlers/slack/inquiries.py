"""Issue 9: `/learnloop inquiry start | list | close` and the "Start an inquiry" form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import LearnLoopError, ValidationFailed
from bot.domain.inquiry import USAGE, BadInquiryCommand, InquiryConflict, parse_inquiry_command
from bot.services import Services
from bot.services.inquiries import ClosedInquiry, InquiryInfo
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.inquiry_blocks import (
    inquiry_modal,
    list_text,
    read_inquiry_modal,
    started_text,
    summary_blocks,
)
from handlers.slack.errors import reported

# Slack shows modal field errors in a small space: keep them short.
FIELD_ERROR_CHARS = 150


def run_inquiry_command(
    command: dict[str, Any], text: str, respond: Respond, client: WebClient, services: Services
) -> None:
    """What follows `/learnloop inquiry` (already acknowledged); mistakes raise typed errors."""
    user_id = command["user_id"]
    parsed = parse_inquiry_command(text)
    inquiries = services.inquiries
    if parsed.action == "help":
        respond(text=USAGE, response_type="ephemeral")
    elif parsed.action == "form":
        inquiries.require_steward(user_id, "run an inquiry")
        client.views_open(
            trigger_id=command["trigger_id"],
            view=inquiry_modal([c.id for c in services.alliance.cohorts]),
        )
    elif parsed.action == "start":
        try:
            info = inquiries.start("slack", user_id, parsed.question, parsed.cohort, parsed.weeks)
        except ValidationFailed as exc:
            raise BadInquiryCommand(" ".join(exc.errors.values())) from None
        respond(text=_started(info, services), response_type="ephemeral")
    elif parsed.action == "list":
        respond(text=list_text(inquiries.list("slack", user_id)), response_type="ephemeral")
    else:
        closed = inquiries.close("slack", user_id, parsed.inquiry_id)
        text = _closed_text(closed)
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        ]
        if not closed.posted:
            blocks += [b.to_dict() for b in summary_blocks(closed.summary)]
        respond(text=text, blocks=blocks, response_type="ephemeral")


def submit_inquiry(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services
) -> None:
    """The "Start an inquiry" form: start it, or keep the form open saying what to change."""
    user_id = body["user"]["id"]
    question, cohort, weeks = read_inquiry_modal(view.get("state", {}).get("values", {}))
    try:
        info = services.inquiries.start("slack", user_id, question, cohort, weeks)
    except ValidationFailed as exc:
        message = " ".join(exc.errors.values())
        ack(response_action="errors", errors={BlockId.INQUIRY_QUESTION: message})
        return
    except InquiryConflict as exc:
        message = (
            f"Inquiry {exc.inquiry_id} is still open for this cohort: close it first "
            f"(/learnloop inquiry close {exc.inquiry_id})."
        )
        ack(response_action="errors", errors={BlockId.INQUIRY_COHORT: message})
        return
    except BadInquiryCommand as exc:
        ack(
            response_action="errors",
            errors={BlockId.INQUIRY_COHORT: exc.problem[:FIELD_ERROR_CHARS]},
        )
        return
    except LearnLoopError as exc:
        ack(
            response_action="errors",
            errors={BlockId.INQUIRY_QUESTION: exc.message[:FIELD_ERROR_CHARS]},
        )
        return
    ack()
    client.chat_postMessage(channel=user_id, text=_started(info, services))


def _started(info: InquiryInfo, services: Services) -> str:
    ends = info.ends.astimezone(services.alliance.alliance.zone).date()
    return started_text(
        info.id,
        info.question,
        info.cohort_id,
        ends,
        info.weeks,
        services.inquiries.steward_channel(),
        info.redaction_summary,
    )


def _closed_text(closed: ClosedInquiry) -> str:
    number = closed.summary.inquiry_id
    if closed.posted:
        return f"Closed inquiry {number} and posted its summary in <#{closed.channel}>."
    if closed.channel is None:
        return (
            f"Closed inquiry {number}. No steward channel is configured (an alliance digest or "
            "the escalation ladder's `alliance` level), so here is its summary:"
        )
    return (
        f"Closed inquiry {number}, but I couldn't post its summary in <#{closed.channel}> "
        f"(`{closed.error}`). Invite me there with `/invite @LearnLoop`; here is the summary:"
    )


def register(app: App) -> None:
    """Attach the inquiry form's listener (the command itself is part of `/learnloop`)."""
    app.view(ViewId.INQUIRY_START.value)(reported(submit_inquiry))

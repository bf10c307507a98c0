"""Issue 9 in Block Kit: inquiry summaries, the inquiry list, the start form, purpose answers.

Pure functions from view-models. Text from people or the config is escaped for mrkdwn.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.inquiry import DEFAULT_WEEKS, MAX_QUESTION_CHARS, MAX_WEEKS
from bot.slack.blocks import NO_NAMES, escape_mrkdwn, fallback_text
from bot.slack.ids import Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.views.inquiry import InquiryLine, InquirySummaryView, PurposeSectionView

SECTION_CHARS = 3000

Message = tuple[str, list[dict[str, Any]]]


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _sections(lines: Sequence[str]) -> list[Block]:
    """Lines as section blocks of at most 3,000 characters each (Slack's limit)."""
    blocks: list[Block] = []
    current = ""
    for line in lines:
        line = line[:SECTION_CHARS]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_CHARS:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=current)))
            candidate = line
        current = candidate
    if current:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=current)))
    return blocks


def _and(names: Sequence[str]) -> str:
    escaped = [escape_mrkdwn(n) for n in names]
    return escaped[0] if len(escaped) == 1 else f"{', '.join(escaped[:-1])} and {escaped[-1]}"


def summary_blocks(view: InquirySummaryView) -> list[Block]:
    """An inquiry's findings: counts by agency, shared patterns, themes, barriers raised."""
    e = escape_mrkdwn
    state = "Inquiry closed" if view.closed else "Inquiry so far"
    blocks: list[Block] = _sections([f":mag: *{state}:* “{e(view.question)}”"])
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Inquiry {view.inquiry_id} · cohort {e(view.cohort)} · "
                    f"{_day(view.started)} – {_day(view.ends)}"
                )
            ]
        )
    )
    lines = [
        f"*{view.learnings}* learnings were shared while it ran; *{view.answers}* answered "
        "its question.",
        "*By agency* — counts only, never per person:",
    ]
    lines += [
        f"• {e(a.agency)}: {a.learnings} learnings, {a.answers} answers" for a in view.by_agency
    ]
    blocks += _sections(lines)
    if view.patterns or view.themes:
        blocks.append(DividerBlock())
        lines = ["*Shared patterns* — the same thing said in more than one agency"]
        for shared in view.patterns:
            lines.append(f"• *{_and(shared.agencies)}* said something similar:")
            lines.append(f">{e(shared.quote)}\n>— _{e(shared.byline)}_")
        if view.themes:
            lines.append("Themes tagged in more than one agency:")
        for theme in view.themes:
            lines.append(
                f"• *{e(theme.theme)}*: {theme.learnings} learnings from {theme.agencies} agencies"
            )
        blocks += _sections(lines)
    blocks.append(DividerBlock())
    lines = [
        f"*Barriers raised* — {view.barrier_answers} learnings said what got in the way"
        + ("." if not view.barriers else "; these were raised as barriers:")
    ]
    lines += [f"• {e(b.title)} — {e(b.status)}, with {e(b.level)}" for b in view.barriers]
    blocks += _sections(lines)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Counts under {view.suppress_below} show as “fewer than "
                    f"{view.suppress_below}”. Only learnings shared with the alliance are quoted."
                )
            ]
        )
    )
    return blocks


def summary_message(view: InquirySummaryView) -> Message:
    """The summary posted to the steward channel: (fallback text, blocks)."""
    state = "Inquiry closed" if view.closed else "Inquiry so far"
    text = f"{state}: “{view.question}” — {view.learnings} learnings, {view.answers} answers."
    return fallback_text(text), [b.to_dict() for b in summary_blocks(view)]


def started_text(
    inquiry_id: int,
    question: str,
    cohort: str,
    ends: dt.date,
    weeks: int,
    channel: str | None,
    redaction_summary: str = "",
) -> str:
    """The steward's confirmation that an inquiry started."""
    where = (
        f"its summary goes to <#{channel}>"
        if channel
        else "its summary is shown to whoever closes it (no steward channel is configured)"
    )
    text = (
        f":mag: Inquiry {inquiry_id} started for the *{escape_mrkdwn(cohort)}* cohort until "
        f"{_day(ends)}: “{escape_mrkdwn(question)}”\n"
        f"For its {weeks} week{'s' if weeks != 1 else ''} the check-in form asks it as an extra "
        "question and every check-in is tagged to it. "
        f"`/learnloop inquiry close {inquiry_id}` ends it sooner; {where}."
    )
    return f"{text}\n{redaction_summary}" if redaction_summary else text


def list_text(lines: Sequence[InquiryLine]) -> str:
    """`/learnloop inquiry list` as one message."""
    if not lines:
        return (
            "No inquiries are open or closed recently. Start one with "
            '`/learnloop inquiry start "Your question?" --cohort weekly --weeks 4`.'
        )
    state = {"open": ":large_green_circle: open", "ended": ":hourglass: weeks over, not closed"}
    out = ["*Inquiries* (open, and closed in the last 90 days)"]
    for line in lines:
        out.append(
            f"• *{line.inquiry_id}* “{escape_mrkdwn(line.question)}” — cohort "
            f"{escape_mrkdwn(line.cohort)}, {_day(line.started)} – {_day(line.ends)}, "
            f"{state.get(line.status, 'closed')}, {line.learnings} learnings"
        )
    if any(line.status == "ended" for line in lines):
        out.append("An inquiry whose weeks are over is closed by the worker, or now with `close`.")
    return "\n".join(out)


def inquiry_modal(cohorts: Sequence[str], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """The "Start an inquiry" form (for `/learnloop inquiry start` with nothing after it)."""
    cohort_options = [Option(text=c[:75], value=c[:150]) for c in cohorts]
    week_options = [
        Option(text=f"{n} week{'s' if n != 1 else ''}", value=str(n))
        for n in range(1, MAX_WEEKS + 1)
    ]
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text="For the weeks it runs, the cohort's check-in form asks this as an extra "
                "question, and every check-in is tagged to it. When it closes, a summary goes "
                "to the stewards."
            )
        ),
        InputBlock(
            block_id=BlockId.INQUIRY_QUESTION,
            label="Question for the cohort",
            element=PlainTextInputElement(
                action_id=Action.INQUIRY_INPUT,
                max_length=MAX_QUESTION_CHARS,
                placeholder="How is hospital discharge working for people with no home?",
            ),
            hint=NO_NAMES,
        ),
        InputBlock(
            block_id=BlockId.INQUIRY_COHORT,
            label="Cohort to ask",
            element=StaticSelectElement(
                action_id=Action.INQUIRY_INPUT,
                placeholder="Choose a cohort",
                options=cohort_options,
                initial_option=cohort_options[0] if len(cohort_options) == 1 else None,
            ),
        ),
        InputBlock(
            block_id=BlockId.INQUIRY_WEEKS,
            label="How many weeks",
            element=StaticSelectElement(
                action_id=Action.INQUIRY_INPUT,
                options=week_options,
                initial_option=week_options[DEFAULT_WEEKS - 1],
            ),
        ),
    ]
    view = View(
        type="modal",
        callback_id=ViewId.INQUIRY_START,
        title=PlainTextObject(text="Start an inquiry"),
        submit=PlainTextObject(text="Start inquiry"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps(metadata or {}, separators=(",", ":")),
        blocks=blocks,
    )
    return view.to_dict()


def read_inquiry_modal(state_values: dict[str, Any]) -> tuple[str, str | None, int]:
    """(question, cohort, weeks) from the start form's state.values."""

    def element(block_id: str) -> dict[str, Any]:
        return next(iter((state_values.get(block_id) or {"": {}}).values()))

    question = element(BlockId.INQUIRY_QUESTION).get("value") or ""
    cohort = (element(BlockId.INQUIRY_COHORT).get("selected_option") or {}).get("value")
    weeks = (element(BlockId.INQUIRY_WEEKS).get("selected_option") or {}).get("value")
    return question, cohort, int(weeks) if str(weeks or "").isdigit() else DEFAULT_WEEKS


def inquiry_digest_blocks(
    running: Sequence[InquiryLine], closed: Sequence[InquirySummaryView]
) -> list[Block]:
    """The digest's inquiry section: inquiries running, and the findings of any that closed."""
    if not running and not closed:
        return []
    blocks: list[Block] = [DividerBlock()]
    if running:
        lines = ["*Inquiries running*"]
        lines += [
            f"• “{escape_mrkdwn(line.question)}” — cohort {escape_mrkdwn(line.cohort)}, until "
            f"{_day(line.ends)} ({line.learnings} learnings so far)"
            for line in running
        ]
        blocks += _sections(lines)
    for view in closed:
        blocks += summary_blocks(view)
    return blocks


def purpose_digest_blocks(section: PurposeSectionView | None) -> list[Block]:
    """The digest's purpose section: what people said the system is for, and whether it is."""
    if section is None:
        return []
    e = escape_mrkdwn
    lines = [
        f"*Purpose* — “{e(section.question)}” ({section.total} answers"
        + (f", {e(section.period)})" if section.period else ")")
    ]
    for answer in section.answers:
        lines.append(f">{e(answer.text)}\n>— _{e(answer.byline)}_")
    if not section.answers:
        lines.append("_None of the answers were shared with this audience._")
    return [DividerBlock(), *_sections(lines)]

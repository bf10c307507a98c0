"""Block Kit for escalations: the barrier card, its pointer, DMs, lists and the modals.

Pure functions from the view-models in bot/views.py. None of them is ever given an anonymous
raiser's identity (the service leaves it out of the view), so none can leak it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.escalation import (
    MAX_AFFECTED_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_NOTE_CHARS,
    MAX_TITLE_CHARS,
    Action,
)
from bot.domain.platforms import platform_of
from bot.slack.blocks import NO_NAMES, escape_mrkdwn, fallback_text
from bot.slack.ids import Action as ActionId
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.views import (
    BarrierCardView,
    BarrierLine,
    BarrierListView,
    BarrierNoticeView,
    BarrierPointerView,
    EscalateFormView,
    StaleBarriersView,
)

Message = tuple[str, list[dict[str, Any]]]

STATUS_EMOJI = {
    "open": ":red_circle:",
    "acknowledged": ":large_yellow_circle:",
    "in_progress": ":large_blue_circle:",
    "resolved": ":white_check_mark:",
    "closed": ":white_circle:",
}
ANONYMOUS_RAISER = "Someone who asked not to be named"
ANONYMOUS_VALUE = "anonymous"
NAMED_VALUE = "named"
# Slack's limits: section text 3,000 characters, 50 blocks per message.
SECTION_LIMIT = 2900
MAX_LIST_BLOCKS = 45

_BUTTONS: dict[str, tuple[ActionId, str | None]] = {
    Action.ACKNOWLEDGE: (ActionId.BARRIER_ACKNOWLEDGE, "primary"),
    Action.ASSIGN: (ActionId.BARRIER_ASSIGN, None),
    Action.ESCALATE: (ActionId.BARRIER_ESCALATE, None),
    Action.RESOLVE: (ActionId.BARRIER_RESOLVE, None),
    Action.CLOSE: (ActionId.BARRIER_CLOSE, None),
}
_FIELD_BLOCKS = {
    "title": BlockId.BARRIER_TITLE,
    "description": BlockId.BARRIER_DESCRIPTION,
    "who_is_affected": BlockId.BARRIER_AFFECTED,
    "agencies": BlockId.BARRIER_AGENCIES,
    "level": BlockId.BARRIER_LEVEL,
    "checkins": BlockId.BARRIER_CHECKINS,
    "anonymous": BlockId.BARRIER_ANONYMOUS,
    "owner": BlockId.BARRIER_OWNER,
    "outcome": BlockId.BARRIER_NOTE,
    "reason": BlockId.BARRIER_NOTE,
    "note": BlockId.BARRIER_NOTE,
}


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def _mention(user_id: str | None) -> str:
    # A Teams person's id (a GUID) means nothing to Slack: <@GUID> would render as raw text.
    if user_id and platform_of(user_id) == "teams":
        return "a colleague on Teams"
    return f"<@{user_id}>" if user_id else ""


def _day(when: dt.date | dt.datetime) -> str:
    return when.strftime("%-d %b %Y")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def button_value(barrier_id: int, version: int) -> str:
    """What a card's buttons carry: the barrier and the version the steward saw."""
    return f"{barrier_id}:{version}"


def parse_button_value(value: str) -> tuple[int, int | None]:
    """The barrier id and seen version from a button value (ValueError if malformed)."""
    head, _, tail = value.partition(":")
    return int(head), int(tail) if tail else None


# ----------------------------------------------------------------------------- the card


def _change_line(view: BarrierCardView) -> str:
    change = view.last_change
    if change is None:
        return ""
    who = f" by {_mention(change.actor_user_id)}" if change.actor_user_id else ""
    what = {
        "raised": "Raised",
        "acknowledged": "Acknowledged",
        "assigned": "Assigned",
        "escalated": f"Moved up to {escape_mrkdwn(change.to_level_name or 'the next level')}",
        "resolved": "Resolved",
        "closed": "Closed",
    }.get(change.kind, change.kind.capitalize())
    return f"Last change: {what}{who} on {_day(change.at)}"


def barrier_card(view: BarrierCardView) -> Message:
    """A barrier's card: what it is, where it is, who has it, and the steward buttons."""
    title = f"Barrier #{view.barrier_id}: {view.title}"
    text = fallback_text(f"{title} — {view.status_label} ({view.level_name})")
    emoji = STATUS_EMOJI.get(view.status, "")
    agencies = ", ".join(escape_mrkdwn(a) for a in view.agency_names) or "Not said"
    raised_by = _mention(view.raised_by_user_id) if view.raised_by_user_id else ANONYMOUS_RAISER
    blocks: list[Block] = [
        HeaderBlock(text=_cut(title, 150)),
        SectionBlock(
            text=MarkdownTextObject(
                text="*What gets in the way*\n" + _cut(escape_mrkdwn(view.description), 2800)
            )
        ),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Status*\n{emoji} {view.status_label}"),
                MarkdownTextObject(text=f"*Level*\n{escape_mrkdwn(view.level_name)}"),
                MarkdownTextObject(text=f"*Owner*\n{_mention(view.owner_user_id) or 'Nobody yet'}"),
                MarkdownTextObject(text=f"*Raised by*\n{raised_by}"),
                MarkdownTextObject(text=f"*Agencies affected*\n{_cut(agencies, 1900)}"),
            ]
        ),
    ]
    if view.who_is_affected:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="*Who is affected*\n" + _cut(escape_mrkdwn(view.who_is_affected), 2800)
                )
            )
        )
    if view.outcome:
        heading = "What we did" if view.status == "resolved" else "Why it was closed"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{heading}*\n" + _cut(escape_mrkdwn(view.outcome), 2800)
                )
            )
        )
    linked = view.linked_checkins
    context = [f"Raised {_day(view.raised_on)}"]
    if linked:
        context.append(f"{linked} linked check-in{'s' if linked != 1 else ''}")
    change = _change_line(view)
    if change:
        context.append(change)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(context))]))
    if view.note:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f":warning: {escape_mrkdwn(view.note)}")]
            )
        )
    buttons = []
    for action in view.actions:
        action_id, style = _BUTTONS[action]
        label = {
            Action.ACKNOWLEDGE: "Acknowledge",
            Action.ASSIGN: "Assign",
            Action.ESCALATE: f"Escalate up to {view.next_level_name or 'the next level'}",
            Action.RESOLVE: "Resolve",
            Action.CLOSE: "Close",
        }[Action(action)]
        buttons.append(
            ButtonElement(
                text=_cut(label, 75),
                action_id=action_id,
                value=button_value(view.barrier_id, view.version),
                style=style,
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.BARRIER_ACTIONS, elements=buttons))
    return text, _dicts(blocks)


def barrier_pointer(view: BarrierPointerView) -> Message:
    """What a card becomes in the old channel once its barrier moved up."""
    title = escape_mrkdwn(view.title)
    who = f" by {_mention(view.actor_user_id)}" if view.actor_user_id else ""
    where = f"<{view.card_url}|follow it there>" if view.card_url else "follow it there"
    # The channel link is ours; the level's name is config text and is escaped.
    text = (
        f"Barrier #{view.barrier_id} moved up to {fallback_text(view.to_level_name)} — it "
        f"continues in <#{view.to_channel}>."
    )
    line = (
        f":arrow_up: *Barrier #{view.barrier_id}: {title}* moved up to "
        f"*{escape_mrkdwn(view.to_level_name)}*{who} on {_day(view.at)}. "
        f"It continues in <#{view.to_channel}> — {where}."
    )
    return text, _dicts([SectionBlock(text=MarkdownTextObject(text=line))])


# ----------------------------------------------------------------------------- DMs


def barrier_notice(view: BarrierNoticeView) -> Message:
    """The DM to a raiser or a linked check-in's author: what just happened to the barrier."""
    title = f"“{escape_mrkdwn(view.title)}”"
    level = f"*{escape_mrkdwn(view.level_name)}*"
    actor = f" by {_mention(view.actor_user_id)}" if view.actor_user_id else ""
    about = (
        f"Your barrier {title}"
        if view.as_raiser
        else f"The barrier {title}, which your check-in is linked to,"
    )
    note = escape_mrkdwn(view.note or "")
    lines: list[str]
    if view.kind == "raised":
        lines = [
            f":mega: Thank you — {about[0].lower()}{about[1:]} is now with {level}. "
            "I'll message you each time it moves."
        ]
        if view.anonymous:
            lines.append("Stewards can't see that it was you who raised it.")
        if view.redaction_summary:
            lines.append(view.redaction_summary)
    elif view.kind == "acknowledged":
        lines = [f":eyes: {about} was acknowledged{actor} at {level}."]
    elif view.kind == "assigned":
        owner = _mention(view.owner_user_id) or "a steward"
        lines = [f":construction_worker: {about} is now being worked on by {owner} at {level}."]
    elif view.kind == "escalated":
        lines = [
            f":arrow_up: {about} has gone up to {level}{actor}: it needs a level that can "
            "change it."
        ]
    elif view.kind == "resolved":
        lines = [f":white_check_mark: {about} is resolved{actor}.", f"*What we did:* {note}"]
    elif view.kind == "assigned_to_you":
        asker = _mention(view.actor_user_id) or "A steward"
        lines = [f":wave: {asker} asked you to own the barrier {title} at {level}."]
        if view.card_url:
            lines.append(f"<{view.card_url}|Open the card> to see it and update it.")
    elif view.kind == "closed":
        lines = [f":white_circle: {about} was closed without a change{actor}.", f"*Why:* {note}"]
    else:
        lines = [f"{about} changed: {view.kind}."]
    if view.kind != "raised" and view.note and view.kind not in ("resolved", "closed"):
        lines.append(f"Note: {note}")
    if view.kind != "assigned_to_you":
        lines.append("`/barriers mine` lists every barrier you're part of.")
    text = _strip_mrkdwn(lines[0])
    return text, _dicts([SectionBlock(text=MarkdownTextObject(text=_cut("\n".join(lines), 2900)))])


def _strip_mrkdwn(text: str) -> str:
    return text.replace("*", "")


# ----------------------------------------------------------------------------- lists


def _age(days: int) -> str:
    if days <= 0:
        return "changed today"
    return f"{days} day{'s' if days != 1 else ''} since the last change"


def barrier_line(line: BarrierLine) -> str:
    """One barrier on one line: link to its card, status, level, owner, age."""
    name = f"#{line.barrier_id} {escape_mrkdwn(_cut(line.title, 80))}"
    link = f"<{line.card_url}|{name}>" if line.card_url else f"*{name}*"
    parts = [link, line.status_label, escape_mrkdwn(line.level_name)]
    if line.owner_user_id:
        parts.append(f"owner {_mention(line.owner_user_id)}")
    if not line.card_url and line.channel:
        parts.append(f"in <#{line.channel}>")
    parts.append(_age(line.days_since_change))
    return "• " + " · ".join(parts)


def _line_sections(lines: Sequence[str], max_blocks: int) -> tuple[list[Block], int]:
    """Pack lines into sections under Slack's size limits; how many lines fitted."""
    blocks: list[Block] = []
    chunk: list[str] = []
    used = 0
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > SECTION_LIMIT:
            if len(blocks) + 1 >= max_blocks:
                break
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk = []
        chunk.append(line)
        used += 1
    if chunk:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    return blocks, used


def barrier_list(view: BarrierListView) -> Message:
    """The ephemeral answer to `/barriers`."""
    if not view.lines:
        return fallback_text(view.empty_text), _dicts(
            [SectionBlock(text=MarkdownTextObject(text=view.empty_text))]
        )
    header = f"*{escape_mrkdwn(view.heading)}* ({view.total})"
    sections, shown = _line_sections([barrier_line(x) for x in view.lines], MAX_LIST_BLOCKS)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=header)), *sections]
    if shown < view.total:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Showing the {shown} most recently changed. "
                        "`learnloop barriers export` lists them all."
                    )
                ]
            )
        )
    return fallback_text(f"{view.heading} ({view.total})"), _dicts(blocks)


def stale_barriers(view: StaleBarriersView) -> Message:
    """The weekly reminder of barriers that have not moved, in a level's channel."""
    weeks = view.stale_days // 7
    text = (
        f"{len(view.lines)} barrier{'s' if len(view.lines) != 1 else ''} at "
        f"{view.level_name} haven't moved for {weeks} weeks or more."
    )
    intro = (
        f":hourglass: *{escape_mrkdwn(text)}* Each one is waiting on someone here: "
        "acknowledge, assign, move up, resolve or close it from its card."
    )
    sections, shown = _line_sections([barrier_line(x) for x in view.lines], MAX_LIST_BLOCKS)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=intro)), *sections]
    if shown < len(view.lines):
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="`/barriers stale` lists the rest.")])
        )
    return fallback_text(text), _dicts(blocks)


# ----------------------------------------------------------------------------- modals


def escalate_modal(form: EscalateFormView) -> dict[str, Any]:
    """The "Raise a barrier" modal."""
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=f":lock: {NO_NAMES}")]),
        InputBlock(
            block_id=BlockId.BARRIER_TITLE,
            label="Title",
            element=PlainTextInputElement(
                action_id=ActionId.BARRIER_INPUT,
                max_length=MAX_TITLE_CHARS,
                initial_value=_cut(form.title, MAX_TITLE_CHARS) or None,
                placeholder="A few words stewards will recognise",
            ),
        ),
        InputBlock(
            block_id=BlockId.BARRIER_DESCRIPTION,
            label="What gets in the way?",
            element=PlainTextInputElement(
                action_id=ActionId.BARRIER_INPUT,
                multiline=True,
                max_length=MAX_DESCRIPTION_CHARS,
                initial_value=_cut(form.description, MAX_DESCRIPTION_CHARS) or None,
            ),
            hint="What stops people doing the right thing, and what happens because of it.",
        ),
        InputBlock(
            block_id=BlockId.BARRIER_AFFECTED,
            label="Who is affected?",
            element=PlainTextInputElement(
                action_id=ActionId.BARRIER_INPUT, multiline=True, max_length=MAX_AFFECTED_CHARS
            ),
            hint="Groups of people, not names — e.g. people leaving hospital with no address.",
            optional=True,
        ),
    ]
    if form.agencies:
        options = [Option(text=_cut(name, 75), value=aid) for aid, name in form.agencies]
        blocks.append(
            InputBlock(
                block_id=BlockId.BARRIER_AGENCIES,
                label="Agencies affected",
                element=StaticMultiSelectElement(
                    action_id=ActionId.BARRIER_INPUT,
                    placeholder="Pick any",
                    options=options[:100],
                ),
                optional=True,
            )
        )
    levels = [Option(text=_cut(name, 75), value=level) for level, name in form.levels]
    blocks.append(
        InputBlock(
            block_id=BlockId.BARRIER_LEVEL,
            label="Which level should see it first?",
            element=StaticSelectElement(
                action_id=ActionId.BARRIER_INPUT, options=levels, initial_option=levels[0]
            ),
            hint="Start at the lowest level that could remove it; stewards can move it up.",
        )
    )
    if form.recent_checkins:
        checkins = [
            Option(text=_cut(label, 75), value=str(cid)) for cid, label in form.recent_checkins
        ][:10]
        initial = [o for o in checkins if int(o.value) in form.linked]
        blocks.append(
            InputBlock(
                block_id=BlockId.BARRIER_CHECKINS,
                label="Link your recent check-ins",
                element=CheckboxesElement(
                    action_id=ActionId.BARRIER_INPUT,
                    options=checkins,
                    initial_options=initial or None,
                ),
                hint="Linked check-ins show stewards it keeps happening; you'll hear what happens.",
                optional=True,
            )
        )
    named = Option(text="Yes, show my name", value=NAMED_VALUE)
    anonymous = Option(text="No, raise it anonymously", value=ANONYMOUS_VALUE)
    blocks.append(
        InputBlock(
            block_id=BlockId.BARRIER_ANONYMOUS,
            label="Show my name to stewards?",
            element=RadioButtonsElement(
                action_id=ActionId.BARRIER_INPUT, options=[named, anonymous], initial_option=named
            ),
            hint="Either way you'll get a message each time it moves, and the outcome.",
        )
    )
    view = View(
        type="modal",
        callback_id=ViewId.ESCALATE,
        title=PlainTextObject(text="Raise a barrier"),
        submit=PlainTextObject(text="Raise barrier"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps(
            {"source_checkin_id": form.source_checkin_id}, separators=(",", ":")
        ),
        blocks=blocks,
    )
    return view.to_dict()


def _barrier_modal(
    callback_id: ViewId,
    title: str,
    submit: str,
    barrier_title: str,
    metadata: dict[str, Any],
    inputs: list[Block],
) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{escape_mrkdwn(_cut(barrier_title, 200))}*")),
        *inputs,
    ]
    return View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps(metadata, separators=(",", ":")),
        blocks=blocks,
    ).to_dict()


def _note_input(label: str, hint: str, optional: bool) -> InputBlock:
    return InputBlock(
        block_id=BlockId.BARRIER_NOTE,
        label=label,
        element=PlainTextInputElement(
            action_id=ActionId.BARRIER_INPUT, multiline=True, max_length=MAX_NOTE_CHARS
        ),
        hint=hint,
        optional=optional,
    )


def assign_modal(barrier_id: int, version: int, barrier_title: str) -> dict[str, Any]:
    """Pick the person who will own a barrier."""
    return _barrier_modal(
        ViewId.BARRIER_ASSIGN,
        "Assign barrier",
        "Assign",
        barrier_title,
        {"barrier_id": barrier_id, "version": version},
        [
            InputBlock(
                block_id=BlockId.BARRIER_OWNER,
                label="Who will own it?",
                element=UserSelectElement(
                    action_id=ActionId.BARRIER_INPUT, placeholder="Choose a person"
                ),
            ),
            _note_input(
                "Anything they should know?",
                "They'll get a message; the people who raised it hear who has it.",
                optional=True,
            ),
        ],
    )


def resolve_modal(barrier_id: int, version: int, barrier_title: str) -> dict[str, Any]:
    """Say what was done; the outcome goes back to the people who raised it."""
    return _barrier_modal(
        ViewId.BARRIER_RESOLVE,
        "Resolve barrier",
        "Resolve",
        barrier_title,
        {"barrier_id": barrier_id, "version": version},
        [
            _note_input(
                "What did we do?",
                "This goes to the people who raised it: what changed and what it means for "
                "them. Please don't name the people you support.",
                optional=False,
            )
        ],
    )


def close_modal(barrier_id: int, version: int, barrier_title: str) -> dict[str, Any]:
    """Say why a barrier is closed without a change."""
    return _barrier_modal(
        ViewId.BARRIER_CLOSE,
        "Close barrier",
        "Close barrier",
        barrier_title,
        {"barrier_id": barrier_id, "version": version},
        [
            _note_input(
                "Why are we closing it without a change?",
                "This goes to the people who raised it, so be as open as you can.",
                optional=False,
            )
        ],
    )


def read_values(state_values: dict[str, Any]) -> dict[str, Any]:
    """A modal's answers by block id (strings, lists of option values, or a user id)."""
    read: dict[str, Any] = {}
    for block_id, actions in state_values.items():
        for element in actions.values():
            read[block_id] = _element_value(element)
    return read


def _element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons"):
        option = element.get("selected_option")
        return option.get("value") if option else None
    if kind in ("multi_static_select", "checkboxes"):
        return [o.get("value") for o in element.get("selected_options") or []]
    if kind == "users_select":
        return element.get("selected_user")
    return element.get("value")


def modal_errors(errors: dict[str, str], view: dict[str, Any], fallback: BlockId) -> dict[str, str]:
    """Map domain field ids to the modal's input block ids for response_action=errors.

    Slack rejects errors for blocks the modal does not have, so those go on `fallback`.
    """
    present = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
    mapped: dict[str, str] = {}
    for key, message in errors.items():
        block = _FIELD_BLOCKS.get(key, fallback).value
        if block not in present:
            block = fallback.value
        mapped.setdefault(block, _cut(message, 300))
    return mapped

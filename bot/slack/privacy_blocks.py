"""Block Kit for the privacy panel (issue 6): pure functions from PrivacyView to a message."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.blocks import fallback_text
from bot.slack.ids import Action
from bot.views.privacy import PrivacyStage, PrivacyView

START_AGAIN_HINT = "Changed your mind? Type `/learnloop privacy` and press *Start again*."


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _date(view: PrivacyView, attr: str) -> str:
    value = getattr(view, attr)
    return value.strftime("%-d %B %Y") if value else ""


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def delete_button_label(view: PrivacyView) -> str:
    """The confirm button says exactly what it deletes."""
    if view.checkins:
        return f"Delete my {_n(view.checkins, 'learning')} and profile"
    return "Delete my profile"


def _what_we_hold(view: PrivacyView) -> str:
    learnings = _n(view.checkins, "learning")
    since = f" since {_date(view, 'first_saved')}" if view.first_saved else ""
    anonymous = f" ({view.anonymous} shared anonymously)" if view.anonymous else ""
    lines = [
        "*Your data in LearnLoop*",
        "LearnLoop holds:",
        "• your profile: your agency, time zone and whether your prompts are paused",
        f"• *{learnings}* you saved{since}{anonymous}",
        f"• your weekly prompt history ({_n(view.prompts, 'prompt')})",
    ]
    if view.barriers_raised:
        lines.append(f"• {_n(view.barriers_raised, 'barrier')} you raised")
    lines.append(
        f"Learnings and prompt history older than {view.retention_months} months are deleted "
        "automatically. Identifiers of the people you support were removed before anything "
        "was saved."
    )
    return "\n".join(lines)


def _panel(view: PrivacyView) -> tuple[str, list[Block]]:
    if view.is_member:
        text = "Your data in LearnLoop: export it or delete it."
        return text, [
            _section(_what_we_hold(view)),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Export my data", action_id=Action.PRIVACY_EXPORT, style="primary"
                    ),
                    ButtonElement(
                        text="Delete my data", action_id=Action.PRIVACY_DELETE, style="danger"
                    ),
                ]
            ),
            _context(
                "*Export my data* sends you a file (JSON) in our direct messages. "
                "*Delete my data* asks you to confirm first."
            ),
        ]
    if view.deleted_on:
        text = f"You deleted your LearnLoop data on {_date(view, 'deleted_on')}."
        return text, [
            _section(
                f"{text} Your learnings, profile and prompt history are gone. LearnLoop keeps "
                "only a record that you deleted them, and a one-way code that stops you being "
                "added back without asking.\n"
                "If you'd like to take part again, press *Start again*: you'll get a new, empty "
                "profile and the weekly prompt. Nothing from before comes back."
            ),
            ActionsBlock(
                elements=[ButtonElement(text="Start again", action_id=Action.PRIVACY_START_AGAIN)]
            ),
        ]
    text = (
        "LearnLoop holds no data about you: you're not a member of this learning alliance. "
        "If you think you should be, ask your LearnLoop admin."
    )
    return text, [_section(text)]


def _confirm(view: PrivacyView) -> tuple[str, list[Block]]:
    text = "Delete your LearnLoop data?"
    learnings = _n(view.checkins, "learning")
    if view.anonymous:
        learnings += f" (including {view.anonymous} shared anonymously)"
    body = [
        f"*{text}*",
        f"This permanently deletes your {learnings}, your profile and your prompt history.",
    ]
    if view.barriers_raised:
        body.append(
            f"The {_n(view.barriers_raised, 'barrier')} you raised "
            f"{'stays' if view.barriers_raised == 1 else 'stay'} for the stewards, "
            "without your name."
        )
    body.append("This can't be undone. If you want a copy, export your data first.")
    return text, [
        _section("\n".join(body)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=delete_button_label(view),
                    action_id=Action.PRIVACY_DELETE_CONFIRMED,
                    style="danger",
                ),
                ButtonElement(text="Keep my data", action_id=Action.PRIVACY_KEEP),
                ButtonElement(text="Export my data first", action_id=Action.PRIVACY_EXPORT),
            ]
        ),
    ]


def _deleted(view: PrivacyView) -> tuple[str, list[Block]]:
    text = "Your LearnLoop data is deleted."
    lines = [
        f":white_check_mark: *{text}* "
        f"{_n(view.checkins, 'learning').capitalize()}, your profile and your prompt history "
        "are gone, and I won't prompt you again."
    ]
    if view.barriers_raised:
        lines.append(
            f"The {_n(view.barriers_raised, 'barrier')} you raised "
            f"{'stays' if view.barriers_raised == 1 else 'stay'}, without your name."
        )
    lines.append(
        "Messages already posted in Slack (such as a digest that quoted you) are kept by "
        "Slack under your workspace's own retention settings."
    )
    lines.append(START_AGAIN_HINT)
    return text, [_section("\n".join(lines))]


def privacy_message(view: PrivacyView) -> tuple[str, list[dict[str, Any]]]:
    """The privacy panel at its current step: (fallback text, blocks)."""
    if view.stage is PrivacyStage.PANEL:
        text, blocks = _panel(view)
    elif view.stage is PrivacyStage.CONFIRM_DELETE:
        text, blocks = _confirm(view)
    elif view.stage is PrivacyStage.DELETED:
        text, blocks = _deleted(view)
    elif view.stage is PrivacyStage.KEPT:
        text = "Nothing was deleted. `/learnloop privacy` shows your data any time."
        blocks = [_section(text)]
    elif view.stage is PrivacyStage.EXPORTED:
        text = f"I've sent your data to our direct messages as `{view.filename}`."
        blocks = [
            _section(f":inbox_tray: {text}"),
            _context("Only you and LearnLoop can see that file."),
        ]
    else:
        if view.is_member:
            text = "Welcome back: you have a new, empty profile and will get the weekly prompt."
        else:
            text = (
                "Your deletion is no longer on record, but you're not listed in an agency yet: "
                "ask your LearnLoop admin to add you."
            )
        blocks = [_section(text)]
    return fallback_text(text), [b.to_dict() for b in blocks]

"""Block Kit rendering: pure functions from view-models to Slack messages and modals."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.config import Question, QuestionKind, QuestionSet
from bot.domain.checkins import MAX_ANSWER_CHARS, Visibility
from bot.slack.ids import QUESTION_BLOCK_PREFIX, Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.views import CheckinSavedView, PromptState, PromptView, ReminderView, ReplySavedView

NO_NAMES = "Please don't name or identify the people you support."


def escape_mrkdwn(text: str) -> str:
    """Escape &, < and > so user text can't ping (<!channel>) or fake links in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fallback_text(text: str) -> str:
    """A message's `text` (notifications, screen readers) from raw words, escaped for mrkdwn.

    Slack parses a message's `text` like any mrkdwn field, so a title with `<!here>` in the
    fallback pings the channel even when the blocks are escaped. Every builder passes its raw
    fallback through here, once.
    """
    return escape_mrkdwn(text)


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def prompt_message(view: PromptView) -> tuple[str, list[dict[str, Any]]]:
    """The weekly prompt DM in its current state: (fallback text, blocks)."""
    if view.state is PromptState.OPEN:
        text = f"{view.question} {view.alliance_name} would love to hear."
        blocks: list[Block] = [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{escape_mrkdwn(view.question)}*\n"
                    "One thing that happened this week that you learned from — "
                    "what helped, what got in the way. It takes about a minute."
                    + _extras(view.extra_questions)
                )
            ),
            _prompt_actions(view.prompt_id),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Or just reply to this message: your reply is saved as a learning "
                        f"that your team can see. {NO_NAMES}"
                    )
                ]
            ),
        ]
        return fallback_text(text), _dicts(blocks)
    if view.state is PromptState.ANSWERED:
        text = "Thank you — your learning is saved."
        lines = [f":white_check_mark: *{text}*"]
        if view.redaction_summary:
            lines.append(view.redaction_summary)
        lines.append("You can share another any time with `/checkin`.")
        if view.escalate_checkin_id is not None:
            answered: list[Block] = [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]
            return fallback_text(text), _dicts(
                [*answered, *escalate_offer(view.escalate_checkin_id)]
            )
    elif view.state is PromptState.NOTHING:
        # Issue 9: it counts as taking part; nothing is stored but the answer itself.
        text = "Thanks — noted: nothing to share this week. That counts as taking part."
        lines = [f":ok_hand: {text}", "If something comes up, `/checkin` works any time."]
    elif view.state is PromptState.SKIPPED:
        text = "No problem — skipped this week. See you next time."
        lines = [text, "If something comes up, `/checkin` works any time."]
    elif view.state is PromptState.EXPIRED:
        # Issue 3: the next cycle has started; the buttons would answer last week's prompt.
        text = "This prompt has closed — a new one comes with the next cycle."
        lines = [text, "You can still share a learning any time with `/checkin`."]
    else:
        until = view.paused_until.strftime("%-d %B %Y") if view.paused_until else "further notice"
        text = f"Prompts paused until {until}."
        lines = [f":pause_button: {text}", "Type `/learnloop resume` to start again sooner."]
    return fallback_text(text), _dicts(
        [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]
    )


def _prompt_actions(prompt_id: int) -> ActionsBlock:
    """The prompt's four buttons (also on the reminder)."""
    return ActionsBlock(
        block_id=BlockId.PROMPT_ACTIONS,
        elements=[
            ButtonElement(
                text="Share a learning",
                action_id=Action.SHARE_LEARNING,
                value=str(prompt_id),
                style="primary",
            ),
            # Issue 9: took part, nothing to report (never reminded, nothing stored but that).
            ButtonElement(
                text="Nothing this week", action_id=Action.NOTHING_THIS_WEEK, value=str(prompt_id)
            ),
            ButtonElement(text="Skip this week", action_id=Action.SKIP_WEEK, value=str(prompt_id)),
            ButtonElement(
                text="Pause prompts", action_id=Action.PAUSE_PROMPTS, value=str(prompt_id)
            ),
        ],
    )


def _extras(questions: Sequence[str]) -> str:
    """Issue 9: the prompt's line about this cycle's extra questions (an inquiry, purpose)."""
    if not questions:
        return ""
    asked = "\n".join(f"• _{escape_mrkdwn(q)}_" for q in questions)
    return f"\nThis time the form also asks:\n{asked}"


def reminder_message(view: ReminderView) -> tuple[str, list[dict[str, Any]]]:
    """Issue 3: the one gentle nudge about an unanswered prompt, with the prompt's buttons."""
    text = f"A gentle reminder: {view.question}"
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*A gentle reminder:* {escape_mrkdwn(view.question)}\n"
                "If something this week taught you anything, it only takes a minute. "
                "This is the only reminder you'll get this week."
            )
        ),
        _prompt_actions(view.prompt_id),
        ContextBlock(elements=[MarkdownTextObject(text=f"Or just reply here. {NO_NAMES}")]),
    ]
    return fallback_text(text), _dicts(blocks)


def reply_saved_message(view: ReplySavedView) -> tuple[str, list[dict[str, Any]]]:
    """The answer to a plain DM reply: saved (visible to the team), with "Add detail"."""
    text = "Thank you — saved as a learning that your team can see."
    lines = [f":white_check_mark: {text}"]
    if view.redaction_summary:
        lines.append(view.redaction_summary)
    lines.append("Add what helped, what got in the way, themes, or who can see it:")
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text="\n".join(lines)),
            accessory=ButtonElement(
                text="Add detail", action_id=Action.ADD_DETAIL, value=str(view.checkin_id)
            ),
        )
    ]
    if view.escalate_checkin_id is not None:
        blocks += escalate_offer(view.escalate_checkin_id)
    return fallback_text(text), _dicts(blocks)


def escalate_offer(checkin_id: int) -> list[Block]:
    """Issue 5: the "Escalate this" offer with thanks for a check-in that names a barrier."""
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text="What got in the way sounds like a barrier. If it's more than your team "
                "can fix, raise it with the system stewards — you can stay anonymous."
            ),
            accessory=ButtonElement(
                text="Escalate this", action_id=Action.ESCALATE_CHECKIN, value=str(checkin_id)
            ),
        )
    ]


def checkin_thanks(view: CheckinSavedView) -> tuple[str, list[dict[str, Any]]]:
    """Issue 5: the thanks DM for a check-in saved without a prompt message to update."""
    text = "Thank you — your learning is saved."
    if view.redaction_summary:
        text += " " + view.redaction_summary
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f":white_check_mark: {text}"))]
    if view.escalate_checkin_id is not None:
        blocks += escalate_offer(view.escalate_checkin_id)
    return fallback_text(text), _dicts(blocks)


def _question_element(question: Question, prefill: Any) -> Any:
    if question.kind in (QuestionKind.LONG_TEXT, QuestionKind.SHORT_TEXT):
        return PlainTextInputElement(
            action_id=Action.ANSWER,
            multiline=question.kind is QuestionKind.LONG_TEXT,
            max_length=MAX_ANSWER_CHARS,
            initial_value=prefill if isinstance(prefill, str) and prefill else None,
        )
    options = [Option(text=c[:75], value=c[:150]) for c in question.choices]
    chosen = [prefill] if isinstance(prefill, str) else list(prefill or [])
    initial = [o for o in options if o.value in chosen]
    if question.kind is QuestionKind.SINGLE_CHOICE:
        return StaticSelectElement(
            action_id=Action.ANSWER,
            placeholder="Choose one",
            options=options,
            initial_option=initial[0] if initial else None,
        )
    if len(options) <= 10:
        return CheckboxesElement(
            action_id=Action.ANSWER, options=options, initial_options=initial or None
        )
    return StaticMultiSelectElement(
        action_id=Action.ANSWER,
        placeholder="Choose any",
        options=options,
        initial_options=initial or None,
    )


def checkin_modal(
    qset: QuestionSet,
    themes: Sequence[str],
    metadata: dict[str, Any],
    prefill: dict[str, Any] | None = None,
    *,
    callback_id: ViewId = ViewId.CHECKIN,
    title: str = "Share a learning",
    submit: str = "Save learning",
) -> dict[str, Any]:
    """The "Share a learning" modal for a question set, optionally pre-filled.

    The author's "Edit" opens the same form under its own callback_id and title, so an edit
    meets exactly the questions and validation the entry was written with.
    """
    prefill = prefill or {}
    answers = prefill.get("answers", {})
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=f":lock: {NO_NAMES}")]),
    ]
    for question in qset.questions:
        blocks.append(
            InputBlock(
                block_id=f"{QUESTION_BLOCK_PREFIX}{question.id}",
                label=question.label,
                element=_question_element(question, answers.get(question.id)),
                hint=question.hint,
                optional=not question.required,
            )
        )
    if themes:
        options = [Option(text=t[:75], value=t[:150]) for t in themes]
        initial = [o for o in options if o.value in prefill.get("themes", [])]
        blocks.append(
            InputBlock(
                block_id=BlockId.THEMES,
                label="Themes",
                element=StaticMultiSelectElement(
                    action_id=Action.THEMES,
                    placeholder="Pick any that fit",
                    options=options,
                    initial_options=initial or None,
                ),
                optional=True,
            )
        )
    vis_options = [Option(text=v.label, value=v.value) for v in Visibility]
    current = prefill.get("visibility", Visibility.TEAM.value)
    blocks.append(
        InputBlock(
            block_id=BlockId.VISIBILITY,
            label="Who can see this?",
            element=RadioButtonsElement(
                action_id=Action.VISIBILITY,
                options=vis_options,
                initial_option=next(o for o in vis_options if o.value == current),
            ),
            hint="Anonymous learnings are shared without your name; you can still see, "
            "export and delete them.",
        )
    )
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps(metadata, separators=(",", ":")),
        blocks=blocks,
    )
    return view.to_dict()


def _question_key(question: Question) -> tuple[Any, ...]:
    """Everything about a question that shows in the form."""
    return (
        question.id,
        question.label,
        question.kind,
        question.required,
        question.hint,
        tuple(question.choices),
    )


class CheckinForms:
    """The check-in modal, rendered and validated once per question set and config version.

    A burst of "Share a learning" clicks would otherwise build and validate the same Block Kit
    objects for every click. Only the private metadata differs between two people's blank
    forms; a pre-filled form (typed text, "Add detail") is rendered afresh.
    """

    MAX_FORMS = 256  # sets x (running inquiry, purpose question): a handful in practice

    def __init__(self, version: str, themes: Sequence[str]) -> None:
        self.version = version
        self.themes = tuple(themes)
        self._blank: dict[tuple[Any, ...], dict[str, Any]] = {}

    def modal(
        self,
        qset: QuestionSet,
        metadata: dict[str, Any],
        prefill: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The modal for `qset` (same content as `checkin_modal`)."""
        if prefill:
            return checkin_modal(qset, self.themes, metadata, prefill)
        key = (self.version, qset.id, *(_question_key(q) for q in qset.questions))
        blank = self._blank.get(key)
        if blank is None:
            if len(self._blank) >= self.MAX_FORMS:
                self._blank.clear()
            blank = checkin_modal(qset, self.themes, {})
            self._blank[key] = blank
        # The blocks are shared between requests and never changed once rendered.
        return {**blank, "private_metadata": json.dumps(metadata, separators=(",", ":"))}


def read_modal(state_values: dict[str, Any]) -> tuple[dict[str, Any], list[str], str]:
    """Answers by question id, chosen themes and visibility from a view's state.values."""
    answers: dict[str, Any] = {}
    themes: list[str] = []
    visibility = Visibility.TEAM.value
    for block_id, actions in state_values.items():
        for element in actions.values():
            value = _element_value(element)
            if block_id.startswith(QUESTION_BLOCK_PREFIX):
                answers[block_id[len(QUESTION_BLOCK_PREFIX) :]] = value
            elif block_id == BlockId.THEMES:
                themes = list(value or [])
            elif block_id == BlockId.VISIBILITY and value:
                visibility = str(value)
    return answers, themes, visibility


def _element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons"):
        option = element.get("selected_option")
        return option.get("value") if option else None
    if kind in ("multi_static_select", "checkboxes"):
        return [o.get("value") for o in element.get("selected_options") or []]
    return element.get("value")


def modal_errors(errors: dict[str, str]) -> dict[str, str]:
    """Map field ids from the domain to the modal's block ids for response_action=errors."""
    fixed = {"themes": BlockId.THEMES.value, "visibility": BlockId.VISIBILITY.value}
    return {fixed.get(k, f"{QUESTION_BLOCK_PREFIX}{k}"): v for k, v in errors.items()}

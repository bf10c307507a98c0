"""Adaptive Cards for Teams: pure functions from the same view-models Slack renders.

Cards are built with the Teams SDK's typed classes (`microsoft_teams.cards`) and sent as
version 1.5, which Teams needs for Action.Execute. One-click actions (Skip, Pause) are
Action.Execute and answer with the updated card; anything with a form opens a dialog (Teams'
modal) through an Action.Submit carrying `msteams: {type: task/fetch}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from microsoft_teams.cards import (
    AdaptiveCard,
    Choice,
    ChoiceSetInput,
    ExecuteAction,
    OpenDialogData,
    SubmitAction,
    SubmitData,
    TextBlock,
    TextInput,
)

from bot.config import Question, QuestionKind, QuestionSet
from bot.domain.checkins import MAX_ANSWER_CHARS, Visibility
from bot.teams.ids import (
    QUESTION_INPUT_PREFIX,
    THEMES_INPUT,
    VISIBILITY_INPUT,
    Dialog,
    Submit,
    Verb,
)
from bot.views import CheckinSavedView, PromptState, PromptView, ReminderView, ReplySavedView

NO_NAMES = "Please don't name or identify the people you support."
CHECKIN_ANY_TIME = "Type **checkin** to me any time to share another."
# Characters Teams' card markdown acts on; a backslash makes each one literal.
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*_[]()#>`~"})


def escape_markdown(text: str) -> str:
    """Make user text literal in a TextBlock (no links, emphasis or headings it didn't mean)."""
    return text.translate(_MARKDOWN)


def text(value: str, **style: Any) -> TextBlock:
    """A wrapped TextBlock (Teams truncates unwrapped text at one line)."""
    return TextBlock(text=value, wrap=True, **style)


def card(*body: Any, actions: Sequence[Any] = (), fallback_text: str = "") -> AdaptiveCard:
    """An Adaptive Card 1.5 with a body and actions."""
    return AdaptiveCard(
        body=list(body), actions=list(actions) or None, fallback_text=fallback_text or None
    )


def open_dialog(title: str, dialog: Dialog, **data: Any) -> SubmitAction:
    """A button that opens one of LearnLoop's dialogs (Teams sends task/fetch)."""
    return SubmitAction(title=title, data=OpenDialogData(dialog.value, data or None))


def execute_verb(title: str, verb: Verb, **data: Any) -> ExecuteAction:
    """A one-click button answered with an updated card (Teams sends adaptiveCard/action).

    Clients without Action.Execute fall back to Action.Submit, which arrives as a message
    carrying the verb; the same handler answers it in the chat.
    """
    fallback = SubmitAction(title=title, data={"verb": verb.value, **data})
    return ExecuteAction(title=title, verb=verb.value, data=data, fallback=fallback)


def card_dict(value: AdaptiveCard) -> dict[str, Any]:
    """The card as Teams receives it (for tests and invoke responses)."""
    return value.model_dump(exclude_none=True)


# --------------------------------------------------------------------------- the prompt


def _prompt_actions(prompt_id: int) -> list[Any]:
    return [
        open_dialog("Share a learning", Dialog.CHECKIN, prompt_id=prompt_id).with_style("positive"),
        execute_verb("Skip this week", Verb.SKIP_WEEK, prompt_id=prompt_id),
        execute_verb("Pause prompts", Verb.PAUSE_PROMPTS, prompt_id=prompt_id),
    ]


def prompt_card(view: PromptView) -> AdaptiveCard:
    """The weekly prompt in its current state, as Slack's prompt_message shows it."""
    if view.state is PromptState.OPEN:
        return card(
            text(escape_markdown(view.question), weight="Bolder", size="Medium"),
            text(
                "One thing that happened this week that you learned from — what helped, what "
                "got in the way. It takes about a minute."
            ),
            text(
                "Or just reply to this message: your reply is saved as a learning that your "
                f"team can see. {NO_NAMES}",
                is_subtle=True,
                size="Small",
            ),
            actions=_prompt_actions(view.prompt_id),
            fallback_text=f"{view.question} {view.alliance_name} would love to hear.",
        )
    if view.state is PromptState.ANSWERED:
        body = [text("✅ **Thank you — your learning is saved.**")]
        if view.redaction_summary:
            body.append(text(view.redaction_summary))
        body.append(text(CHECKIN_ANY_TIME, is_subtle=True))
        actions = _escalate_offer(view.escalate_checkin_id, body)
        return card(*body, actions=actions, fallback_text="Thank you — your learning is saved.")
    if view.state is PromptState.SKIPPED:
        return card(
            text("No problem — skipped this week. See you next time."),
            text("If something comes up, type **checkin** to me any time.", is_subtle=True),
        )
    if view.state is PromptState.EXPIRED:
        return card(
            text("This prompt has closed — a new one comes with the next cycle."),
            text(
                "You can still share a learning any time: type **checkin** to me.", is_subtle=True
            ),
        )
    until = view.paused_until.strftime("%-d %B %Y") if view.paused_until else "further notice"
    return card(
        text(f"⏸ Prompts paused until {until}."),
        text("Type **resume** to me to start again sooner.", is_subtle=True),
    )


def reminder_card(view: ReminderView) -> AdaptiveCard:
    """The one gentle nudge about an unanswered prompt, with the prompt's buttons."""
    return card(
        text(f"**A gentle reminder:** {escape_markdown(view.question)}"),
        text(
            "If something this week taught you anything, it only takes a minute. "
            "This is the only reminder you'll get this week."
        ),
        text(f"Or just reply here. {NO_NAMES}", is_subtle=True, size="Small"),
        actions=_prompt_actions(view.prompt_id),
        fallback_text=f"A gentle reminder: {view.question}",
    )


def _escalate_offer(checkin_id: int | None, body: list[Any]) -> list[Any]:
    """Append the "Escalate this" offer for a check-in that names a barrier; its button."""
    if checkin_id is None:
        return []
    body.append(
        text(
            "What got in the way sounds like a barrier. If it's more than your team can fix, "
            "raise it with the system stewards — you can stay anonymous."
        )
    )
    return [open_dialog("Escalate this", Dialog.ESCALATE, checkin_id=checkin_id)]


def reply_saved_card(view: ReplySavedView) -> AdaptiveCard:
    """The answer to a plain reply: saved (visible to the team), with "Add detail"."""
    said = "Thank you — saved as a learning that your team can see."
    body = [text(f"✅ {said}")]
    if view.redaction_summary:
        body.append(text(view.redaction_summary))
    body.append(text("Add what helped, what got in the way, themes, or who can see it:"))
    actions = [open_dialog("Add detail", Dialog.CHECKIN, checkin_id=view.checkin_id)]
    actions += _escalate_offer(view.escalate_checkin_id, body)
    return card(*body, actions=actions, fallback_text=said)


def checkin_thanks_card(view: CheckinSavedView) -> AdaptiveCard:
    """Thanks for a check-in saved without a prompt message to update."""
    said = "Thank you — your learning is saved."
    if view.redaction_summary:
        said += " " + view.redaction_summary
    body = [text(f"✅ {said}")]
    actions = _escalate_offer(view.escalate_checkin_id, body)
    return card(*body, actions=actions, fallback_text=said)


def launcher_card(lead: str, button: str, dialog: Dialog, **data: Any) -> AdaptiveCard:
    """A short card whose one button opens a dialog (a typed command can't open one itself)."""
    return card(text(lead), actions=[open_dialog(button, dialog, **data)], fallback_text=lead)


# --------------------------------------------------------------------- the check-in form


def _index_choices(options: Sequence[str]) -> list[Choice]:
    # Values are positions, not the text: a multi-select arrives as "0,2", and a theme or
    # choice may itself contain a comma.
    return [Choice(title=o, value=str(i)) for i, o in enumerate(options)]


def _indexes_of(options: Sequence[str], chosen: Any) -> str | None:
    picked = [chosen] if isinstance(chosen, str) else list(chosen or [])
    found = [str(options.index(p)) for p in picked if p in options]
    return ",".join(found) or None


def _question_input(question: Question, prefill: Any) -> Any:
    input_id = f"{QUESTION_INPUT_PREFIX}{question.id}"
    if question.kind in (QuestionKind.LONG_TEXT, QuestionKind.SHORT_TEXT):
        return TextInput(
            id=input_id,
            label=question.label,
            is_multiline=question.kind is QuestionKind.LONG_TEXT,
            max_length=MAX_ANSWER_CHARS,
            placeholder=question.hint,
            value=prefill if isinstance(prefill, str) and prefill else None,
            is_required=question.required or None,
            error_message="Please write a sentence or two — this one is needed."
            if question.required
            else None,
        )
    multiple = question.kind is QuestionKind.MULTIPLE_CHOICE
    return ChoiceSetInput(
        id=input_id,
        label=question.label,
        choices=_index_choices(question.choices),
        is_multi_select=multiple or None,
        style="expanded" if multiple and len(question.choices) <= 10 else "compact",
        placeholder=None if multiple else "Choose one",
        value=_indexes_of(question.choices, prefill),
        is_required=question.required or None,
        error_message="Please choose an answer." if question.required else None,
    )


def _error(message: str | None) -> list[TextBlock]:
    return [text(f"⚠ {message}", color="Attention", size="Small")] if message else []


def checkin_form(
    qset: QuestionSet,
    themes: Sequence[str],
    metadata: Mapping[str, Any],
    prefill: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    *,
    submit: Submit = Submit.CHECKIN,
    submit_title: str = "Save learning",
) -> AdaptiveCard:
    """The "Share a learning" form for a dialog: the same questions as Slack's modal.

    The author's "Edit" sends the same form to its own submit action.
    """
    prefill = prefill or {}
    errors = errors or {}
    answers = prefill.get("answers", {})
    body: list[Any] = [text(f"🔒 {NO_NAMES}", is_subtle=True, size="Small")]
    for question in qset.questions:
        body.append(_question_input(question, answers.get(question.id)))
        body += _error(errors.get(question.id))
    if themes:
        body.append(
            ChoiceSetInput(
                id=THEMES_INPUT,
                label="Themes",
                choices=_index_choices(themes),
                is_multi_select=True,
                style="compact",
                placeholder="Pick any that fit",
                value=_indexes_of(themes, prefill.get("themes", [])),
            )
        )
        body += _error(errors.get("themes"))
    body.append(
        ChoiceSetInput(
            id=VISIBILITY_INPUT,
            label="Who can see this?",
            choices=[Choice(title=v.label, value=v.value) for v in Visibility],
            style="expanded",
            value=str(prefill.get("visibility") or Visibility.TEAM.value),
            is_required=True,
        )
    )
    body.append(
        text(
            "Anonymous learnings are shared without your name; you can still see, export and "
            "delete them.",
            is_subtle=True,
            size="Small",
        )
    )
    body += _error(errors.get("visibility"))
    # Only the form's own ids go back: Teams merges inputs into this data on submit.
    data = {k: v for k, v in metadata.items() if v is not None}
    return card(
        *body,
        actions=[
            SubmitAction(title=submit_title, data=SubmitData(submit.value, data)).with_style(
                "positive"
            )
        ],
        fallback_text="Share a learning",
    )


def _positions(raw: Any, options: Sequence[str]) -> list[str]:
    """Options chosen in a ChoiceSet, from its "0,2" value (unknown positions are ignored)."""
    if raw is None:
        return []
    parts = raw if isinstance(raw, list) else str(raw).split(",")
    chosen: list[str] = []
    for part in parts:
        part = str(part).strip()
        if part.isdigit() and int(part) < len(options) and options[int(part)] not in chosen:
            chosen.append(options[int(part)])
        elif part:
            # Not a position we gave: pass it through so validation names it.
            chosen.append(part)
    return chosen


def read_checkin_form(
    data: Mapping[str, Any], qset: QuestionSet, themes: Sequence[str]
) -> tuple[dict[str, Any], list[str], str]:
    """Answers by question id, chosen themes and visibility from a submitted form."""
    answers: dict[str, Any] = {}
    for question in qset.questions:
        raw = data.get(f"{QUESTION_INPUT_PREFIX}{question.id}")
        if question.kind is QuestionKind.SINGLE_CHOICE:
            picked = _positions(raw, question.choices)
            answers[question.id] = picked[0] if picked else None
        elif question.kind is QuestionKind.MULTIPLE_CHOICE:
            answers[question.id] = _positions(raw, question.choices)
        else:
            answers[question.id] = raw if isinstance(raw, str) else None
    chosen_themes = _positions(data.get(THEMES_INPUT), themes)
    visibility = str(data.get(VISIBILITY_INPUT) or Visibility.TEAM.value)
    return answers, chosen_themes, visibility

"""The weekly prompt, the reminder, the check-in form and the thanks: the words, written once.

Services build the data views below; the builder functions turn them into a neutral `Message`
or `Form` that Slack's and Teams' renderers only lay out. Button and field ids are the ones
both platforms' handlers listen for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.alliance import Question, QuestionKind, QuestionSet
from bot.domain.checkins import MAX_ANSWER_CHARS, Visibility
from bot.views.message import (
    Actions,
    Block,
    Bullets,
    Button,
    ChoiceField,
    ChoiceStyle,
    Form,
    Message,
    Option,
    Paragraph,
    Style,
    Tag,
    TextField,
)
from bot.views.words import Cmd, Command, Emph, Strong, Words, words


class CheckinAction(StrEnum):
    """Ids of the buttons on the prompt, the reminder and the thanks (both platforms)."""

    SHARE_LEARNING = "checkin_open"
    SKIP_WEEK = "prompt_skip"
    PAUSE_PROMPTS = "prompt_pause"
    NOTHING_THIS_WEEK = "prompt_nothing"
    ADD_DETAIL = "checkin_add_detail"
    ESCALATE_CHECKIN = "checkin_escalate"
    # On a saved plain reply: share it wider in one click (value: the check-in id).
    SHARE_ALLIANCE = "checkin_share_alliance"
    SHARE_ANONYMOUS = "checkin_share_anonymous"
    # The form opened from a typed command (its value: any text typed after it).
    WRITE = "checkin"


# The check-in form's id (Slack's callback_id, Teams' submit action) and its field ids.
CHECKIN_FORM = "checkin_modal"
QUESTION_PREFIX = "q_"
THEMES_FIELD = "themes"
VISIBILITY_FIELD = "visibility"
PROMPT_ACTIONS = "prompt_actions"
# What the prompt and reminder carry so a restarted worker can find one it already sent.
PROMPT_TAG = "learnloop_prompt"
REMINDER_TAG = "learnloop_reminder"

NO_NAMES = "Please don't name or identify the people you support."
SAVED = "Thank you — your learning is saved."
REPLY_SAVED = "Thank you — saved as a learning that your team can see."
# What each one-click share on a saved reply makes of it, and how the answer then says so.
SHARE_CHOICES: dict[str, str] = {
    CheckinAction.SHARE_ALLIANCE: "alliance",
    CheckinAction.SHARE_ANONYMOUS: "anonymous",
}
REPLY_SHARED = {
    "alliance": "Thank you — saved and shared with the alliance, with your name and agency.",
    "anonymous": "Thank you — saved and shared with the alliance anonymously: "
    "no name or agency is shown to anyone else.",
}
OUT_OF_DATE = words("That button is out of date. Try ", Cmd(Command.CHECKIN), " instead.")


class PromptState(StrEnum):
    """What the prompt message shows."""

    OPEN = "open"
    ANSWERED = "answered"
    SKIPPED = "skipped"
    PAUSED = "paused"
    EXPIRED = "expired"
    NOTHING = "nothing"  # "Nothing this week": taking part with nothing to share


@dataclass(frozen=True)
class PromptView:
    """The weekly "what did we learn?" DM."""

    prompt_id: int
    alliance_name: str
    question: str
    state: PromptState = PromptState.OPEN
    paused_until: dt.date | None = None
    redaction_summary: str = ""
    # The saved check-in named a barrier, so the thanks offers "Escalate this".
    escalate_checkin_id: int | None = None
    # Questions this cycle's form asks as well (an inquiry's, the purpose question).
    extra_questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderView:
    """The one private nudge about a prompt still unanswered."""

    prompt_id: int
    alliance_name: str
    question: str
    channel: str | None = None


@dataclass(frozen=True)
class ReplySavedView:
    """The answer to a plain DM reply that was stored as a check-in."""

    checkin_id: int
    redaction_summary: str = ""
    notes: list[str] = field(default_factory=list)
    # The saved check-in named a barrier, so the answer offers "Escalate this".
    escalate_checkin_id: int | None = None
    # Set once the author pressed a share button: the visibility it now has.
    shared: str | None = None


@dataclass(frozen=True)
class CheckinSavedView:
    """The thanks DM after a check-in saved without a prompt message to update."""

    checkin_id: int
    redaction_summary: str = ""
    escalate_checkin_id: int | None = None


# --------------------------------------------------------------------------- messages


def _prompt_buttons(prompt_id: int) -> Actions:
    """The prompt's four buttons (also on the reminder)."""
    value = str(prompt_id)
    return Actions(
        (
            Button(
                "Share a learning",
                CheckinAction.SHARE_LEARNING,
                value,
                Style.PRIMARY,
                opens_form=True,
            ),
            # Took part, nothing to report: never reminded, nothing stored but that.
            Button("Nothing this week", CheckinAction.NOTHING_THIS_WEEK, value),
            Button("Skip this week", CheckinAction.SKIP_WEEK, value),
            Button("Pause prompts", CheckinAction.PAUSE_PROMPTS, value),
        ),
        id=PROMPT_ACTIONS,
    )


def _escalate_offer(checkin_id: int | None) -> tuple[Block, ...]:
    """The "Escalate this" offer with thanks for a check-in that names a barrier."""
    if checkin_id is None:
        return ()
    return (
        Paragraph(
            words(
                "What got in the way sounds like a barrier. If it's more than your team can "
                "fix, raise it with the system stewards — you can stay anonymous."
            )
        ),
        Actions(
            (
                Button(
                    "Escalate this",
                    CheckinAction.ESCALATE_CHECKIN,
                    str(checkin_id),
                    opens_form=True,
                ),
            )
        ),
    )


def _date(day: dt.date) -> str:
    return f"{day:%-d %B %Y}"


def prompt_message(view: PromptView) -> Message:
    """The weekly prompt in its current state."""
    tag = Tag(PROMPT_TAG, {"prompt_id": view.prompt_id})
    if view.state is PromptState.OPEN:
        blocks: list[Block] = [
            Paragraph(
                words(
                    Strong(view.question),
                    "\nOne thing that happened this week that you learned from — what helped, "
                    "what got in the way. It takes about a minute.",
                )
            )
        ]
        if view.extra_questions:
            blocks.append(Paragraph(words("This time the form also asks:")))
            blocks.append(Bullets(tuple(words(Emph(q)) for q in view.extra_questions)))
        blocks.append(
            Paragraph(
                words(
                    "Or just reply to this message: your reply is saved as a learning that "
                    f"your team can see. {NO_NAMES}"
                ),
                subtle=True,
            )
        )
        blocks.append(_prompt_buttons(view.prompt_id))
        summary = words(f"{view.question} {view.alliance_name} would love to hear.")
        return Message(summary, tuple(blocks), tag=tag)
    if view.state is PromptState.ANSWERED:
        lines = [words("✅ ", Strong(SAVED))]
        if view.redaction_summary:
            lines.append(words(view.redaction_summary))
        lines.append(words("You can share another any time with ", Cmd(Command.CHECKIN), "."))
        return Message(
            words(SAVED),
            (
                *(Paragraph(line) for line in lines),
                *_escalate_offer(view.escalate_checkin_id),
            ),
            tag=tag,
        )
    if view.state is PromptState.NOTHING:
        # It counts as taking part; nothing is stored but the answer itself.
        said = "Thanks — noted: nothing to share this week. That counts as taking part."
        more = words("If something comes up, ", Cmd(Command.CHECKIN), " works any time.")
        return _closed(words(said), words("👌 ", said), more, tag)
    if view.state is PromptState.SKIPPED:
        said = "No problem — skipped this week. See you next time."
        more = words("If something comes up, ", Cmd(Command.CHECKIN), " works any time.")
        return _closed(words(said), words(said), more, tag)
    if view.state is PromptState.EXPIRED:
        # The next cycle has started; the buttons would answer last week's prompt.
        said = "This prompt has closed — a new one comes with the next cycle."
        more = words("You can still share a learning any time with ", Cmd(Command.CHECKIN), ".")
        return _closed(words(said), words(said), more, tag)
    until = _date(view.paused_until) if view.paused_until else "further notice"
    said = f"Prompts paused until {until}."
    more = words("Type ", Cmd(Command.RESUME), " to start again sooner.")
    return _closed(words(said), words("⏸ ", said), more, tag)


def _closed(summary: Words, said: Words, more: Words, tag: Tag) -> Message:
    return Message(summary, (Paragraph(said), Paragraph(more, subtle=True)), tag=tag)


def reminder_message(view: ReminderView) -> Message:
    """The one gentle nudge about an unanswered prompt, with the prompt's buttons."""
    return Message(
        words(f"A gentle reminder: {view.question}"),
        (
            Paragraph(
                words(
                    Strong("A gentle reminder:"),
                    f" {view.question}\nIf something this week taught you anything, it only "
                    "takes a minute. This is the only reminder you'll get this week.",
                )
            ),
            Paragraph(words(f"Or just reply here. {NO_NAMES}"), subtle=True),
            _prompt_buttons(view.prompt_id),
        ),
        tag=Tag(REMINDER_TAG, {"prompt_id": view.prompt_id}),
    )


def reply_saved_message(view: ReplySavedView) -> Message:
    """The answer to a plain reply: saved (visible to the team), "Add detail", share wider.

    Once shared, the same message says with whom, and the share buttons are gone.
    """
    said = REPLY_SHARED.get(view.shared or "", REPLY_SAVED)
    lines = [words(f"✅ {said}")]
    if view.redaction_summary:
        lines.append(words(view.redaction_summary))
    detail = Button("Add detail", CheckinAction.ADD_DETAIL, str(view.checkin_id), opens_form=True)
    row: list[Button] = [detail]
    if view.shared is None:
        lines.append(words("Add what helped, what got in the way, themes, or who can see it:"))
        lines.append(
            words("Or let the whole alliance learn from it — you can change this any time:")
        )
        row += [
            Button("Share with the alliance", CheckinAction.SHARE_ALLIANCE, str(view.checkin_id)),
            Button(
                "Share with the alliance anonymously",
                CheckinAction.SHARE_ANONYMOUS,
                str(view.checkin_id),
            ),
        ]
    else:
        lines.append(words("Add what helped, what got in the way or themes:"))
    offer = _escalate_offer(view.escalate_checkin_id)
    if offer:
        # One row of buttons at the end: "Add detail" and sharing beside "Escalate this".
        escalate = offer[-1]
        assert isinstance(escalate, Actions)
        buttons: tuple[Block, ...] = (offer[0], Actions((*row, *escalate.buttons)))
    else:
        buttons = (Actions(tuple(row)),)
    return Message(words(said), (*(Paragraph(line) for line in lines), *buttons))


def checkin_thanks_message(view: CheckinSavedView) -> Message:
    """Thanks for a check-in saved without a prompt message to update."""
    said = SAVED + (" " + view.redaction_summary if view.redaction_summary else "")
    return Message(
        words(said),
        (Paragraph(words(f"✅ {said}")), *_escalate_offer(view.escalate_checkin_id)),
    )


def launcher_message(lead: str, button: Button) -> Message:
    """A short message whose one button opens a form (a typed command can't open one itself)."""
    return Message(words(lead), (Paragraph(words(lead)), Actions((button,))))


def checkin_launcher(text: str = "") -> Message:
    """The answer to the check-in command where a form can only open from a button."""
    return launcher_message(
        "Share a learning: what happened, what helped, what got in the way.",
        Button("Share a learning", CheckinAction.WRITE, text, Style.PRIMARY, opens_form=True),
    )


# ------------------------------------------------------------------------------- form

ANONYMOUS_NOTE = (
    "Anonymous learnings are shared without your name; you can still see, export and delete them."
)


def question_field(question: Question) -> str:
    """The form field id of a question."""
    return f"{QUESTION_PREFIX}{question.id}"


def field_of(key: str) -> str:
    """The form field a domain error key belongs to (a question id, "themes", "visibility")."""
    return key if key in (THEMES_FIELD, VISIBILITY_FIELD) else f"{QUESTION_PREFIX}{key}"


def _positions(options: Sequence[str]) -> tuple[Option, ...]:
    # Values are positions, not the text: Teams sends a multi-select as "0,2", and a theme or
    # choice may itself contain a comma (and be longer than Slack takes as a value).
    return tuple(Option(str(i), o) for i, o in enumerate(options))


def _chosen(options: Sequence[str], picked: Any) -> tuple[str, ...]:
    wanted = [picked] if isinstance(picked, str) else list(picked or [])
    return tuple(str(options.index(p)) for p in wanted if p in options)


def _question(question: Question, prefill: Any) -> TextField | ChoiceField:
    fid = question_field(question)
    hint = words(question.hint) if question.hint else None
    if question.kind in (QuestionKind.LONG_TEXT, QuestionKind.SHORT_TEXT):
        return TextField(
            fid,
            question.label,
            hint=hint,
            multiline=question.kind is QuestionKind.LONG_TEXT,
            optional=not question.required,
            initial=prefill if isinstance(prefill, str) else "",
            max_length=MAX_ANSWER_CHARS,
        )
    if question.kind is QuestionKind.SINGLE_CHOICE:
        style, placeholder = ChoiceStyle.SELECT, "Choose one"
    elif len(question.choices) <= 10:
        style, placeholder = ChoiceStyle.CHECKBOXES, ""
    else:
        style, placeholder = ChoiceStyle.MULTI_SELECT, "Choose any"
    return ChoiceField(
        fid,
        question.label,
        _positions(question.choices),
        style=style,
        optional=not question.required,
        initial=_chosen(question.choices, prefill),
        hint=hint,
        placeholder=placeholder,
    )


@dataclass(frozen=True)
class CheckinForm:
    """The check-in form for one question set and theme list, and how to read it back.

    Built once per question set and config version (see `checkin_form`); `form(...)` adds
    what differs between two people's forms (what they typed, their errors, the state).
    """

    qset: QuestionSet
    themes: tuple[str, ...]
    blank: Form

    @classmethod
    def build(
        cls,
        qset: QuestionSet,
        themes: Sequence[str],
        prefill: Mapping[str, Any] | None = None,
        *,
        form_id: str = CHECKIN_FORM,
        title: str = "Share a learning",
        submit: str = "Save learning",
    ) -> CheckinForm:
        """The form for `qset`, optionally pre-filled with answers, themes and visibility."""
        prefill = prefill or {}
        answers = prefill.get("answers") or {}
        items: list[Block | TextField | ChoiceField] = [
            Paragraph(words(f"🔒 {NO_NAMES}"), subtle=True)
        ]
        items += [_question(q, answers.get(q.id)) for q in qset.questions]
        if themes:
            items.append(
                ChoiceField(
                    THEMES_FIELD,
                    "Themes",
                    _positions(themes),
                    style=ChoiceStyle.MULTI_SELECT,
                    optional=True,
                    initial=_chosen(themes, prefill.get("themes")),
                    placeholder="Pick any that fit",
                )
            )
        current = str(prefill.get("visibility") or Visibility.TEAM.value)
        items.append(
            ChoiceField(
                VISIBILITY_FIELD,
                "Who can see this?",
                tuple(Option(v.value, v.label) for v in Visibility),
                style=ChoiceStyle.RADIO,
                initial=(current,),
                hint=words(ANONYMOUS_NOTE),
            )
        )
        form = Form(form_id, title, submit, tuple(items))
        return cls(qset=qset, themes=tuple(themes), blank=form)

    def form(
        self,
        state: str = "",
        errors: Mapping[str, str] | None = None,
        prefill: Mapping[str, Any] | None = None,
    ) -> Form:
        """The form to show: pre-filled afresh when there is something to fill in."""
        base = self.blank
        if prefill:
            base = CheckinForm.build(
                self.qset,
                self.themes,
                prefill,
                form_id=base.id,
                title=base.title,
                submit=base.submit,
            ).blank
        return Form(
            base.id,
            base.title,
            base.submit,
            base.items,
            close=base.close,
            state=state,
            errors=errors_for(errors or {}),
        )

    def read(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], str]:
        """Answers by question id, chosen themes and visibility from what was submitted."""
        return read_checkin(self.qset, self.themes, values)


def read_checkin(
    qset: QuestionSet, themes: Sequence[str], values: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str], str]:
    """Answers by question id, chosen themes and visibility from a submitted check-in form.

    `values` are by field id, as a renderer read them (choices as positions, a list or
    Teams' "0,2").
    """
    answers: dict[str, Any] = {}
    for question in qset.questions:
        raw = values.get(question_field(question))
        if question.kind is QuestionKind.SINGLE_CHOICE:
            picked = _from_positions(raw, question.choices)
            answers[question.id] = picked[0] if picked else None
        elif question.kind is QuestionKind.MULTIPLE_CHOICE:
            answers[question.id] = _from_positions(raw, question.choices)
        else:
            answers[question.id] = raw if isinstance(raw, str) else None
    chosen = _from_positions(values.get(THEMES_FIELD), themes)
    visibility = values.get(VISIBILITY_FIELD)
    return answers, chosen, str(visibility or Visibility.TEAM.value)


def errors_for(errors: Mapping[str, str]) -> dict[str, str]:
    """Domain validation errors (by question id, "themes", "visibility") by form field."""
    return {field_of(key): message for key, message in errors.items()}


def _from_positions(raw: Any, options: Sequence[str]) -> list[str]:
    """Options chosen, from their positions (anything else passes through to be validated)."""
    if raw is None:
        return []
    parts = raw if isinstance(raw, list) else str(raw).split(",")
    chosen: list[str] = []
    for part in parts:
        text = str(part).strip()
        if text.isdigit() and int(text) < len(options):
            picked = options[int(text)]
        elif text:
            # Not a position we gave (a form opened before positions were used, a forged
            # value): passed on as it is, so validation accepts a real choice or names it.
            picked = text
        else:
            continue
        if picked not in chosen:
            chosen.append(picked)
    return chosen


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


MAX_FORMS = 256  # sets x (running inquiry, purpose question) x versions: a handful in practice
_forms: dict[tuple[Any, ...], CheckinForm] = {}


def checkin_form(version: str, qset: QuestionSet, themes: Sequence[str]) -> CheckinForm:
    """The blank check-in form for `qset`, built once per question set and config version.

    A burst of "Share a learning" clicks would otherwise build the same fields for every
    click; the form is immutable, so every request may share it.
    """
    key = (version, qset.id, tuple(themes), *(_question_key(q) for q in qset.questions))
    form = _forms.get(key)
    if form is None:
        if len(_forms) >= MAX_FORMS:
            _forms.clear()
        form = CheckinForm.build(qset, themes)
        _forms[key] = form
    return form


# ------------------------------------------------------------------------------ pause

RESUMED = "Welcome back — your weekly prompt is on again."


def paused_words(until: dt.date) -> Words:
    """The answer to the pause command: until when, and how to start again sooner."""
    return words(
        f"Paused: no prompts until {_date(until)}. Type ",
        Cmd(Command.RESUME),
        " to start them sooner.",
    )


def reply_not_saved(problems: Sequence[str]) -> Words:
    """Why a plain reply could not be stored, and the form that can take it instead."""
    return words(
        "I couldn't save that as a learning: ",
        " ".join(problems),
        " You can use ",
        Cmd(Command.CHECKIN),
        " to write it in a form.",
    )

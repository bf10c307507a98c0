"""The barrier register's messages and forms, written once for every platform.

The data views here are what the register service builds from what is stored; the builder
functions turn them into neutral `Message`s and `Form`s with every sentence, label and button
of the barrier family: the card, the pointer it becomes when its barrier moves up, the notices
to raisers, linkers and new owners, `/barriers` lists, the weekly stale reminder, and the
"Raise a barrier" and steward forms. Slack and Teams only lay them out.

No view ever carries an anonymous raiser's identity (the service leaves it out), so no message
built here can show it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain.escalation import (
    MAX_AFFECTED_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_NOTE_CHARS,
    MAX_TITLE_CHARS,
    Action,
)
from bot.domain.platforms import platform_of
from bot.views.message import (
    Actions,
    Block,
    Bullets,
    Button,
    ChoiceField,
    ChoiceStyle,
    Facts,
    Form,
    Heading,
    Message,
    Option,
    Paragraph,
    PersonField,
    Style,
    TextField,
)
from bot.views.words import Channel, Cmd, Command, Link, Literal, Mention, Strong, Words, words

# ------------------------------------------------------------------------------ data views


@dataclass(frozen=True)
class BarrierChangeView:
    """The latest thing that happened to a barrier, for its card."""

    kind: str
    at: dt.datetime
    actor_user_id: str | None = None
    to_level_name: str | None = None


@dataclass(frozen=True)
class BarrierCardView:
    """A barrier's card in its ladder level's channel. Never carries an anonymous raiser."""

    barrier_id: int
    version: int
    title: str
    description: str
    status: str
    status_label: str
    level_name: str
    raised_on: dt.date
    who_is_affected: str | None = None
    agency_names: list[str] = field(default_factory=list)
    owner_user_id: str | None = None
    # None whenever the raiser asked not to be named: builders have nothing to leak.
    raised_by_user_id: str | None = None
    linked_checkins: int = 0
    outcome: str | None = None
    last_change: BarrierChangeView | None = None
    # Action values a steward may take now, in order (see bot.domain.escalation).
    actions: list[str] = field(default_factory=list)
    next_level_name: str | None = None
    note: str = ""


@dataclass(frozen=True)
class BarrierPointerView:
    """What a card turns into when its barrier moves up a level: a pointer to the new card."""

    barrier_id: int
    title: str
    to_level_name: str
    to_channel: str
    at: dt.datetime
    actor_user_id: str | None = None
    card_url: str | None = None


@dataclass(frozen=True)
class BarrierNoticeView:
    """A DM to someone who raised a barrier or linked a check-in to it: what just happened."""

    barrier_id: int
    title: str
    kind: str
    level_name: str
    as_raiser: bool = True
    anonymous: bool = False
    actor_user_id: str | None = None
    owner_user_id: str | None = None
    note: str | None = None
    redaction_summary: str = ""
    card_url: str | None = None
    # Someone with no chat account who follows the barrier by e-mail.
    as_contact: bool = False


@dataclass(frozen=True)
class BarrierLine:
    """One barrier in a list (`/barriers`, stale reminders)."""

    barrier_id: int
    title: str
    status_label: str
    level_name: str
    days_since_change: int
    owner_user_id: str | None = None
    card_url: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class BarrierListView:
    """The answer to `/barriers`: a compact list with links to the cards."""

    heading: str
    lines: list[BarrierLine]
    total: int
    empty_text: Words | str


@dataclass(frozen=True)
class StaleBarriersView:
    """The weekly reminder in a level's channel of barriers that have not moved."""

    level_name: str
    stale_days: int
    lines: list[BarrierLine]


@dataclass(frozen=True)
class EscalateFormView:
    """The "Raise a barrier" form: choices from the config and the raiser's check-ins."""

    levels: list[tuple[str, str]]
    agencies: list[tuple[str, str]]
    recent_checkins: list[tuple[int, str]] = field(default_factory=list)
    title: str = ""
    description: str = ""
    linked: list[int] = field(default_factory=list)
    source_checkin_id: int | None = None
    # Raised from "Barriers we keep meeting": the agencies to tick, and others' check-ins
    # (answers the steward may read) that the barrier will link.
    chosen_agencies: list[str] = field(default_factory=list)
    shared_checkin_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class BarrierRef:
    """What a steward's form needs: which barrier, the version they saw, its title."""

    barrier_id: int
    version: int
    title: str


# ------------------------------------------------------------------------------ ids


class BarrierAction(StrEnum):
    """Ids of the family's buttons; Slack and Teams handlers listen for these."""

    ACKNOWLEDGE = "barrier_acknowledge"
    ASSIGN = "barrier_assign"
    ESCALATE = "barrier_escalate_up"
    RESOLVE = "barrier_resolve"
    CLOSE = "barrier_close"
    # Opens a barrier's card from a list, where a platform can't link to the card itself.
    SHOW = "barrier_show"
    # Opens "Raise a barrier" (Teams answers `escalate` with a button; Slack opens it at once).
    RAISE = "escalate"


class BarrierForm(StrEnum):
    """Ids of the family's forms (the submit handler is chosen by them)."""

    ESCALATE = "escalate_modal"
    ASSIGN = "barrier_assign_modal"
    RESOLVE = "barrier_resolve_modal"
    CLOSE = "barrier_close_modal"


class BarrierField(StrEnum):
    """Ids of the forms' fields (errors are pinned to them)."""

    TITLE = "barrier_title"
    DESCRIPTION = "barrier_description"
    AFFECTED = "barrier_affected"
    AGENCIES = "barrier_agencies"
    LEVEL = "barrier_level"
    CHECKINS = "barrier_checkins"
    ANONYMOUS = "barrier_anonymous"
    OWNER = "barrier_owner"
    NOTE = "barrier_note"


ACTIONS_BLOCK = "barrier_actions"
ANONYMOUS_VALUE = "anonymous"
NAMED_VALUE = "named"
ANONYMOUS_RAISER = "Someone who asked not to be named"
NO_NAMES = "Please don't name or identify the people you support."
OUT_OF_DATE = "This form is out of date; close it and retry."

STATUS_MARK = {
    "open": "🔴",
    "acknowledged": "🟡",
    "in_progress": "🔵",
    "resolved": "✅",
    "closed": "⚪",
}
# Lists show this many lines (titles cut to LINE_TITLE_CHARS), so one message always holds them.
MAX_LIST_LINES = 40
# Platforms show a message's buttons in one row: more than this many "Open" buttons is noise.
MAX_OPEN_BUTTONS = 25
LINE_TITLE_CHARS = 80
LONG_TEXT_CHARS = 2800
AGENCIES_CHARS = 1900
FORM_TITLE_CHARS = 200
MAX_CHECKIN_CHOICES = 10

# Which form field a domain error key belongs to.
_ERROR_FIELDS: dict[str, BarrierField] = {
    "title": BarrierField.TITLE,
    "description": BarrierField.DESCRIPTION,
    "who_is_affected": BarrierField.AFFECTED,
    "agencies": BarrierField.AGENCIES,
    "level": BarrierField.LEVEL,
    "checkins": BarrierField.CHECKINS,
    "anonymous": BarrierField.ANONYMOUS,
    "owner": BarrierField.OWNER,
    "outcome": BarrierField.NOTE,
    "reason": BarrierField.NOTE,
    "note": BarrierField.NOTE,
}
_BUTTONS: dict[Action, tuple[BarrierAction, Style, bool]] = {
    Action.ACKNOWLEDGE: (BarrierAction.ACKNOWLEDGE, Style.PRIMARY, False),
    Action.ASSIGN: (BarrierAction.ASSIGN, Style.DEFAULT, True),
    Action.ESCALATE: (BarrierAction.ESCALATE, Style.DEFAULT, False),
    Action.RESOLVE: (BarrierAction.RESOLVE, Style.DEFAULT, True),
    Action.CLOSE: (BarrierAction.CLOSE, Style.DEFAULT, True),
}
# The steward actions that ask for words first, and the form each opens.
FORM_ACTIONS: dict[BarrierAction, Action] = {
    BarrierAction.ASSIGN: Action.ASSIGN,
    BarrierAction.RESOLVE: Action.RESOLVE,
    BarrierAction.CLOSE: Action.CLOSE,
}
STEWARD_FORMS: dict[BarrierForm, Action] = {
    BarrierForm.ASSIGN: Action.ASSIGN,
    BarrierForm.RESOLVE: Action.RESOLVE,
    BarrierForm.CLOSE: Action.CLOSE,
}
ONE_CLICK_ACTIONS: dict[BarrierAction, Action] = {
    BarrierAction.ACKNOWLEDGE: Action.ACKNOWLEDGE,
    BarrierAction.ESCALATE: Action.ESCALATE,
}


# ------------------------------------------------------------------------------ helpers


def person(user_id: str) -> Mention:
    """Someone by id; where a platform can't name them, which platform they are on."""
    where = "Teams" if platform_of(user_id) == "teams" else "Slack"
    return Mention(user_id, fallback=f"a colleague on {where}")


def day(when: dt.date | dt.datetime) -> str:
    """A date as the register writes it: 1 Dec 2026."""
    return when.strftime("%-d %b %Y")


def cut(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plural(count: int, noun: str) -> str:
    """ "1 linked check-in", "2 linked check-ins"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def button_value(barrier_id: int, version: int) -> str:
    """What a card's buttons carry: the barrier and the version the steward saw."""
    return f"{barrier_id}:{version}"


def parse_button_value(value: str) -> tuple[int, int | None]:
    """The barrier id and seen version from a button value (ValueError if malformed)."""
    head, _, tail = value.partition(":")
    return int(head), int(tail) if tail else None


def out_of_date_button() -> Words:
    """What a stale or forged button is answered with."""
    return words("That button is out of date. Try ", Cmd(Command.BARRIERS), " to find the barrier.")


def action_label(action: Action, next_level_name: str | None) -> str:
    """What a steward button says."""
    return {
        Action.ACKNOWLEDGE: "Acknowledge",
        Action.ASSIGN: "Assign",
        Action.ESCALATE: f"Escalate up to {next_level_name or 'the next level'}",
        Action.RESOLVE: "Resolve",
        Action.CLOSE: "Close",
    }[action]


# ------------------------------------------------------------------------------ the card


def change_line(change: BarrierChangeView | None) -> Words:
    """ "Last change: Moved up to Steward group by @sam on 1 Dec 2026"."""
    if change is None:
        return Words()
    what = {
        "raised": "Raised",
        "acknowledged": "Acknowledged",
        "assigned": "Assigned",
        "escalated": f"Moved up to {change.to_level_name or 'the next level'}",
        "resolved": "Resolved",
        "closed": "Closed",
    }.get(change.kind, change.kind.capitalize())
    by = words(" by ", person(change.actor_user_id)) if change.actor_user_id else None
    return words("Last change: ", what, by, f" on {day(change.at)}")


def barrier_card(view: BarrierCardView) -> Message:
    """A barrier's card: what it is, where it is, who has it, and the steward buttons."""
    title = f"Barrier #{view.barrier_id}: {view.title}"
    owner = person(view.owner_user_id) if view.owner_user_id else "Nobody yet"
    raised_by = person(view.raised_by_user_id) if view.raised_by_user_id else ANONYMOUS_RAISER
    agencies = cut(", ".join(view.agency_names), AGENCIES_CHARS) or "Not said"
    blocks: list[Block] = [
        Heading(title),
        Paragraph(
            words(Strong("What gets in the way"), "\n", cut(view.description, LONG_TEXT_CHARS))
        ),
        Facts(
            (
                ("Status", words(f"{STATUS_MARK.get(view.status, '')} {view.status_label}")),
                ("Level", words(view.level_name)),
                ("Owner", words(owner)),
                ("Raised by", words(raised_by)),
                ("Agencies affected", words(agencies)),
            )
        ),
    ]
    if view.who_is_affected:
        blocks.append(
            Paragraph(
                words(Strong("Who is affected"), "\n", cut(view.who_is_affected, LONG_TEXT_CHARS))
            )
        )
    if view.outcome:
        heading = "What we did" if view.status == "resolved" else "Why it was closed"
        blocks.append(Paragraph(words(Strong(heading), "\n", cut(view.outcome, LONG_TEXT_CHARS))))
    context: list[Words] = [words(f"Raised {day(view.raised_on)}")]
    if view.linked_checkins:
        context.append(words(plural(view.linked_checkins, "linked check-in")))
    if view.last_change is not None:
        context.append(change_line(view.last_change))
    blocks.append(Paragraph(_dotted(context), subtle=True))
    if view.note:
        blocks.append(Paragraph(words(f"⚠ {view.note}"), subtle=True))
    buttons = []
    for raw in view.actions:
        action = Action(raw)
        action_id, style, opens_form = _BUTTONS[action]
        buttons.append(
            Button(
                label=cut(action_label(action, view.next_level_name), 75),
                action=action_id,
                value=button_value(view.barrier_id, view.version),
                style=style,
                opens_form=opens_form,
            )
        )
    if buttons:
        blocks.append(Actions(tuple(buttons), id=ACTIONS_BLOCK))
    summary = words(f"{title} — {view.status_label} ({view.level_name})")
    return Message(summary, tuple(blocks))


def barrier_pointer(view: BarrierPointerView) -> Message:
    """What a card becomes in the old channel once its barrier moved up."""
    channel = Channel(view.to_channel, "that level's channel")
    by = words(" by ", person(view.actor_user_id)) if view.actor_user_id else None
    there: Link | str = Link(view.card_url, "follow it there") if view.card_url else ""
    line = words(
        "⬆ ",
        Strong(f"Barrier #{view.barrier_id}: {view.title}"),
        " moved up to ",
        Strong(view.to_level_name),
        by,
        f" on {day(view.at)}. It continues in ",
        channel,
        words(" — ", there) if there else None,
        ".",
    )
    summary = words(
        f"Barrier #{view.barrier_id} moved up to {view.to_level_name} — it continues in ",
        channel,
        ".",
    )
    return Message(summary, (Paragraph(line),))


def not_posted_note(level_name: str, code: str) -> str:
    """The card's note when the next level's channel refused it (the old card stays live)."""
    return (
        f"This barrier moved up to {level_name}, but LearnLoop couldn't post in its channel "
        f"({code}). Please invite LearnLoop there; meanwhile the card stays here."
    )


# ------------------------------------------------------------------------------ notices


def barrier_notice(view: BarrierNoticeView) -> Message:
    """The DM to a raiser, a linked check-in's author or a new owner: what just happened."""
    title = f"“{view.title}”"
    level = Strong(view.level_name)
    by = words(" by ", person(view.actor_user_id)) if view.actor_user_id else None
    if view.as_contact:
        about = f"The barrier {title}, which you asked to hear about,"
    elif view.as_raiser:
        about = f"Your barrier {title}"
    else:
        about = f"The barrier {title}, which your check-in is linked to,"
    note = view.note or ""
    lines: list[Words]
    if view.kind == "raised":
        lines = [
            words(
                f"📣 Thank you — {about[0].lower()}{about[1:]} is now with ",
                level,
                ". I'll message you each time it moves.",
            )
        ]
        if view.anonymous:
            lines.append(words("Stewards can't see that it was you who raised it."))
        if view.redaction_summary:
            lines.append(words(view.redaction_summary))
    elif view.kind == "acknowledged":
        lines = [words(f"👀 {about} was acknowledged", by, " at ", level, ".")]
    elif view.kind == "assigned":
        owner = person(view.owner_user_id) if view.owner_user_id else "a steward"
        lines = [words(f"🛠 {about} is now being worked on by ", owner, " at ", level, ".")]
    elif view.kind == "escalated":
        lines = [
            words(f"⬆ {about} has gone up to ", level, by, ": it needs a level that can change it.")
        ]
    elif view.kind == "resolved":
        lines = [
            words(f"✅ {about} is resolved", by, "."),
            words(Strong("What we did:"), " ", note),
        ]
    elif view.kind == "assigned_to_you":
        asker = person(view.actor_user_id) if view.actor_user_id else "A steward"
        lines = [words("👋 ", asker, f" asked you to own the barrier {title} at ", level, ".")]
        if view.card_url:
            lines.append(words(Link(view.card_url, "Open the card"), " to see it and update it."))
        else:
            lines.append(
                words(Cmd(Command.BARRIERS, "mine"), " lists it, so you can open and update it.")
            )
    elif view.kind == "closed":
        lines = [
            words(f"⚪ {about} was closed without a change", by, "."),
            words(Strong("Why:"), " ", note),
        ]
    else:
        lines = [words(f"{about} changed: {view.kind}.")]
    if view.kind != "raised" and view.note and view.kind not in ("resolved", "closed"):
        lines.append(words(f"Note: {note}"))
    if view.kind != "assigned_to_you":
        lines.append(words(Cmd(Command.BARRIERS, "mine"), " lists every barrier you're part of."))
    text = _joined(lines, "\n")
    return Message(_unstrong(lines[0]), (Paragraph(_cut_words(text, 2900)),))


# ------------------------------------------------------------------------------ lists


def _age(days: int) -> str:
    if days <= 0:
        return "changed today"
    return f"{plural(days, 'day')} since the last change"


def barrier_line(line: BarrierLine) -> Words:
    """One barrier on one line: its card, status, level, owner, age."""
    name = f"#{line.barrier_id} {cut(line.title, LINE_TITLE_CHARS)}"
    parts: list[Words] = [
        words(Link(line.card_url, name) if line.card_url else Strong(name)),
        words(line.status_label),
        words(line.level_name),
    ]
    if line.owner_user_id:
        parts.append(words("owner ", person(line.owner_user_id)))
    if not line.card_url and line.channel:
        parts.append(words("in ", Channel(line.channel, "its level's channel")))
    parts.append(words(_age(line.days_since_change)))
    return _dotted(parts)


def _open_buttons(lines: Sequence[BarrierLine]) -> list[Block]:
    buttons = tuple(
        Button(
            label=f"Open #{line.barrier_id}", action=BarrierAction.SHOW, value=str(line.barrier_id)
        )
        for line in lines[:MAX_OPEN_BUTTONS]
    )
    return [Actions(buttons)] if buttons else []


def barrier_list(view: BarrierListView, *, open_buttons: bool = False) -> Message:
    """The answer to `/barriers`: a compact list, each barrier one step from its card.

    `open_buttons` adds an "Open #n" button per barrier, for a platform whose people can't
    follow a link to a card where it lives (Teams: a card may be in Slack, or in a channel
    the bot can't link to).
    """
    if not view.lines:
        empty = words(view.empty_text)
        return Message(empty, (Paragraph(empty),))
    shown = view.lines[:MAX_LIST_LINES]
    blocks: list[Block] = [
        Paragraph(words(Strong(view.heading), f" ({view.total})")),
        Bullets(tuple(barrier_line(line) for line in shown)),
    ]
    if len(shown) < view.total:
        blocks.append(
            Paragraph(
                words(
                    f"Showing the {len(shown)} most recently changed. ",
                    Literal("learnloop barriers export"),
                    " lists them all.",
                ),
                subtle=True,
            )
        )
    if open_buttons:
        blocks += _open_buttons(shown)
    return Message(words(f"{view.heading} ({view.total})"), tuple(blocks))


def stale_barriers(view: StaleBarriersView, *, open_buttons: bool = False) -> Message:
    """The weekly reminder of barriers that have not moved, in a level's channel."""
    weeks = view.stale_days // 7
    said = (
        f"{plural(len(view.lines), 'barrier')} at {view.level_name} haven't moved for "
        f"{weeks} weeks or more."
    )
    shown = view.lines[:MAX_LIST_LINES]
    blocks: list[Block] = [
        Paragraph(
            words(
                "⏳ ",
                Strong(said),
                " Each one is waiting on someone here: acknowledge, assign, move up, resolve "
                "or close it from its card.",
            )
        ),
        Bullets(tuple(barrier_line(line) for line in shown)),
    ]
    if len(shown) < len(view.lines):
        blocks.append(
            Paragraph(words(Cmd(Command.BARRIERS, "stale"), " lists the rest."), subtle=True)
        )
    if open_buttons:
        blocks += _open_buttons(shown)
    return Message(words(said), tuple(blocks))


# ------------------------------------------------------------------------------ commands


def escalate_usage() -> Words:
    """What `/escalate help` says."""
    return words(
        Cmd(Command.ESCALATE, "[what gets in the way]"),
        " opens a form to raise a barrier that your team can't remove, for the system stewards "
        "to take up. You can stay anonymous, and you'll hear each time it moves. ",
        Cmd(Command.BARRIERS),
        " lists them.",
    )


def barriers_usage() -> Words:
    """What `/barriers help` (or a word it doesn't know) says."""
    return words(
        "Try ",
        Cmd(Command.BARRIERS),
        " (open ones), ",
        Cmd(Command.BARRIERS, "mine"),
        " (ones you raised, own or linked a check-in to), ",
        Cmd(Command.BARRIERS, "stale"),
        " (no change for 2 weeks) or ",
        Cmd(Command.BARRIERS, "all"),
        ".",
    )


def unknown_filter(which: str) -> Words:
    """`/barriers` given a word it doesn't know."""
    return words("I don't know ", Cmd(Command.BARRIERS, which), ". ", barriers_usage())


def raise_launcher(text: str = "") -> Message:
    """A button that opens "Raise a barrier", for a platform that can't open a form at once."""
    intro = words("Raise a barrier your team can't remove, for the system stewards to take up.")
    button = Button(
        label="Raise a barrier",
        action=BarrierAction.RAISE,
        value=text,
        style=Style.PRIMARY,
        opens_form=True,
    )
    return Message(intro, (Paragraph(intro), Actions((button,))))


# ------------------------------------------------------------------------------ forms


def escalate_form(
    view: EscalateFormView,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Form:
    """The "Raise a barrier" form; `values` puts back what was typed when it comes back."""
    values = values or {}
    agency_ids = {aid for aid, _ in view.agencies}
    checkin_ids = {str(cid) for cid, _ in view.recent_checkins[:MAX_CHECKIN_CHOICES]}

    def typed(key: BarrierField, default: str = "") -> str:
        value = values.get(key)
        return value if isinstance(value, str) and value else default

    def chosen(key: BarrierField, allowed: set[str], default: Sequence[str]) -> tuple[str, ...]:
        value = values.get(key)
        picked = value if isinstance(value, list) and key in values else list(default)
        return tuple(str(v) for v in picked if str(v) in allowed)

    items: list[Block | TextField | ChoiceField | PersonField] = [
        Paragraph(words(f"🔒 {NO_NAMES}"), subtle=True),
        TextField(
            id=BarrierField.TITLE,
            label="Title",
            placeholder="A few words stewards will recognise",
            max_length=MAX_TITLE_CHARS,
            initial=cut(typed(BarrierField.TITLE, view.title), MAX_TITLE_CHARS),
        ),
        TextField(
            id=BarrierField.DESCRIPTION,
            label="What gets in the way?",
            hint=words("What stops people doing the right thing, and what happens because of it."),
            multiline=True,
            max_length=MAX_DESCRIPTION_CHARS,
            initial=cut(typed(BarrierField.DESCRIPTION, view.description), MAX_DESCRIPTION_CHARS),
        ),
        TextField(
            id=BarrierField.AFFECTED,
            label="Who is affected?",
            hint=words(
                "Groups of people, not names — e.g. people leaving hospital with no address."
            ),
            multiline=True,
            optional=True,
            max_length=MAX_AFFECTED_CHARS,
            initial=typed(BarrierField.AFFECTED),
        ),
    ]
    if view.agencies:
        items.append(
            ChoiceField(
                id=BarrierField.AGENCIES,
                label="Agencies affected",
                options=tuple(Option(aid, cut(name, 75)) for aid, name in view.agencies),
                style=ChoiceStyle.MULTI_SELECT,
                optional=True,
                placeholder="Pick any",
                initial=chosen(BarrierField.AGENCIES, agency_ids, view.chosen_agencies),
            )
        )
    levels = {level for level, _ in view.levels}
    level = typed(BarrierField.LEVEL)
    items.append(
        ChoiceField(
            id=BarrierField.LEVEL,
            label="Which level should see it first?",
            options=tuple(Option(level_id, cut(name, 75)) for level_id, name in view.levels),
            hint=words("Start at the lowest level that could remove it; stewards can move it up."),
            initial=(level if level in levels else view.levels[0][0],) if view.levels else (),
        )
    )
    if view.recent_checkins:
        items.append(
            ChoiceField(
                id=BarrierField.CHECKINS,
                label="Link your recent check-ins",
                options=tuple(
                    Option(str(cid), cut(label, 75))
                    for cid, label in view.recent_checkins[:MAX_CHECKIN_CHOICES]
                ),
                style=ChoiceStyle.CHECKBOXES,
                optional=True,
                hint=words(
                    "Linked check-ins show stewards it keeps happening; you'll hear what happens."
                ),
                initial=chosen(BarrierField.CHECKINS, checkin_ids, [str(c) for c in view.linked]),
            )
        )
    if view.shared_checkin_ids:
        items.append(
            Paragraph(
                words(
                    f"Raising it links {plural(len(view.shared_checkin_ids), 'check-in')} from "
                    "“Barriers we keep meeting”; their authors will hear when it moves."
                ),
                subtle=True,
            )
        )
    anonymous = typed(BarrierField.ANONYMOUS) == ANONYMOUS_VALUE
    items.append(
        ChoiceField(
            id=BarrierField.ANONYMOUS,
            label="Show my name to stewards?",
            options=(
                Option(NAMED_VALUE, "Yes, show my name"),
                Option(ANONYMOUS_VALUE, "No, raise it anonymously"),
            ),
            style=ChoiceStyle.RADIO,
            hint=words("Either way you'll get a message each time it moves, and the outcome."),
            initial=(ANONYMOUS_VALUE if anonymous else NAMED_VALUE,),
        )
    )
    form = Form(
        id=BarrierForm.ESCALATE,
        title="Raise a barrier",
        submit="Raise barrier",
        items=tuple(items),
        state=json.dumps(
            {"source_checkin_id": view.source_checkin_id}
            | ({"shared_checkin_ids": view.shared_checkin_ids} if view.shared_checkin_ids else {}),
            separators=(",", ":"),
        ),
    )
    return _with_errors(form, errors, BarrierField.DESCRIPTION)


def shared_ids(state: Mapping[str, Any]) -> list[int]:
    """The others' check-ins a "Raise as a barrier" form links (from its state)."""
    value = state.get("shared_checkin_ids")
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, int) and not isinstance(v, bool) and v > 0]


def read_escalate_form(values: Mapping[str, Any]) -> dict[str, Any]:
    """The raise_barrier arguments from a submitted "Raise a barrier" form (by field id)."""

    def text(key: BarrierField) -> str | None:
        value = values.get(key)
        return value if isinstance(value, str) and value.strip() else None

    def listed(key: BarrierField) -> list[str]:
        value = values.get(key)
        return [str(v) for v in value] if isinstance(value, list) else []

    return {
        "title": text(BarrierField.TITLE),
        "description": text(BarrierField.DESCRIPTION),
        "who_is_affected": text(BarrierField.AFFECTED),
        "agencies": listed(BarrierField.AGENCIES),
        "level": text(BarrierField.LEVEL),
        "anonymous": values.get(BarrierField.ANONYMOUS) == ANONYMOUS_VALUE,
        "checkin_ids": [int(c) for c in listed(BarrierField.CHECKINS) if c.isdigit()],
    }


def steward_form(
    action: Action,
    ref: BarrierRef,
    errors: Mapping[str, str] | None = None,
    people: Sequence[tuple[str, str]] = (),
) -> Form:
    """Assign (who owns it), Resolve (what we did) or Close (why not).

    `people` (id, name) are offered first where a platform lists people itself; any person
    the platform's picker finds may be chosen.
    """
    fields: list[TextField | PersonField]
    if action is Action.ASSIGN:
        form_id, title, submit = BarrierForm.ASSIGN, "Assign barrier", "Assign"
        fields = [
            PersonField(
                id=BarrierField.OWNER,
                label="Who will own it?",
                placeholder="Choose a person",
                choices=tuple(Option(pid, name) for pid, name in people),
            ),
            _note(
                "Anything they should know?",
                "They'll get a message; the people who raised it hear who has it.",
                optional=True,
            ),
        ]
    elif action is Action.RESOLVE:
        form_id, title, submit = BarrierForm.RESOLVE, "Resolve barrier", "Resolve"
        fields = [
            _note(
                "What did we do?",
                "This goes to the people who raised it: what changed and what it means for "
                "them. Please don't name the people you support.",
                optional=False,
            )
        ]
    else:
        form_id, title, submit = BarrierForm.CLOSE, "Close barrier", "Close barrier"
        fields = [
            _note(
                "Why are we closing it without a change?",
                "This goes to the people who raised it, so be as open as you can.",
                optional=False,
            )
        ]
    state = {"barrier_id": ref.barrier_id, "version": ref.version, "title": cut(ref.title, 200)}
    form = Form(
        id=form_id,
        title=title,
        submit=submit,
        items=(Paragraph(words(Strong(cut(ref.title, FORM_TITLE_CHARS)))), *fields),
        state=json.dumps(state, separators=(",", ":")),
    )
    fallback = BarrierField.OWNER if action is Action.ASSIGN else BarrierField.NOTE
    return _with_errors(form, errors, fallback)


def blank_escalate_form() -> Form:
    """The "Raise a barrier" form with every field, to read a submission by field id."""
    return escalate_form(
        EscalateFormView(levels=[("", "")], agencies=[("", "")], recent_checkins=[(0, "")])
    )


def blank_steward_form(action: Action) -> Form:
    """A steward form with its fields, to read a submission by field id."""
    return steward_form(action, BarrierRef(barrier_id=0, version=0, title=""))


def done(action: Action) -> Words:
    """The confirmation when the card pressed was replaced in place by the change."""
    return words(f"Done: {action.event_kind}.")


def read_state(state: str | None) -> dict[str, Any]:
    """A form's state back from the platform (an empty dict if missing or tampered with)."""
    try:
        data = json.loads(state or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def state_int(state: Mapping[str, Any], key: str) -> int | None:
    """An integer in a form's state (None if missing or not an integer)."""
    value = state.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def field_errors(form: Form, errors: Mapping[str, str], fallback: BarrierField) -> dict[str, str]:
    """Domain errors by the form's field ids; errors for fields it lacks go on `fallback`."""
    present = {item.id for item in form.fields}
    mapped: dict[str, str] = {}
    for key, message in errors.items():
        target: str = _ERROR_FIELDS.get(key, fallback)
        if target not in present:
            target = fallback
        mapped.setdefault(target, cut(message, 300))
    return mapped


def _with_errors(form: Form, errors: Mapping[str, str] | None, fallback: BarrierField) -> Form:
    if not errors:
        return form
    return Form(
        id=form.id,
        title=form.title,
        submit=form.submit,
        items=form.items,
        close=form.close,
        state=form.state,
        errors=field_errors(form, errors, fallback),
    )


def _note(label: str, hint: str, optional: bool) -> TextField:
    return TextField(
        id=BarrierField.NOTE,
        label=label,
        hint=words(hint),
        multiline=True,
        optional=optional,
        max_length=MAX_NOTE_CHARS,
    )


# ------------------------------------------------------------------------------ words


def _dotted(parts: Sequence[Words]) -> Words:
    return _joined(parts, " · ")


def _joined(parts: Sequence[Words], separator: str) -> Words:
    out: list[Words | str] = []
    for index, part in enumerate(parts):
        if index:
            out.append(separator)
        out.append(part)
    return words(*out)


def _unstrong(text: Words) -> Words:
    """The words with emphasis dropped (a notification's one line shows no markup)."""
    return words(*(part.text if isinstance(part, Strong) else part for part in text.parts))


def _cut_words(text: Words, limit: int) -> Words:
    """Words whose plain text fits `limit`: the last plain spans are shortened first."""
    if len(text.plain()) <= limit:
        return text
    out: list[Any] = []
    left = limit - 1
    for part in text.parts:
        size = len(Words((part,)).plain())
        if size <= left:
            out.append(part)
            left -= size
        elif isinstance(part, str) and left > 0:
            out.append(part[:left])
            left = 0
        else:
            break
    out.append("…")
    return words(*out)

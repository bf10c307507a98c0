"""Adaptive Cards for escalations: the barrier card, its pointer, notices, lists and the forms.

Pure functions from the view-models Slack renders (bot/views.py). People are shown by name:
Teams cannot mention a Slack user (nor Slack a Teams one), so renderers take a `names` mapping
from platform user id to display name, and fall back to a role ("a steward") when unknown. An
anonymous raiser never reaches a view, so no renderer can show them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from microsoft_teams.cards import (
    AdaptiveCard,
    Choice,
    ChoiceSetInput,
    Fact,
    FactSet,
    QueryData,
    SubmitAction,
    SubmitData,
    TextInput,
)

from bot.domain.escalation import (
    MAX_AFFECTED_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_NOTE_CHARS,
    MAX_TITLE_CHARS,
    Action,
)
from bot.teams.cards import NO_NAMES, card, escape_markdown, execute_verb, open_dialog, text
from bot.teams.ids import Dialog, Submit, Verb
from bot.views import (
    BarrierCardView,
    BarrierLine,
    BarrierListView,
    BarrierNoticeView,
    BarrierPointerView,
    EscalateFormView,
    StaleBarriersView,
)

Names = Mapping[str, str]
ANONYMOUS_RAISER = "Someone who asked not to be named"
STATUS_MARK = {
    "open": "🔴",
    "acknowledged": "🟡",
    "in_progress": "🔵",
    "resolved": "✅",
    "closed": "⚪",
}
# Steward actions that need words (who owns it, what was done, why not) open a dialog.
DIALOG_ACTIONS = {
    Action.ASSIGN: Dialog.BARRIER_ASSIGN,
    Action.RESOLVE: Dialog.BARRIER_RESOLVE,
    Action.CLOSE: Dialog.BARRIER_CLOSE,
}
ONE_CLICK_ACTIONS = {
    Action.ACKNOWLEDGE: Verb.BARRIER_ACKNOWLEDGE,
    Action.ESCALATE: Verb.BARRIER_ESCALATE,
}
ANONYMOUS_VALUE = "anonymous"
NAMED_VALUE = "named"
MAX_LIST_LINES = 25


def who(user_id: str | None, names: Names, fallback: str = "a steward") -> str:
    """A person's name as this card can show it."""
    if not user_id:
        return fallback
    return escape_markdown(names.get(user_id) or fallback)


def _day(when: dt.date | dt.datetime) -> str:
    return when.strftime("%-d %b %Y")


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _change_line(view: BarrierCardView, names: Names) -> str:
    change = view.last_change
    if change is None:
        return ""
    by = f" by {who(change.actor_user_id, names)}" if change.actor_user_id else ""
    what = {
        "raised": "Raised",
        "acknowledged": "Acknowledged",
        "assigned": "Assigned",
        "escalated": f"Moved up to {escape_markdown(change.to_level_name or 'the next level')}",
        "resolved": "Resolved",
        "closed": "Closed",
    }.get(change.kind, change.kind.capitalize())
    return f"Last change: {what}{by} on {_day(change.at)}"


def action_label(action: Action, next_level_name: str | None) -> str:
    """What a steward button says (the same words as on Slack)."""
    return {
        Action.ACKNOWLEDGE: "Acknowledge",
        Action.ASSIGN: "Assign",
        Action.ESCALATE: f"Escalate up to {next_level_name or 'the next level'}",
        Action.RESOLVE: "Resolve",
        Action.CLOSE: "Close",
    }[action]


def barrier_card(
    view: BarrierCardView, names: Names, extra_actions: Sequence[Any] = ()
) -> AdaptiveCard:
    """A barrier's card: what it is, where it is, who has it, and the steward buttons."""
    raised_by = (
        who(view.raised_by_user_id, names, "a member")
        if view.raised_by_user_id
        else ANONYMOUS_RAISER
    )
    agencies = ", ".join(escape_markdown(a) for a in view.agency_names) or "Not said"
    body: list[Any] = [
        text(
            f"Barrier #{view.barrier_id}: {escape_markdown(view.title)}",
            weight="Bolder",
            size="Medium",
        ),
        text("**What gets in the way**"),
        text(escape_markdown(_cut(view.description, MAX_DESCRIPTION_CHARS))),
        FactSet(
            facts=[
                Fact(
                    title="Status", value=f"{STATUS_MARK.get(view.status, '')} {view.status_label}"
                ),
                Fact(title="Level", value=escape_markdown(view.level_name)),
                Fact(
                    title="Owner",
                    value=who(view.owner_user_id, names, "someone")
                    if view.owner_user_id
                    else "Nobody yet",
                ),
                Fact(title="Raised by", value=raised_by),
                Fact(title="Agencies affected", value=agencies),
            ]
        ),
    ]
    if view.who_is_affected:
        body += [text("**Who is affected**"), text(escape_markdown(view.who_is_affected))]
    if view.outcome:
        heading = "What we did" if view.status == "resolved" else "Why it was closed"
        body += [text(f"**{heading}**"), text(escape_markdown(view.outcome))]
    context = [f"Raised {_day(view.raised_on)}"]
    if view.linked_checkins:
        n = view.linked_checkins
        context.append(f"{n} linked check-in{'s' if n != 1 else ''}")
    change = _change_line(view, names)
    if change:
        context.append(change)
    body.append(text(" · ".join(context), is_subtle=True, size="Small"))
    if view.note:
        body.append(text(f"⚠ {escape_markdown(view.note)}", color="Warning"))
    data = {"barrier_id": view.barrier_id, "version": view.version}
    actions: list[Any] = []
    for raw in view.actions:
        action = Action(raw)
        label = _cut(action_label(action, view.next_level_name), 75)
        if action in ONE_CLICK_ACTIONS:
            button = execute_verb(label, ONE_CLICK_ACTIONS[action], **data)
            actions.append(
                button.with_style("positive") if action is Action.ACKNOWLEDGE else button
            )
        else:
            actions.append(open_dialog(label, DIALOG_ACTIONS[action], **data))
    return card(
        *body,
        actions=[*actions, *extra_actions],
        fallback_text=f"Barrier #{view.barrier_id}: {view.title} — {view.status_label}",
    )


def barrier_pointer(view: BarrierPointerView, names: Names) -> AdaptiveCard:
    """What a card becomes in the old channel once its barrier moved up."""
    by = f" by {who(view.actor_user_id, names)}" if view.actor_user_id else ""
    line = (
        f"⬆ **Barrier #{view.barrier_id}: {escape_markdown(view.title)}** moved up to "
        f"**{escape_markdown(view.to_level_name)}**{by} on {_day(view.at)}. "
        "It continues in that level's channel"
    )
    line += f" — [follow it there]({view.card_url})." if view.card_url else "."
    return card(text(line), fallback_text=f"Barrier #{view.barrier_id} moved up")


def barrier_notice(view: BarrierNoticeView, names: Names) -> AdaptiveCard:
    """The message to a raiser or a linked check-in's author: what just happened."""
    title = f"“{escape_markdown(view.title)}”"
    level = f"**{escape_markdown(view.level_name)}**"
    by = f" by {who(view.actor_user_id, names)}" if view.actor_user_id else ""
    about = (
        f"Your barrier {title}"
        if view.as_raiser
        else f"The barrier {title}, which your check-in is linked to,"
    )
    note = escape_markdown(view.note or "")
    if view.kind == "raised":
        lines = [
            f"📣 Thank you — {about[0].lower()}{about[1:]} is now with {level}. "
            "I'll message you each time it moves."
        ]
        if view.anonymous:
            lines.append("Stewards can't see that it was you who raised it.")
        if view.redaction_summary:
            lines.append(view.redaction_summary)
    elif view.kind == "acknowledged":
        lines = [f"👀 {about} was acknowledged{by} at {level}."]
    elif view.kind == "assigned":
        lines = [
            f"🛠 {about} is now being worked on by {who(view.owner_user_id, names, 'someone')} "
            f"at {level}."
        ]
    elif view.kind == "escalated":
        lines = [f"⬆ {about} has gone up to {level}{by}: it needs a level that can change it."]
    elif view.kind == "resolved":
        lines = [f"✅ {about} is resolved{by}.", f"**What we did:** {note}"]
    elif view.kind == "assigned_to_you":
        asker = who(view.actor_user_id, names, "A steward")
        lines = [f"👋 {asker} asked you to own the barrier {title} at {level}."]
        lines.append("Type **barriers mine** to me to open it and update it.")
    elif view.kind == "closed":
        lines = [f"⚪ {about} was closed without a change{by}.", f"**Why:** {note}"]
    else:
        lines = [f"{about} changed: {view.kind}."]
    if view.kind != "raised" and view.note and view.kind not in ("resolved", "closed"):
        lines.append(f"Note: {note}")
    if view.kind != "assigned_to_you":
        lines.append("Type **barriers mine** to me to list every barrier you're part of.")
    return card(*(text(line) for line in lines), fallback_text=lines[0])


# ----------------------------------------------------------------------------- lists


def _age(days: int) -> str:
    if days <= 0:
        return "changed today"
    return f"{days} day{'s' if days != 1 else ''} since the last change"


def barrier_line(line: BarrierLine, names: Names) -> str:
    """One barrier on one line: status, level, owner, age."""
    name = f"#{line.barrier_id} {escape_markdown(_cut(line.title, 80))}"
    parts = [f"**{name}**", line.status_label, escape_markdown(line.level_name)]
    if line.owner_user_id:
        parts.append(f"owner {who(line.owner_user_id, names, 'someone')}")
    parts.append(_age(line.days_since_change))
    return " · ".join(parts)


def _lines(lines: Sequence[BarrierLine], names: Names) -> list[Any]:
    """Each barrier as a line of text."""
    body: list[Any] = []
    for line in lines[:MAX_LIST_LINES]:
        body.append(text(f"• {barrier_line(line, names)}"))
    return body


def open_buttons(lines: Sequence[BarrierLine]) -> list[Any]:
    """One "Open #n" button per listed barrier (Teams shows the first few, the rest in "…")."""
    return [
        execute_verb(f"Open #{line.barrier_id}", Verb.BARRIER_SHOW, barrier_id=line.barrier_id)
        for line in lines[:MAX_LIST_LINES]
    ]


def barrier_list(view: BarrierListView, names: Names) -> AdaptiveCard:
    """The answer to `barriers`: a compact list, each barrier one press from its card."""
    if not view.lines:
        return card(text(escape_markdown(view.empty_text)), fallback_text=view.empty_text)
    body: list[Any] = [text(f"**{escape_markdown(view.heading)}** ({view.total})")]
    body += _lines(view.lines, names)
    shown = min(len(view.lines), MAX_LIST_LINES)
    if shown < view.total:
        body.append(
            text(
                f"Showing the {shown} most recently changed. "
                "`learnloop barriers export` lists them all.",
                is_subtle=True,
            )
        )
    return card(
        *body, actions=open_buttons(view.lines), fallback_text=f"{view.heading} ({view.total})"
    )


def stale_barriers(view: StaleBarriersView, names: Names) -> AdaptiveCard:
    """The weekly reminder of barriers that have not moved, in a level's channel."""
    weeks = view.stale_days // 7
    n = len(view.lines)
    said = (
        f"{n} barrier{'s' if n != 1 else ''} at {view.level_name} haven't moved for {weeks} "
        "weeks or more."
    )
    body: list[Any] = [
        text(
            f"⏳ **{escape_markdown(said)}** Each one is waiting on someone here: acknowledge, "
            "assign, move up, resolve or close it from its card."
        ),
        *_lines(view.lines, names),
    ]
    return card(*body, actions=open_buttons(view.lines), fallback_text=said)


# ----------------------------------------------------------------------------- forms


def _error(errors: Mapping[str, str], *keys: str) -> list[Any]:
    found = [errors[k] for k in keys if k in errors]
    return [text(f"⚠ {escape_markdown(m)}", color="Attention", size="Small") for m in found]


def escalate_form(
    form: EscalateFormView,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> AdaptiveCard:
    """The "Raise a barrier" form (a dialog), the same fields as Slack's modal."""
    errors = errors or {}
    values = values or {}
    agency_ids = [aid for aid, _ in form.agencies]
    body: list[Any] = [
        text(f"🔒 {NO_NAMES}", is_subtle=True, size="Small"),
        TextInput(
            id="title",
            label="Title",
            max_length=MAX_TITLE_CHARS,
            value=str(values.get("title") or _cut(form.title, MAX_TITLE_CHARS)) or None,
            placeholder="A few words stewards will recognise",
            is_required=True,
            error_message="Give it a short title.",
        ),
        *_error(errors, "title"),
        TextInput(
            id="description",
            label="What gets in the way?",
            is_multiline=True,
            max_length=MAX_DESCRIPTION_CHARS,
            value=str(values.get("description") or _cut(form.description, MAX_DESCRIPTION_CHARS))
            or None,
            placeholder="What stops people doing the right thing, and what happens because of it.",
            is_required=True,
            error_message="Say what gets in the way.",
        ),
        *_error(errors, "description", ""),
        TextInput(
            id="who_is_affected",
            label="Who is affected?",
            is_multiline=True,
            max_length=MAX_AFFECTED_CHARS,
            value=str(values.get("who_is_affected") or "") or None,
            placeholder="Groups of people, not names — e.g. people leaving hospital with no "
            "address.",
        ),
        *_error(errors, "who_is_affected"),
    ]
    if form.agencies:
        chosen = [a for a in values.get("agencies") or [] if a in agency_ids]
        body.append(
            ChoiceSetInput(
                id="agencies",
                label="Agencies affected",
                choices=[Choice(title=name, value=aid) for aid, name in form.agencies],
                is_multi_select=True,
                style="compact",
                placeholder="Pick any",
                value=",".join(chosen) or None,
            )
        )
        body += _error(errors, "agencies")
    body.append(
        ChoiceSetInput(
            id="level",
            label="Which level should see it first?",
            choices=[Choice(title=name, value=level) for level, name in form.levels],
            style="compact",
            value=str(values.get("level") or form.levels[0][0]),
            is_required=True,
        )
    )
    body.append(
        text(
            "Start at the lowest level that could remove it; stewards can move it up.",
            is_subtle=True,
            size="Small",
        )
    )
    body += _error(errors, "level")
    if form.recent_checkins:
        linked = values.get("checkins") or [str(c) for c in form.linked]
        body.append(
            ChoiceSetInput(
                id="checkins",
                label="Link your recent check-ins",
                choices=[
                    Choice(title=_cut(label, 75), value=str(cid))
                    for cid, label in form.recent_checkins[:10]
                ],
                is_multi_select=True,
                style="expanded",
                value=",".join(str(c) for c in linked) or None,
            )
        )
        body += _error(errors, "checkins")
    body.append(
        ChoiceSetInput(
            id="anonymous",
            label="Show my name to stewards?",
            choices=[
                Choice(title="Yes, show my name", value=NAMED_VALUE),
                Choice(title="No, raise it anonymously", value=ANONYMOUS_VALUE),
            ],
            style="expanded",
            value=str(values.get("anonymous") or NAMED_VALUE),
            is_required=True,
        )
    )
    body.append(
        text(
            "Either way you'll get a message each time it moves, and the outcome.",
            is_subtle=True,
            size="Small",
        )
    )
    body += _error(errors, "anonymous")
    data: dict[str, Any] = {}
    if form.source_checkin_id is not None:
        data["source_checkin_id"] = form.source_checkin_id
    return card(
        *body,
        actions=[SubmitAction(title="Raise barrier", data=SubmitData(Submit.ESCALATE.value, data))],
        fallback_text="Raise a barrier",
    )


def read_escalate_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """The raise_barrier arguments from a submitted "Raise a barrier" form."""

    def listed(key: str) -> list[str]:
        raw = data.get(key)
        parts = raw if isinstance(raw, list) else str(raw or "").split(",")
        return [p.strip() for p in parts if str(p).strip()]

    def optional(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) and value.strip() else None

    return {
        "title": optional("title"),
        "description": optional("description"),
        "who_is_affected": optional("who_is_affected"),
        "agencies": listed("agencies"),
        "level": optional("level"),
        "anonymous": data.get("anonymous") == ANONYMOUS_VALUE,
        "checkin_ids": [int(c) for c in listed("checkins") if c.isdigit()],
    }


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the person typed, to put back in the form when it comes back with a message."""
    read = read_escalate_form(data)
    return {
        **read,
        "anonymous": ANONYMOUS_VALUE if read["anonymous"] else NAMED_VALUE,
        "checkins": [str(c) for c in read["checkin_ids"]],
    }


StewardForm = Callable[[int, int, str, Mapping[str, str], Sequence[tuple[str, str]]], AdaptiveCard]


def _note(label: str, hint: str, required: bool, error: str | None) -> list[Any]:
    return [
        TextInput(
            id="note",
            label=label,
            is_multiline=True,
            max_length=MAX_NOTE_CHARS,
            placeholder=hint,
            is_required=required or None,
            error_message="Please write a sentence or two." if required else None,
        ),
        *([text(f"⚠ {escape_markdown(error)}", color="Attention", size="Small")] if error else []),
    ]


def steward_form(
    action: Action,
    barrier_id: int,
    version: int,
    barrier_title: str,
    errors: Mapping[str, str] | None = None,
    people: Sequence[tuple[str, str]] = (),
) -> AdaptiveCard:
    """Assign (who owns it), Resolve (what we did) or Close (why not), for a dialog.

    `people` are the Teams people the alliance knows (id, name); the picker also searches the
    organisation's directory, so an owner can be anyone in the tenant.
    """
    errors = errors or {}
    body: list[Any] = [text(f"**{escape_markdown(_cut(barrier_title, 200))}**")]
    general = errors.get("") or errors.get("note")
    if action is Action.ASSIGN:
        body.append(
            ChoiceSetInput(
                id="owner",
                label="Who will own it?",
                choices=[Choice(title=name, value=pid) for pid, name in people],
                choices_data=QueryData(dataset="graph.microsoft.com/users"),
                style="filtered",
                placeholder="Choose a person",
                is_required=True,
                error_message="Choose the person who will own it.",
            )
        )
        body += _error(errors, "owner")
        body += _note(
            "Anything they should know?",
            "They'll get a message; the people who raised it hear who has it.",
            False,
            general,
        )
        submit = "Assign"
    elif action is Action.RESOLVE:
        body += _note(
            "What did we do?",
            "This goes to the people who raised it: what changed and what it means for them. "
            "Please don't name the people you support.",
            True,
            errors.get("outcome") or general,
        )
        submit = "Resolve"
    else:
        body += _note(
            "Why are we closing it without a change?",
            "This goes to the people who raised it, so be as open as you can.",
            True,
            errors.get("reason") or general,
        )
        submit = "Close barrier"
    data = {
        "barrier_id": barrier_id,
        "version": version,
        "steward_action": action.value,
        # Carried so a form that comes back with a message still shows which barrier it is.
        "title": _cut(barrier_title, 200),
    }
    return card(
        *body,
        actions=[SubmitAction(title=submit, data=SubmitData(Submit.BARRIER.value, data))],
        fallback_text=submit,
    )

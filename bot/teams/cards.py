"""Adaptive Cards for Teams: pure functions from the same view-models Slack renders.

Cards are built with the Teams SDK's typed classes (`microsoft_teams.cards`) and sent as
version 1.5, which Teams needs for Action.Execute. One-click actions (Skip, Pause) are
Action.Execute and answer with the updated card; anything with a form opens a dialog (Teams'
modal) through an Action.Submit carrying `msteams: {type: task/fetch}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microsoft_teams.cards import (
    AdaptiveCard,
    ExecuteAction,
    OpenDialogData,
    SubmitAction,
    TextBlock,
)

from bot.teams.ids import Dialog, Verb
from bot.views.checkin import NO_NAMES
from bot.views.inquiry import InquirySummaryView

__all__ = ["NO_NAMES", "card", "escape_markdown", "execute_verb", "launcher_card", "open_dialog"]
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


def launcher_card(lead: str, button: str, dialog: Dialog, **data: Any) -> AdaptiveCard:
    """A short card whose one button opens a dialog (a typed command can't open one itself)."""
    return card(text(lead), actions=[open_dialog(button, dialog, **data)], fallback_text=lead)


# ------------------------------------------------------------------------- inquiries


def _and(names: Sequence[str]) -> str:
    escaped = [escape_markdown(n) for n in names]
    return escaped[0] if len(escaped) == 1 else f"{', '.join(escaped[:-1])} and {escaped[-1]}"


def inquiry_summary_card(view: InquirySummaryView) -> AdaptiveCard:
    """What an inquiry found: counts by agency, shared patterns, themes, barriers raised."""
    e = escape_markdown
    state = "Inquiry closed" if view.closed else "Inquiry so far"
    started, ends = view.started.strftime("%-d %b %Y"), view.ends.strftime("%-d %b %Y")
    body: list[Any] = [
        text(f"🔍 **{state}:** “{e(view.question)}”"),
        text(
            f"Inquiry {view.inquiry_id} · cohort {e(view.cohort)} · {started} – {ends}",
            is_subtle=True,
            size="Small",
        ),
        text(
            f"**{view.learnings}** learnings were shared while it ran; **{view.answers}** "
            "answered its question."
        ),
        text("**By agency** — counts only, never per person:"),
        *(
            text(f"• {e(a.agency)}: {a.learnings} learnings, {a.answers} answers")
            for a in view.by_agency
        ),
    ]
    if view.patterns:
        body.append(text("**Shared patterns** — the same thing said in more than one agency"))
        for shared in view.patterns:
            body.append(text(f"• **{_and(shared.agencies)}** said something similar:"))
            body.append(text(f"“{e(shared.quote)}” — _{e(shared.byline)}_"))
    if view.themes:
        body.append(text("Themes tagged in more than one agency:"))
        body += [
            text(f"• **{e(t.theme)}**: {t.learnings} learnings from {t.agencies} agencies")
            for t in view.themes
        ]
    body.append(
        text(
            f"**Barriers raised** — {view.barrier_answers} learnings said what got in the way"
            + ("." if not view.barriers else "; these were raised as barriers:")
        )
    )
    body += [text(f"• {e(b.title)} — {e(b.status)}, with {e(b.level)}") for b in view.barriers]
    body.append(
        text(
            f"Counts under {view.suppress_below} show as “fewer than {view.suppress_below}”. "
            "Only learnings shared with the alliance are quoted.",
            is_subtle=True,
            size="Small",
        )
    )
    return card(*body, fallback_text=f"{state}: {view.question}")

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

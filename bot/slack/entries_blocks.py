"""An author's own entries on Slack: the App Home section and its modals, from the views.

Every sentence and button comes from `bot.views.entries`; this only renders them.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from bot.slack import render
from bot.views import entries as views
from bot.views.entries import DeleteEntryView, EntriesView, VisibilityChoiceView


def entries_blocks(view: EntriesView) -> list[Block]:
    """The "Your recent learnings" section of the App Home, with each entry's actions."""
    parsed = (Block.parse(block) for block in render.blocks(views.entries_blocks(view), 100))
    return [block for block in parsed if block is not None]


def visibility_modal(view: VisibilityChoiceView, offset: int = 0) -> dict[str, Any]:
    """ "Change who can see it": the three choices, the entry's current one selected."""
    return render.modal(views.visibility_form(view, offset))


def delete_modal(view: DeleteEntryView, offset: int = 0) -> dict[str, Any]:
    """The confirmation step: what is deleted, what is not; "Keep it" closes it."""
    return render.modal(views.delete_form(view, offset))


def read_metadata(view: dict[str, Any]) -> tuple[int | None, int]:
    """(checkin id, Home page offset) a modal was opened for; (None, 0) if unreadable."""
    return views.read_state(view.get("private_metadata"))

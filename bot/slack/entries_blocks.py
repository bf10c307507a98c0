"""Block Kit for an author's own entries: the App Home section and its three modals.

Pure functions from the view-models in bot/views/entries.py; every sentence comes from there.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack.blocks import escape_mrkdwn
from bot.slack.ids import Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.views import entries as words
from bot.views.entries import DeleteEntryView, EntriesView, EntryLine, VisibilityChoiceView


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _date(day: Any) -> str:
    return day.strftime("%-d %B %Y")


def _entry_blocks(entry: EntryLine) -> list[Block]:
    themes = f" · {', '.join(entry.themes)}" if entry.themes else ""
    value = str(entry.checkin_id)
    # Outside the edit window there is no Edit button; the note above says why.
    buttons = (
        [ButtonElement(text=words.EDIT, action_id=Action.ENTRY_EDIT, value=value)]
        if entry.editable
        else []
    )
    buttons += [
        ButtonElement(text=words.CHANGE_VISIBILITY, action_id=Action.ENTRY_VISIBILITY, value=value),
        ButtonElement(text=words.DELETE, action_id=Action.ENTRY_DELETE, value=value),
    ]
    return [
        _section(f"*{_date(entry.saved_on)}* — {escape_mrkdwn(entry.excerpt)}{themes}"),
        _context(f"Who can see it: *{entry.visibility_label}* — {entry.who_can_see}"),
        _context(entry.edit_note),
        ActionsBlock(block_id=f"entry_{entry.checkin_id}", elements=buttons),
    ]


def entries_blocks(view: EntriesView) -> list[Block]:
    """The "Your recent learnings" section of the App Home, with each entry's actions."""
    count = f" {view.count_text}" if view.count_text else ""
    blocks: list[Block] = [_section(f"*{view.heading}*{count}")]
    if view.notice:
        blocks.append(_context(f":white_check_mark: {view.notice}"))
    if not view.entries:
        blocks.append(_context(view.empty_text))
        return blocks
    for entry in view.entries:
        blocks += _entry_blocks(entry)
    paging = []
    if view.newer_offset is not None:
        paging.append(
            ButtonElement(
                text=words.SHOW_NEWER, action_id=Action.ENTRIES_PAGE, value=str(view.newer_offset)
            )
        )
    if view.older_offset is not None:
        paging.append(
            ButtonElement(
                text=words.SHOW_OLDER, action_id=Action.ENTRIES_PAGE, value=str(view.older_offset)
            )
        )
    if paging:
        blocks.append(ActionsBlock(block_id="entries_paging", elements=paging))
    blocks.append(_context(view.rule))
    return blocks


def _metadata(checkin_id: int, offset: int) -> str:
    return json.dumps({"checkin_id": checkin_id, "offset": offset}, separators=(",", ":"))


def visibility_modal(view: VisibilityChoiceView, offset: int = 0) -> dict[str, Any]:
    """ "Change who can see it": the three choices, the entry's current one selected."""
    options = [Option(text=label, value=value) for value, label in view.options]
    current = next((o for o in options if o.value == view.current), options[0])
    return View(
        type="modal",
        callback_id=ViewId.ENTRY_VISIBILITY,
        title=PlainTextObject(text=view.title),
        submit=PlainTextObject(text=view.submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=_metadata(view.checkin_id, offset),
        blocks=[
            _section(escape_mrkdwn(view.lead)),
            InputBlock(
                block_id=BlockId.VISIBILITY,
                label=view.question,
                element=RadioButtonsElement(
                    action_id=Action.VISIBILITY, options=options, initial_option=current
                ),
            ),
            _context(view.note),
        ],
    ).to_dict()


def delete_modal(view: DeleteEntryView, offset: int = 0) -> dict[str, Any]:
    """The confirmation step: what is deleted, what is not; "Keep it" closes it."""
    return View(
        type="modal",
        callback_id=ViewId.ENTRY_DELETE,
        title=PlainTextObject(text=view.title),
        submit=PlainTextObject(text=view.confirm),
        close=PlainTextObject(text=view.keep),
        private_metadata=_metadata(view.checkin_id, offset),
        blocks=[_section(escape_mrkdwn(view.goes)), *[_context(line) for line in view.kept]],
    ).to_dict()


def read_metadata(view: dict[str, Any]) -> tuple[int | None, int]:
    """(checkin id, Home page offset) a modal was opened for; (None, 0) if unreadable."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None, 0
    if not isinstance(data, dict):
        return None, 0
    checkin_id, offset = data.get("checkin_id"), data.get("offset")
    valid_id = isinstance(checkin_id, int) and not isinstance(checkin_id, bool)
    valid_offset = isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0
    return (checkin_id if valid_id else None), (offset if valid_offset else 0)

"""An author's own entries, and the steps of changing one: the words, written once.

Slack's App Home and Teams' `entries` card lay out the blocks and forms built here; neither
adds a sentence of its own.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.entries import EDIT_WINDOW_DAYS
from bot.views.checkin import VISIBILITY_FIELD
from bot.views.message import (
    Actions,
    Block,
    Button,
    ChoiceField,
    ChoiceStyle,
    Form,
    Message,
    Option,
    Paragraph,
    Part,
    Style,
)
from bot.views.words import Strong, words

HEADING = "Your recent learnings"
EMPTY = "Nothing yet. Reply to the weekly prompt, or share a learning any time, to add one."
DIGESTS_NOT_CHANGED = "Digests already posted are not changed."
WINDOW_RULE = (
    f"You can edit a learning for {EDIT_WINDOW_DAYS} days after you save it, and change who "
    "can see it or delete it at any time. " + DIGESTS_NOT_CHANGED
)

EDIT = "Edit"
CHANGE_VISIBILITY = "Change who can see it"
DELETE = "Delete"
SHOW_OLDER = "Show older"
SHOW_NEWER = "Show newer"
CONFIRM_DELETE = "Delete this learning"
KEEP = "Keep it"
SAVE_CHANGES = "Save changes"
SAVE_VISIBILITY = "Save who can see it"
EDIT_TITLE = "Edit your learning"
VISIBILITY_TITLE = "Change who can see it"
DELETE_TITLE = "Delete this learning?"
VISIBILITY_QUESTION = "Who can see this?"

# What the author is told after each change (the notice at the top of the list).
EDITED = "Your changes are saved (identifiers removed again before saving). " + DIGESTS_NOT_CHANGED
VISIBILITY_CHANGED = "Saved: {label}. " + DIGESTS_NOT_CHANGED
DELETED = "The learning is deleted. " + DIGESTS_NOT_CHANGED
KEPT = "Nothing was deleted."
GONE = "That learning no longer exists (or isn't yours), so nothing was changed."


def _date(day: dt.date) -> str:
    return f"{day:%-d %B %Y}"


def edit_open_note(until: dt.date) -> str:
    """Under an entry that can still be edited."""
    return f"You can edit it until {_date(until)}."


def edit_closed_note(closed_on: dt.date) -> str:
    """Under an entry whose edit window has passed: why there is no Edit button."""
    return (
        f"Editing closed on {_date(closed_on)}, {EDIT_WINDOW_DAYS} days after you saved it. "
        "You can still change who can see it, or delete it."
    )


@dataclass(frozen=True)
class EntryLine:
    """One of the author's entries in their list."""

    checkin_id: int
    saved_on: dt.date
    excerpt: str  # already redacted: it is what was stored
    themes: tuple[str, ...]
    visibility: str
    visibility_label: str  # "Just my team", "The alliance, with my name", …
    who_can_see: str  # the same choice said as who can read it
    editable: bool
    edit_note: str  # when the edit window closes (or closed, and what is still possible)


@dataclass(frozen=True)
class EntriesView:
    """A page of the author's entries, newest first."""

    entries: tuple[EntryLine, ...]
    total: int
    offset: int = 0
    older_offset: int | None = None  # where "Show older" starts, when there are more
    newer_offset: int | None = None  # where "Show newer" starts, when this is not the first page
    notice: str | None = None
    heading: str = HEADING
    empty_text: str = EMPTY
    rule: str = WINDOW_RULE

    @property
    def count_text(self) -> str:
        """ "(12 in all)" when the page shows fewer than all of them, else ""."""
        return f"({self.total} in all)" if self.total > len(self.entries) else ""


@dataclass(frozen=True)
class VisibilityChoiceView:
    """The "Change who can see it" step for one entry."""

    checkin_id: int
    saved_on: dt.date
    excerpt: str
    current: str
    options: tuple[tuple[str, str], ...]  # (value, label), in the form's order
    title: str = VISIBILITY_TITLE
    question: str = VISIBILITY_QUESTION
    submit: str = SAVE_VISIBILITY
    note: str = (
        "Anonymous learnings are shared without your name or agency; you can still see, export "
        "and delete them. " + DIGESTS_NOT_CHANGED
    )

    @property
    def lead(self) -> str:
        """Which entry this is about."""
        return f"Your learning of {_date(self.saved_on)}: “{self.excerpt}”"


@dataclass(frozen=True)
class DeleteEntryView:
    """The confirmation step before one entry is deleted: what goes and what stays."""

    checkin_id: int
    saved_on: dt.date
    excerpt: str
    barriers_linked: int = 0
    title: str = DELETE_TITLE
    confirm: str = CONFIRM_DELETE
    keep: str = KEEP

    @property
    def goes(self) -> str:
        """What deleting removes."""
        return (
            f"This permanently deletes your learning of {_date(self.saved_on)} "
            f"(“{self.excerpt}”), with its answers and themes. It can't be undone."
        )

    @property
    def kept(self) -> list[str]:
        """What deleting does not touch."""
        lines = [DIGESTS_NOT_CHANGED + " Your other learnings and your profile stay as they are."]
        if self.barriers_linked:
            n = self.barriers_linked
            lines.append(
                f"The {'barrier' if n == 1 else f'{n} barriers'} it was linked to "
                f"{'stays' if n == 1 else 'stay'} open for the stewards, without this learning."
            )
        return lines


# --------------------------------------------------------------------------- builders


class EntryAction(StrEnum):
    """Ids of the entry buttons and forms, the same on both platforms."""

    EDIT = "entry_edit"
    VISIBILITY = "entry_visibility"
    DELETE = "entry_delete"
    PAGE = "entries_page"  # value: the offset of the page to show
    DELETE_CONFIRMED = "entry_delete_confirmed"
    KEEP = "entry_keep"


EDIT_FORM = "entry_edit_modal"
VISIBILITY_FORM = "entry_visibility_modal"
DELETE_FORM = "entry_delete_modal"


def _entry(entry: EntryLine) -> Part:
    themes = f" · {', '.join(entry.themes)}" if entry.themes else ""
    value = str(entry.checkin_id)
    # Outside the edit window there is no Edit button; the note above says why.
    buttons = [Button(EDIT, EntryAction.EDIT, value, opens_form=True)] if entry.editable else []
    buttons += [
        Button(CHANGE_VISIBILITY, EntryAction.VISIBILITY, value, opens_form=True),
        Button(DELETE, EntryAction.DELETE, value),
    ]
    return Part(
        (
            Paragraph(words(Strong(_date(entry.saved_on)), f" — {entry.excerpt}{themes}")),
            Paragraph(
                words(
                    "Who can see it: ", Strong(entry.visibility_label), f" — {entry.who_can_see}"
                ),
                subtle=True,
            ),
            Paragraph(words(entry.edit_note), subtle=True),
            Actions(tuple(buttons), id=f"entry_{entry.checkin_id}"),
        )
    )


def entries_blocks(view: EntriesView) -> tuple[Block, ...]:
    """The author's entries, newest first, each with Edit, Change who can see it and Delete."""
    count = f" {view.count_text}" if view.count_text else ""
    blocks: list[Block] = [Paragraph(words(Strong(view.heading), count))]
    if view.notice:
        blocks.append(Paragraph(words(f"✅ {view.notice}"), subtle=True))
    if not view.entries:
        blocks.append(Paragraph(words(view.empty_text), subtle=True))
        return tuple(blocks)
    blocks += [_entry(entry) for entry in view.entries]
    blocks.append(Paragraph(words(view.rule), subtle=True))
    paging = []
    if view.newer_offset is not None:
        paging.append(Button(SHOW_NEWER, EntryAction.PAGE, str(view.newer_offset)))
    if view.older_offset is not None:
        paging.append(Button(SHOW_OLDER, EntryAction.PAGE, str(view.older_offset)))
    if paging:
        blocks.append(Actions(tuple(paging), id="entries_paging"))
    return tuple(blocks)


def entries_message(view: EntriesView) -> Message:
    """The entries as a message of their own (Teams' `entries`)."""
    return Message(words(view.heading), entries_blocks(view))


def _state(checkin_id: int, offset: int) -> str:
    return json.dumps({"checkin_id": checkin_id, "offset": offset}, separators=(",", ":"))


def visibility_form(view: VisibilityChoiceView, offset: int = 0) -> Form:
    """ "Change who can see it": the three choices, the entry's current one selected."""
    values = [value for value, _ in view.options]
    current = view.current if view.current in values else values[0]
    return Form(
        VISIBILITY_FORM,
        view.title,
        view.submit,
        (
            Paragraph(words(view.lead)),
            ChoiceField(
                VISIBILITY_FIELD,
                view.question,
                tuple(Option(value, label) for value, label in view.options),
                style=ChoiceStyle.RADIO,
                initial=(current,),
            ),
            Paragraph(words(view.note), subtle=True),
        ),
        state=_state(view.checkin_id, offset),
    )


def delete_form(view: DeleteEntryView, offset: int = 0) -> Form:
    """The confirmation step as a form: what is deleted, what is not; "Keep it" closes it."""
    return Form(
        DELETE_FORM,
        view.title,
        view.confirm,
        (
            Paragraph(words(view.goes)),
            *(Paragraph(words(line), subtle=True) for line in view.kept),
        ),
        close=view.keep,
        state=_state(view.checkin_id, offset),
    )


def delete_message(view: DeleteEntryView) -> Message:
    """The same confirmation step as a message with its two buttons (where no form can close)."""
    return Message(
        words(view.title),
        (
            Paragraph(words(Strong(view.title))),
            Paragraph(words(view.goes)),
            *(Paragraph(words(line), subtle=True) for line in view.kept),
            Actions(
                (
                    Button(
                        view.confirm,
                        EntryAction.DELETE_CONFIRMED,
                        str(view.checkin_id),
                        Style.DANGER,
                    ),
                    Button(view.keep, EntryAction.KEEP),
                )
            ),
        ),
    )


def read_state(state: str | None) -> tuple[int | None, int]:
    """(checkin id, page offset) a form was opened for; (None, 0) if unreadable."""
    try:
        data = json.loads(state or "{}")
    except ValueError:
        return None, 0
    if not isinstance(data, dict):
        return None, 0
    checkin_id, offset = data.get("checkin_id"), data.get("offset")
    valid_id = (
        checkin_id if isinstance(checkin_id, int) and not isinstance(checkin_id, bool) else None
    )
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        offset = 0
    return valid_id, offset

"""An author's own entries, and the steps of changing one: the words, written once.

Slack's App Home and Teams' `entries` card render these; neither adds a sentence of its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.entries import EDIT_WINDOW_DAYS

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

"""An author's control over their own entries: the edit window and what an edit may change.

"The week" an entry can be edited in is seven days (168 hours) from the moment it was saved,
whatever the day of the week: an entry saved late on a Sunday gets the same time to be
corrected as one saved on a Monday, and no calendar or time zone arithmetic can surprise the
author. Who can see an entry, and deleting it, are the author's at any time.
"""

from __future__ import annotations

import datetime as dt

from bot.domain.errors import LearnLoopError

EDIT_WINDOW = dt.timedelta(days=7)
EDIT_WINDOW_DAYS = EDIT_WINDOW.days


class EditWindowClosed(LearnLoopError):
    """The entry was saved more than the edit window ago: its text can no longer change."""

    code = "edit_window_closed"

    def __init__(self) -> None:
        super().__init__(
            f"You can only edit a learning in the {EDIT_WINDOW_DAYS} days after you saved it, "
            "so this one wasn't changed. You can still change who can see it, or delete it."
        )


def editable_until(saved_at: dt.datetime) -> dt.datetime:
    """The last moment an entry saved at `saved_at` can be edited."""
    return saved_at + EDIT_WINDOW


def may_edit(saved_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether an entry's text may still be edited at `now`."""
    return now < editable_until(saved_at)

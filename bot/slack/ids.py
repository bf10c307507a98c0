"""Stable ids for Slack actions, views and blocks (tests and the manifest rely on them)."""

from __future__ import annotations

from enum import StrEnum

from bot.views.checkin import CHECKIN_FORM, VISIBILITY_FIELD, CheckinAction
from bot.views.entries import DELETE_FORM, EDIT_FORM, VISIBILITY_FORM, EntryAction
from bot.views.library import LibraryAction


class Action(StrEnum):
    """action_id of every interactive element."""

    # The check-in family's buttons are named in its view, the same on both platforms.
    SHARE_LEARNING = CheckinAction.SHARE_LEARNING.value
    SKIP_WEEK = CheckinAction.SKIP_WEEK.value
    PAUSE_PROMPTS = CheckinAction.PAUSE_PROMPTS.value
    ADD_DETAIL = CheckinAction.ADD_DETAIL.value
    VISIBILITY = VISIBILITY_FIELD
    # "Escalate this" on a check-in's thanks (the barrier ids are in bot/views/barriers).
    ESCALATE_CHECKIN = CheckinAction.ESCALATE_CHECKIN.value
    # The privacy panel's and the App Home's ids are in bot/views/privacy.py and home.py.
    # "Nothing this week" on the prompt, and the inputs of the inquiry form.
    NOTHING_THIS_WEEK = CheckinAction.NOTHING_THIS_WEEK.value
    INQUIRY_INPUT = "inquiry_input"
    # An author's own entries (App Home): each button's value is the entry's id.
    ENTRY_EDIT = EntryAction.EDIT.value
    ENTRY_VISIBILITY = EntryAction.VISIBILITY.value
    ENTRY_DELETE = EntryAction.DELETE.value
    ENTRIES_PAGE = EntryAction.PAGE.value  # value: the offset of the page to show
    # The learning library's "More results" (value: the search and where its page ended).
    LIBRARY_MORE = LibraryAction.MORE.value


class View(StrEnum):
    """callback_id of every modal."""

    CHECKIN = CHECKIN_FORM
    # Inquiries.
    INQUIRY_START = "inquiry_start_modal"
    # An author's own entries.
    ENTRY_EDIT = EDIT_FORM
    ENTRY_VISIBILITY = VISIBILITY_FORM
    ENTRY_DELETE = DELETE_FORM


class Block(StrEnum):
    """block_id of fixed blocks."""

    VISIBILITY = VISIBILITY_FIELD
    # The inquiry form.
    INQUIRY_QUESTION = "inquiry_question"
    INQUIRY_COHORT = "inquiry_cohort"
    INQUIRY_WEEKS = "inquiry_weeks"


class Command(StrEnum):
    """Slash commands (also listed in manifest.yml)."""

    CHECKIN = "/checkin"
    LEARNLOOP = "/learnloop"
    ESCALATE = "/escalate"
    BARRIERS = "/barriers"

"""Stable ids for Slack actions, views and blocks (tests and the manifest rely on them)."""

from __future__ import annotations

from enum import StrEnum

from bot.views.checkin import CHECKIN_FORM, VISIBILITY_FIELD, CheckinAction
from bot.views.entries import DELETE_FORM, EDIT_FORM, VISIBILITY_FORM, EntryAction


class Action(StrEnum):
    """action_id of every interactive element."""

    # The check-in family's buttons are named in its view, the same on both platforms.
    SHARE_LEARNING = CheckinAction.SHARE_LEARNING.value
    SKIP_WEEK = CheckinAction.SKIP_WEEK.value
    PAUSE_PROMPTS = CheckinAction.PAUSE_PROMPTS.value
    ADD_DETAIL = CheckinAction.ADD_DETAIL.value
    VISIBILITY = VISIBILITY_FIELD
    # Issue 5: escalations (buttons, then modal inputs).
    ESCALATE_CHECKIN = CheckinAction.ESCALATE_CHECKIN.value
    BARRIER_ACKNOWLEDGE = "barrier_acknowledge"
    BARRIER_ASSIGN = "barrier_assign"
    BARRIER_ESCALATE = "barrier_escalate_up"
    BARRIER_RESOLVE = "barrier_resolve"
    BARRIER_CLOSE = "barrier_close"
    BARRIER_INPUT = "barrier_input"
    # The privacy panel's and the App Home's ids are in bot/views/privacy.py and home.py.
    # Issue 9: "Nothing this week" on the prompt, and the inputs of the inquiry form.
    NOTHING_THIS_WEEK = CheckinAction.NOTHING_THIS_WEEK.value
    INQUIRY_INPUT = "inquiry_input"
    # An author's own entries (App Home): each button's value is the entry's id.
    ENTRY_EDIT = EntryAction.EDIT.value
    ENTRY_VISIBILITY = EntryAction.VISIBILITY.value
    ENTRY_DELETE = EntryAction.DELETE.value
    ENTRIES_PAGE = EntryAction.PAGE.value  # value: the offset of the page to show


class View(StrEnum):
    """callback_id of every modal."""

    CHECKIN = CHECKIN_FORM
    # Issue 5: escalations.
    ESCALATE = "escalate_modal"
    BARRIER_ASSIGN = "barrier_assign_modal"
    BARRIER_RESOLVE = "barrier_resolve_modal"
    BARRIER_CLOSE = "barrier_close_modal"
    # Issue 9: inquiries.
    INQUIRY_START = "inquiry_start_modal"
    # An author's own entries.
    ENTRY_EDIT = EDIT_FORM
    ENTRY_VISIBILITY = VISIBILITY_FORM
    ENTRY_DELETE = DELETE_FORM


class Block(StrEnum):
    """block_id of fixed blocks."""

    VISIBILITY = VISIBILITY_FIELD
    # Issue 5: escalations.
    BARRIER_ACTIONS = "barrier_actions"
    BARRIER_TITLE = "barrier_title"
    BARRIER_DESCRIPTION = "barrier_description"
    BARRIER_AFFECTED = "barrier_affected"
    BARRIER_AGENCIES = "barrier_agencies"
    BARRIER_LEVEL = "barrier_level"
    BARRIER_CHECKINS = "barrier_checkins"
    BARRIER_ANONYMOUS = "barrier_anonymous"
    BARRIER_OWNER = "barrier_owner"
    BARRIER_NOTE = "barrier_note"
    # Issue 9: the inquiry form.
    INQUIRY_QUESTION = "inquiry_question"
    INQUIRY_COHORT = "inquiry_cohort"
    INQUIRY_WEEKS = "inquiry_weeks"


class Command(StrEnum):
    """Slash commands (also listed in manifest.yml)."""

    CHECKIN = "/checkin"
    LEARNLOOP = "/learnloop"
    ESCALATE = "/escalate"  # issue 5
    BARRIERS = "/barriers"  # issue 5

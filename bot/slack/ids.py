"""Stable ids for Slack actions, views and blocks (tests and the manifest rely on them)."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """action_id of every interactive element."""

    SHARE_LEARNING = "checkin_open"
    SKIP_WEEK = "prompt_skip"
    PAUSE_PROMPTS = "prompt_pause"
    ADD_DETAIL = "checkin_add_detail"
    ANSWER = "answer"
    THEMES = "themes"
    VISIBILITY = "visibility"
    # Issue 5: escalations (buttons, then modal inputs).
    ESCALATE_CHECKIN = "checkin_escalate"
    BARRIER_ACKNOWLEDGE = "barrier_acknowledge"
    BARRIER_ASSIGN = "barrier_assign"
    BARRIER_ESCALATE = "barrier_escalate_up"
    BARRIER_RESOLVE = "barrier_resolve"
    BARRIER_CLOSE = "barrier_close"
    BARRIER_INPUT = "barrier_input"
    # The privacy panel's and the App Home's ids are in bot/views/privacy.py and home.py.
    # Issue 9: "Nothing this week" on the prompt, and the inputs of the inquiry form.
    NOTHING_THIS_WEEK = "prompt_nothing"
    INQUIRY_INPUT = "inquiry_input"
    # An author's own entries (App Home): each button's value is the entry's id.
    ENTRY_EDIT = "entry_edit"
    ENTRY_VISIBILITY = "entry_visibility"
    ENTRY_DELETE = "entry_delete"
    ENTRIES_PAGE = "entries_page"  # value: the offset of the page to show


class View(StrEnum):
    """callback_id of every modal."""

    CHECKIN = "checkin_modal"
    # Issue 5: escalations.
    ESCALATE = "escalate_modal"
    BARRIER_ASSIGN = "barrier_assign_modal"
    BARRIER_RESOLVE = "barrier_resolve_modal"
    BARRIER_CLOSE = "barrier_close_modal"
    # Issue 9: inquiries.
    INQUIRY_START = "inquiry_start_modal"
    # An author's own entries.
    ENTRY_EDIT = "entry_edit_modal"
    ENTRY_VISIBILITY = "entry_visibility_modal"
    ENTRY_DELETE = "entry_delete_modal"


class Block(StrEnum):
    """block_id of fixed blocks."""

    PROMPT_ACTIONS = "prompt_actions"
    THEMES = "themes"
    VISIBILITY = "visibility"
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


QUESTION_BLOCK_PREFIX = "q_"


class Command(StrEnum):
    """Slash commands (also listed in manifest.yml)."""

    CHECKIN = "/checkin"
    LEARNLOOP = "/learnloop"
    ESCALATE = "/escalate"  # issue 5
    BARRIERS = "/barriers"  # issue 5

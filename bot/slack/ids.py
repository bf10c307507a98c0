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
    # Issue 5: "Escalate this" on a check-in's thanks (the barrier ids are in bot/views/barriers).
    ESCALATE_CHECKIN = "checkin_escalate"
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

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


class View(StrEnum):
    """callback_id of every modal."""

    CHECKIN = "checkin_modal"


class Block(StrEnum):
    """block_id of fixed blocks."""

    PROMPT_ACTIONS = "prompt_actions"
    THEMES = "themes"
    VISIBILITY = "visibility"


QUESTION_BLOCK_PREFIX = "q_"


class Command(StrEnum):
    """Slash commands (also listed in manifest.yml)."""

    CHECKIN = "/checkin"
    LEARNLOOP = "/learnloop"

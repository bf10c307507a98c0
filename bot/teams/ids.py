"""Stable ids for Teams card actions, dialogs, inputs and typed commands (tests rely on them)."""

from __future__ import annotations

from enum import StrEnum


class Verb(StrEnum):
    """`verb` of every Action.Execute (arrives as an adaptiveCard/action invoke)."""

    SKIP_WEEK = "prompt.skip"
    PAUSE_PROMPTS = "prompt.pause"
    BARRIER_ACKNOWLEDGE = "barrier.acknowledge"
    BARRIER_ESCALATE = "barrier.escalate"
    BARRIER_SHOW = "barrier.show"
    PRIVACY_EXPORT = "privacy.export"
    PRIVACY_DELETE = "privacy.delete"
    PRIVACY_DELETE_CONFIRMED = "privacy.delete_confirmed"
    PRIVACY_KEEP = "privacy.keep"
    PRIVACY_START_AGAIN = "privacy.start_again"
    # An author's own entries (`entries`): each carries the entry's id (or the page's offset).
    ENTRIES_PAGE = "entries.page"
    ENTRY_DELETE = "entry.delete"
    ENTRY_DELETE_CONFIRMED = "entry.delete_confirmed"
    ENTRY_KEEP = "entry.keep"


class Dialog(StrEnum):
    """`dialog_id` of every dialog a card button opens (arrives as task/fetch)."""

    CHECKIN = "checkin"
    ESCALATE = "escalate"
    BARRIER_ASSIGN = "barrier.assign"
    BARRIER_RESOLVE = "barrier.resolve"
    BARRIER_CLOSE = "barrier.close"
    ENTRY_EDIT = "entry.edit"
    ENTRY_VISIBILITY = "entry.visibility"


class Submit(StrEnum):
    """`action` of every dialog's submit button (arrives as task/submit)."""

    CHECKIN = "checkin.save"
    ESCALATE = "escalate.save"
    BARRIER = "barrier.save"
    ENTRY_EDIT = "entry.save"
    ENTRY_VISIBILITY = "entry.visibility.save"


class Command(StrEnum):
    """Typed commands and command-menu entries (listed in the app manifest)."""

    HELP = "help"
    CHECKIN = "checkin"
    ESCALATE = "escalate"
    BARRIERS = "barriers"
    PAUSE = "pause"
    RESUME = "resume"
    PRIVACY = "privacy"
    ENTRIES = "entries"
    DIGEST = "digest"
    FIND = "find"
    ADMIN = "admin"  # admin add|remove|list (LearnLoop admins)


# Commands answered in a team channel; the rest are one person's and answered in the 1:1 chat.
CHANNEL_COMMANDS = (Command.ESCALATE, Command.BARRIERS, Command.HELP)


class ExtensionCommand(StrEnum):
    """Message-extension action commands (the "+" menu): each opens a dialog directly."""

    CHECKIN = "shareLearning"
    ESCALATE = "raiseBarrier"

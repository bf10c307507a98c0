"""View-models: what a message says, independent of the platform that renders it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class PromptState(StrEnum):
    """What the prompt message shows."""

    OPEN = "open"
    ANSWERED = "answered"
    SKIPPED = "skipped"
    PAUSED = "paused"
    EXPIRED = "expired"
    NOTHING = "nothing"  # issue 9: "Nothing this week"


@dataclass(frozen=True)
class PromptView:
    """The weekly "what did we learn?" DM."""

    prompt_id: int
    alliance_name: str
    question: str
    state: PromptState = PromptState.OPEN
    paused_until: dt.date | None = None
    redaction_summary: str = ""
    # Issue 5: the saved check-in named a barrier, so the thanks offers "Escalate this".
    escalate_checkin_id: int | None = None
    # Issue 9: questions this cycle's form asks as well (an inquiry's, the purpose question).
    extra_questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderView:
    """The one private nudge about a prompt still unanswered."""

    prompt_id: int
    alliance_name: str
    question: str
    channel: str | None = None


@dataclass(frozen=True)
class ReplySavedView:
    """The answer to a plain DM reply that was stored as a check-in."""

    checkin_id: int
    redaction_summary: str = ""
    notes: list[str] = field(default_factory=list)
    # Issue 5: the saved check-in named a barrier, so the answer offers "Escalate this".
    escalate_checkin_id: int | None = None


# ----------------------------------------------------------------- issue 5: escalations


@dataclass(frozen=True)
class CheckinSavedView:
    """The thanks DM after a check-in saved without a prompt message to update."""

    checkin_id: int
    redaction_summary: str = ""
    escalate_checkin_id: int | None = None

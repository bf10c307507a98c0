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


@dataclass(frozen=True)
class PromptView:
    """The weekly "what did we learn?" DM."""

    prompt_id: int
    alliance_name: str
    question: str
    state: PromptState = PromptState.OPEN
    paused_until: dt.date | None = None
    redaction_summary: str = ""


@dataclass(frozen=True)
class ReplySavedView:
    """The answer to a plain DM reply that was stored as a check-in."""

    checkin_id: int
    redaction_summary: str = ""
    duplicate: bool = False
    notes: list[str] = field(default_factory=list)

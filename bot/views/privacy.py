"""View-models for a person's privacy panel (issue 6), independent of the platform.

Kept apart from bot/views.py only so parallel work on other messages does not collide.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class PrivacyStage(StrEnum):
    """Which step of the privacy panel is shown."""

    PANEL = "panel"  # what we hold, with Export and Delete (or Start again)
    CONFIRM_DELETE = "confirm_delete"  # says exactly what deleting removes
    DELETED = "deleted"  # done
    KEPT = "kept"  # the person changed their mind
    EXPORTED = "exported"  # the file is in their DM
    RESTARTED = "restarted"  # a new, empty profile after a deletion


@dataclass(frozen=True)
class PrivacyView:
    """What LearnLoop holds about one person, and the step they are at."""

    stage: PrivacyStage
    is_member: bool
    retention_months: int
    checkins: int = 0
    anonymous: int = 0
    prompts: int = 0
    barriers_raised: int = 0
    first_saved: dt.date | None = None
    deleted_on: dt.date | None = None
    filename: str | None = None

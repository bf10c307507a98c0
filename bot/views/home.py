"""Issue 8: the App Home as a view-model, independent of the platform.

What a person sees depends on their roles: everyone sees their own check-ins (and can edit,
re-share or delete each), schedule and privacy actions; a steward also sees the open barriers
by ladder level; an admin also sees the configuration and delivery health — counts only,
never a person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.suppression import Count
from bot.views.entries import EntriesView


@dataclass(frozen=True)
class HomeSchedule:
    """When the person is asked, and whether they paused it."""

    cohort_id: str | None
    when: str | None  # "Thursdays at 15:00", or None when no cohort covers them
    time_zone: str
    reminder: str | None
    paused_until: dt.date | None


@dataclass(frozen=True)
class HomeBarrier:
    """An open barrier as a steward sees it in the list."""

    title: str
    status_label: str
    days_since_change: int
    card_url: str | None


@dataclass(frozen=True)
class HomeLevel:
    """One rung of the ladder with its open barriers."""

    name: str
    barriers: tuple[HomeBarrier, ...]


@dataclass(frozen=True)
class HomeAdmin:
    """The configuration and delivery health, counts only."""

    alliance_name: str
    agencies: int
    agencies_by_platform: dict[str, int]
    cohorts: int
    digests: int
    themes: int
    ladder: tuple[str, ...]
    retention_months: int
    suppress_below: int
    # Counts about people and deliveries pass the suppression rule like every other output.
    members: dict[str, Count]  # active, paused, inactive
    prompts: dict[str, Count]  # by ledger status, last `days` days
    prompt_errors: dict[str, Count]  # failed prompts by error code
    digests_by_status: dict[str, Count]
    days: int


@dataclass(frozen=True)
class HomeView:
    """Everything the App Home shows one person."""

    roles: frozenset[str]
    is_member: bool
    data_deleted: bool = False
    agency_name: str | None = None
    entries: EntriesView | None = None  # the person's own entries, with what they can change
    schedule: HomeSchedule | None = None
    levels: tuple[HomeLevel, ...] | None = None  # stewards only
    open_barriers: int = 0
    admin: HomeAdmin | None = None  # admins only
    notice: str | None = None  # the result of a button just pressed
    problem: str | None = None  # why a button just pressed did nothing

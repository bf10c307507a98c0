"""View-models: what a message says, independent of the platform that renders it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BarrierChangeView:
    """The latest thing that happened to a barrier, for its card."""

    kind: str
    at: dt.datetime
    actor_user_id: str | None = None
    to_level_name: str | None = None


@dataclass(frozen=True)
class BarrierCardView:
    """A barrier's card in its ladder level's channel. Never carries an anonymous raiser."""

    barrier_id: int
    version: int
    title: str
    description: str
    status: str
    status_label: str
    level_name: str
    raised_on: dt.date
    who_is_affected: str | None = None
    agency_names: list[str] = field(default_factory=list)
    owner_user_id: str | None = None
    # None whenever the raiser asked not to be named: renderers have nothing to leak.
    raised_by_user_id: str | None = None
    linked_checkins: int = 0
    outcome: str | None = None
    last_change: BarrierChangeView | None = None
    # Action values a steward may take now, in order (see bot.domain.escalation).
    actions: list[str] = field(default_factory=list)
    next_level_name: str | None = None
    note: str = ""


@dataclass(frozen=True)
class BarrierPointerView:
    """What a card turns into when its barrier moves up a level: a pointer to the new card."""

    barrier_id: int
    title: str
    to_level_name: str
    to_channel: str
    at: dt.datetime
    actor_user_id: str | None = None
    card_url: str | None = None


@dataclass(frozen=True)
class BarrierNoticeView:
    """A DM to someone who raised a barrier or linked a check-in to it: what just happened."""

    barrier_id: int
    title: str
    kind: str
    level_name: str
    as_raiser: bool = True
    anonymous: bool = False
    actor_user_id: str | None = None
    owner_user_id: str | None = None
    note: str | None = None
    redaction_summary: str = ""
    card_url: str | None = None


@dataclass(frozen=True)
class BarrierLine:
    """One barrier in a list (`/barriers`, stale reminders)."""

    barrier_id: int
    title: str
    status_label: str
    level_name: str
    days_since_change: int
    owner_user_id: str | None = None
    card_url: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class BarrierListView:
    """The answer to `/barriers`: a compact list with links to the cards."""

    heading: str
    lines: list[BarrierLine]
    total: int
    empty_text: str


@dataclass(frozen=True)
class StaleBarriersView:
    """The weekly reminder in a level's channel of barriers that have not moved."""

    level_name: str
    stale_days: int
    lines: list[BarrierLine]


@dataclass(frozen=True)
class EscalateFormView:
    """The "Raise a barrier" modal: choices from the config and the raiser's check-ins."""

    levels: list[tuple[str, str]]
    agencies: list[tuple[str, str]]
    recent_checkins: list[tuple[int, str]] = field(default_factory=list)
    title: str = ""
    description: str = ""
    linked: list[int] = field(default_factory=list)
    source_checkin_id: int | None = None

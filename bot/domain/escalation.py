"""Escalations (barriers): their states and the moves allowed between them, as one table."""

from __future__ import annotations

from enum import StrEnum


class EscalationStatus(StrEnum):
    """Where a barrier is: open → acknowledged → in progress → resolved | closed."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


TRANSITIONS: dict[EscalationStatus, frozenset[EscalationStatus]] = {
    EscalationStatus.OPEN: frozenset(
        {
            EscalationStatus.ACKNOWLEDGED,
            EscalationStatus.IN_PROGRESS,
            EscalationStatus.RESOLVED,
            EscalationStatus.CLOSED,
        }
    ),
    EscalationStatus.ACKNOWLEDGED: frozenset(
        {EscalationStatus.IN_PROGRESS, EscalationStatus.RESOLVED, EscalationStatus.CLOSED}
    ),
    EscalationStatus.IN_PROGRESS: frozenset({EscalationStatus.RESOLVED, EscalationStatus.CLOSED}),
    EscalationStatus.RESOLVED: frozenset(),
    EscalationStatus.CLOSED: frozenset(),
}


def can_move(current: EscalationStatus, target: EscalationStatus) -> bool:
    """Whether the state machine allows moving from `current` to `target`."""
    return target in TRANSITIONS[current]

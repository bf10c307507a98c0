"""What the review pack's assurance section reads from the barrier register. Never commits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.assurance import OpenBarrier, Resolution
from storage.models import EscalationEventRow, EscalationRow

DONE = ("resolved", "closed")


def _touches(agencies: list[str], agency_id: str | None) -> bool:
    return agency_id is None or agency_id in (agencies or [])


class AssuranceQueries:
    """Open barriers with their age, and barriers resolved in a period with their time."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def open_barriers(self, as_of: dt.datetime, agency_id: str | None) -> list[OpenBarrier]:
        """Barriers raised by `as_of` and not resolved or closed (an agency's: those naming it)."""
        rows = self.session.execute(
            select(EscalationRow.level, EscalationRow.created_at, EscalationRow.agencies).where(
                EscalationRow.status.not_in(DONE), EscalationRow.created_at <= as_of
            )
        )
        return [
            OpenBarrier(level, created)
            for level, created, agencies in rows
            if _touches(agencies, agency_id)
        ]

    def resolutions(
        self, start: dt.datetime, end: dt.datetime, agency_id: str | None
    ) -> list[Resolution]:
        """Barriers whose first resolution or closure fell in [start, end), and when."""
        first_done = (
            select(
                EscalationEventRow.escalation_id.label("escalation_id"),
                func.min(EscalationEventRow.at).label("at"),
            )
            .where(EscalationEventRow.to_status.in_(DONE))
            .group_by(EscalationEventRow.escalation_id)
            .subquery()
        )
        rows = self.session.execute(
            select(
                EscalationRow.level,
                EscalationRow.created_at,
                first_done.c.at,
                EscalationRow.agencies,
            )
            .join(first_done, first_done.c.escalation_id == EscalationRow.id)
            .where(first_done.c.at >= start, first_done.c.at < end)
        )
        out = []
        for level, created, done_at, agencies in rows:
            if not _touches(agencies, agency_id):
                continue
            # SQLite returns an aggregate's timestamp without its zone: it was stored in UTC.
            if isinstance(done_at, str):
                done_at = dt.datetime.fromisoformat(done_at)
            if done_at.tzinfo is None:
                done_at = done_at.replace(tzinfo=dt.UTC)
            out.append(Resolution(level, created, done_at))
        return out

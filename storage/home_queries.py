"""What the App Home reads for admins — counts (own entries: storage/entry_queries.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import OUTSIDE_AGENCY_ID, DigestRow, MemberRow, PromptRow


class HomeQueries:
    """Read-only queries for the App Home; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def prompt_counts(self, since: dt.datetime) -> dict[str, int]:
        """Prompts created since a time, by ledger status."""
        rows = self.session.execute(
            select(PromptRow.status, func.count())
            .where(PromptRow.created_at >= since)
            .group_by(PromptRow.status)
        )
        return {str(status): int(count) for status, count in rows}

    def prompt_errors(self, since: dt.datetime) -> dict[str, int]:
        """Failed prompts since a time, by the platform's error code."""
        rows = self.session.execute(
            select(PromptRow.error, func.count())
            .where(
                PromptRow.created_at >= since,
                PromptRow.status == "failed",
                PromptRow.error.is_not(None),
            )
            .group_by(PromptRow.error)
        )
        return {str(error): int(count) for error, count in rows}

    def digest_counts(self, since: dt.datetime) -> dict[str, int]:
        """Digests created since a time, by status."""
        rows = self.session.execute(
            select(DigestRow.status, func.count())
            .where(DigestRow.created_at >= since)
            .group_by(DigestRow.status)
        )
        return {str(status): int(count) for status, count in rows}

    def member_counts(self, now: dt.datetime) -> dict[str, int]:
        """Members who are active, paused at `now`, or inactive (unreachable)."""
        rows = self.session.execute(
            select(MemberRow.active, MemberRow.paused_until).where(
                MemberRow.agency_id != OUTSIDE_AGENCY_ID
            )
        )
        counts = {"active": 0, "paused": 0, "inactive": 0}
        for active, paused_until in rows:
            if not active:
                counts["inactive"] += 1
            elif paused_until is not None and paused_until > now:
                counts["paused"] += 1
            else:
                counts["active"] += 1
        return counts

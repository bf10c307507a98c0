"""Onboarding at alliance scale: the reload counter, shared directory listings, chat additions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import AgencyAdditionRow, ConfigReloadRow, DirectoryListingRow
from storage.repositories import insert_ignoring_conflicts

RELOAD_ROW_ID = 1


class OnboardingRepository:
    """Rows that let every process share what the alliance file names (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ reload counter

    def reload_generation(self) -> int:
        """How many reloads have been asked for (0 before the first)."""
        value = self.session.scalar(
            select(ConfigReloadRow.generation).where(ConfigReloadRow.id == RELOAD_ROW_ID)
        )
        return value or 0

    def request_reload(self, at: dt.datetime) -> int:
        """Bump the counter every process polls; the new generation."""
        insert_ignoring_conflicts(
            self.session, ConfigReloadRow, {"id": RELOAD_ROW_ID, "generation": 0}
        )
        # One UPDATE, so two `learnloop reload`s at once still each count.
        self.session.execute(
            update(ConfigReloadRow)
            .where(ConfigReloadRow.id == RELOAD_ROW_ID)
            .values(generation=ConfigReloadRow.generation + 1, requested_at=at)
        )
        return self.reload_generation()

    # ------------------------------------------------------------------ listings

    def listing(self, platform: str, kind: str, source: str) -> DirectoryListingRow | None:
        """The stored listing of a channel, user group or (hashed) e-mail address."""
        return self.session.scalar(
            select(DirectoryListingRow).where(
                DirectoryListingRow.platform == platform,
                DirectoryListingRow.kind == kind,
                DirectoryListingRow.source == source,
            )
        )

    def listings(self, keys: Sequence[tuple[str, str, str]]) -> list[DirectoryListingRow]:
        """Many stored listings at once, by (platform, kind, source)."""
        wanted = set(keys)
        sources = sorted({source for _, _, source in wanted})
        rows: list[DirectoryListingRow] = []
        for start in range(0, len(sources), 500):
            query = select(DirectoryListingRow).where(
                DirectoryListingRow.source.in_(sources[start : start + 500])
            )
            rows += [
                row
                for row in self.session.scalars(query)
                if (row.platform, row.kind, row.source) in wanted
            ]
        return rows

    def store_listing(
        self, platform: str, kind: str, source: str, user_ids: Sequence[str], at: dt.datetime
    ) -> DirectoryListingRow:
        """Create or refresh a listing (another process may have stored it meanwhile)."""
        insert_ignoring_conflicts(
            self.session,
            DirectoryListingRow,
            {
                "platform": platform,
                "kind": kind,
                "source": source,
                "user_ids": list(user_ids),
                "refreshed_at": at,
            },
        )
        row = self.listing(platform, kind, source)
        assert row is not None
        row.user_ids, row.refreshed_at = list(user_ids), at
        return row

    # ------------------------------------------------------------------ additions

    def addition(self, platform: str, user_id: str) -> AgencyAdditionRow | None:
        """The agency an admin added this person to from chat, if any."""
        return self.session.scalar(
            select(AgencyAdditionRow).where(
                AgencyAdditionRow.platform == platform,
                AgencyAdditionRow.platform_user_id == user_id,
            )
        )

    def add(
        self, platform: str, user_id: str, agency_id: str, added_by: str, at: dt.datetime
    ) -> AgencyAdditionRow:
        """Record (or move) a chat addition."""
        row = self.addition(platform, user_id)
        if row is None:
            row = AgencyAdditionRow(
                platform=platform,
                platform_user_id=user_id,
                agency_id=agency_id,
                added_by=added_by,
                added_at=at,
            )
            self.session.add(row)
        else:
            row.agency_id, row.added_by, row.added_at = agency_id, added_by, at
        self.session.flush()
        return row

    def remove(self, platform: str, user_id: str) -> bool:
        """Forget a chat addition; True if there was one."""
        result = self.session.execute(
            delete(AgencyAdditionRow).where(
                AgencyAdditionRow.platform == platform,
                AgencyAdditionRow.platform_user_id == user_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def additions(self, agency_ids: Sequence[str] | None = None) -> list[AgencyAdditionRow]:
        """Chat additions, oldest first (to the given agencies only, when named)."""
        query = select(AgencyAdditionRow).order_by(AgencyAdditionRow.id)
        if agency_ids is not None:
            query = query.where(AgencyAdditionRow.agency_id.in_(list(agency_ids)))
        return list(self.session.scalars(query))

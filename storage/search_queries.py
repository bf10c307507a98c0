"""The learning library's full-text search, on PostgreSQL and SQLite. Never commits.

PostgreSQL indexes each check-in's text answers with a GIN index on
`jsonb_to_tsvector('english', answers, '["string"]')` and reads a search with
`websearch_to_tsquery('english', …)`, which never raises on any input. SQLite keeps an FTS5
table (`checkins_fts`, Porter-stemmed, contentless) in step with `checkins` by triggers, and is
given a MATCH expression built only from quoted letters and digits. Both are made by the
migration `0004_library_search`; the expression below must stay the one that index is on.

The reader's rule is `bot.domain.visibility.can_read` for `Audience.member`: the WHERE clause
here only narrows the rows the database reads, and the service checks every row it shows
against the domain rule again (a property test holds the two together).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, column, exists, or_, select, table
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from bot.domain.checkins import Visibility
from bot.domain.search import Terms, fts5_match, websearch_text
from storage.models import CheckinRow, CheckinThemeRow, ThemeRow

# The document PostgreSQL's GIN index `ix_checkins_search` is built on (migration 0004).
PG_DOCUMENT = (
    "jsonb_to_tsvector('english'::regconfig, (checkins.answers)::jsonb, '[\"string\"]'::jsonb)"
)
PG_INDEX = "ix_checkins_search"
FTS_TABLE = "checkins_fts"
# What the schema test leaves out of the model comparison: the search index is not a model.
SEARCH_OBJECTS = frozenset(
    {PG_INDEX, FTS_TABLE, *(f"{FTS_TABLE}_{s}" for s in ("data", "idx", "docsize", "config"))}
)

_fts = table(FTS_TABLE, column("rowid"))


@dataclass(frozen=True)
class Reader:
    """Who is searching: their member id and agency (the audience `Audience.member` names)."""

    member_id: int
    agency_id: str


@dataclass(frozen=True)
class Cursor:
    """Where the last page ended: results continue after this entry (newest first)."""

    created_at: dt.datetime
    checkin_id: int


class SearchQueries:
    """Find check-ins by words, theme and agency that one reader may read, newest first."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        """The database's dialect name (postgresql or sqlite)."""
        return self.session.get_bind().dialect.name

    def _matches(self, terms: Terms) -> ColumnElement[bool]:
        if self.dialect == "postgresql":
            return sql_text(
                f"{PG_DOCUMENT} @@ websearch_to_tsquery('english'::regconfig, :search_terms)"
            ).bindparams(search_terms=websearch_text(terms))  # type: ignore[return-value]
        matched = select(_fts.c.rowid).where(
            sql_text(f"{FTS_TABLE} MATCH :search_terms").bindparams(search_terms=fts5_match(terms))
        )
        return CheckinRow.id.in_(matched)

    def search(
        self,
        reader: Reader,
        terms: Terms,
        *,
        theme: str | None = None,
        agency_id: str | None = None,
        after: Cursor | None = None,
        limit: int = 5,
    ) -> list[CheckinRow]:
        """Up to `limit` check-ins the reader may read that match, newest first, after `after`."""
        readable = or_(
            CheckinRow.member_id == reader.member_id,
            CheckinRow.agency_id == reader.agency_id,
            CheckinRow.visibility.in_((Visibility.ALLIANCE.value, Visibility.ANONYMOUS.value)),
        )
        where: list[ColumnElement[bool]] = [readable]
        if terms:
            where.append(self._matches(terms))
        if theme is not None:
            where.append(
                exists(
                    select(CheckinThemeRow.checkin_id)
                    .join(ThemeRow, ThemeRow.id == CheckinThemeRow.theme_id)
                    .where(CheckinThemeRow.checkin_id == CheckinRow.id, ThemeRow.name == theme)
                )
            )
        if agency_id is not None:
            # Someone else's anonymous entry never answers a search by agency: that would tie
            # it to its agency.
            where.append(CheckinRow.agency_id == agency_id)
            where.append(
                or_(
                    CheckinRow.visibility != Visibility.ANONYMOUS.value,
                    CheckinRow.member_id == reader.member_id,
                )
            )
        if after is not None:
            where.append(
                or_(
                    CheckinRow.created_at < after.created_at,
                    and_(
                        CheckinRow.created_at == after.created_at,
                        CheckinRow.id < after.checkin_id,
                    ),
                )
            )
        return list(
            self.session.scalars(
                select(CheckinRow)
                .where(*where)
                .order_by(CheckinRow.created_at.desc(), CheckinRow.id.desc())
                .limit(limit)
            )
        )

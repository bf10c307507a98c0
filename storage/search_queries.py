"""The learning library's full-text search, on PostgreSQL and SQLite. Never commits.

PostgreSQL keeps a stored, generated column `search_vector` =
`jsonb_to_tsvector('english', answers, '["string"]')` with a GIN index, and reads a search with
`websearch_to_tsquery('english', …)`, which never raises on any input. SQLite keeps an FTS5
table (`checkins_fts`, Porter-stemmed, contentless) in step with `checkins` by triggers, and is
given a MATCH expression built only from quoted letters and digits. Both are made by the
migration `0005_library_search`.

The reader's rule is `bot.domain.visibility.can_read` for `Audience.member`: the WHERE clause
here only narrows the rows the database reads, and the service checks every row it shows
against the domain rule again (a property test holds the two together).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from bot.domain.checkins import Visibility
from bot.domain.search import Terms, fts5_match, websearch_text
from storage.models import CheckinRow, CheckinThemeRow, ThemeRow

# The stored tsvector column (generated from the answers) and its GIN index (migration 0005).
PG_VECTOR = "checkins.search_vector"
PG_INDEX = "ix_checkins_search"
FTS_TABLE = "checkins_fts"
# Under this many matches SQLite fetches them by id and sorts; at or over it, it walks newest
# first (bench/library_search.py measures both sides).
FEW_MATCHES = 2000
# What the schema test leaves out of the model comparison: the search index is not a model.
SEARCH_OBJECTS = frozenset(
    {
        PG_INDEX,
        "search_vector",
        FTS_TABLE,
        *(f"{FTS_TABLE}_{s}" for s in ("data", "idx", "docsize", "config")),
    }
)


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
            tsquery = "websearch_to_tsquery('english'::regconfig, :search_terms)"
            web = websearch_text(terms)
            # The planner overestimates an unseen word's matches and would walk every row
            # newest first: when the GIN index finds few, fetch those by id (OFFSET 0 fences).
            few = (
                self.session.scalar(
                    sql_text(
                        f"SELECT count(*) FROM (SELECT 1 FROM checkins WHERE {PG_VECTOR} @@ "
                        f"{tsquery} LIMIT {FEW_MATCHES}) AS found"
                    ),
                    {"search_terms": web},
                )
                or 0
            ) < FEW_MATCHES
            if few:
                return sql_text(  # type: ignore[return-value]
                    "checkins.id IN (SELECT found.id FROM (SELECT inner_c.id FROM checkins "
                    f"AS inner_c WHERE inner_c.search_vector @@ {tsquery} OFFSET 0) AS found)"
                ).bindparams(search_terms=web)
            return sql_text(f"{PG_VECTOR} @@ {tsquery}").bindparams(  # type: ignore[return-value]
                search_terms=web
            )
        match = fts5_match(terms)
        # Few matches: fetch them by id and sort them. Many: fetching and sorting every one
        # is the slow part, so `+checkins.id` steers SQLite to walk the created_at index
        # newest first instead, probing the match list (built once), and stop at the page.
        few = (
            self.session.scalar(
                sql_text(
                    f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} "
                    f"WHERE {FTS_TABLE} MATCH :search_terms LIMIT {FEW_MATCHES})"
                ),
                {"search_terms": match},
            )
            or 0
        ) < FEW_MATCHES
        column = "checkins.id" if few else "+checkins.id"
        return sql_text(  # type: ignore[return-value]
            f"{column} IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :search_terms)"
        ).bindparams(search_terms=match)

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
        if self.dialect == "postgresql":
            # psycopg prepares a statement run often, and a generic plan cannot see the search
            # terms (nor the count below): plan each search for its own terms.
            self.session.execute(sql_text("SET LOCAL plan_cache_mode = force_custom_plan"))
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
            if self.dialect == "sqlite":
                # As above: an equality on agency_id would steer SQLite off the created_at walk.
                where.append(
                    sql_text("+checkins.agency_id = :by_agency").bindparams(by_agency=agency_id)  # type: ignore[arg-type]
                )
            else:
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
        query = (
            select(CheckinRow)
            .where(*where)
            .order_by(CheckinRow.created_at.desc(), CheckinRow.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(query))

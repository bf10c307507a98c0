"""The learning library: `find WORDS [--theme T] [--agency A]` over past learnings.

A person searches what they may read (`Audience.member`: their own entries, their agency's, and
what was shared with the alliance), newest first, a page at a time. The "More results" button
carries the search as typed and where its last page ended, and is read again for whoever
presses it, so a forwarded or forged button can show nothing the presser may not read.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.alliance import AllianceConfig
from bot.domain.errors import NotAMember
from bot.domain.search import BadSearch, Named, Search, excerpt, parse_search
from bot.domain.visibility import Audience, attribution, can_read
from bot.ports import Clock
from bot.services.members import MemberService
from bot.views.errors import out_of_date
from bot.views.library import FindView, FoundEntry
from bot.views.words import Cmd, Command
from storage.models import OUTSIDE_AGENCY_ID, CheckinRow, MemberRow
from storage.search_queries import Cursor, Reader, SearchQueries
from storage.uow import UnitOfWork, UnitOfWorkFactory

PAGE_SIZE = 5
EXCERPT_CHARS = 160


class LibraryService:
    """Search past learnings a person may read."""

    def __init__(
        self, uow: UnitOfWorkFactory, alliance: AllianceConfig, members: MemberService, clock: Clock
    ) -> None:
        self.uow = uow
        self.alliance = alliance
        self.members = members
        self.clock = clock

    def _themes(self) -> list[Named]:
        return [Named(name, (name,)) for name in self.alliance.themes]

    def _agencies(self) -> list[Named]:
        return [Named(a.id, (a.name, a.id)) for a in self.alliance.agencies]

    def read(self, text: str) -> Search:
        """The search as typed (BadSearch says what to type instead)."""
        return parse_search(text, self._themes(), self._agencies())

    def find(self, platform: str, user_id: str, text: str) -> FindView:
        """The first page of results for what the person typed after `find`."""
        try:
            search = self.read(text)
        except BadSearch as problem:
            return FindView(query=text.strip(), problem=problem.words)
        return self._page(platform, user_id, search, None)

    def more(self, platform: str, user_id: str, value: str) -> FindView:
        """The next page, from a "More results" button's value."""
        try:
            state: Any = json.loads(value)
            text = str(state["q"])
            after = Cursor(dt.datetime.fromisoformat(str(state["t"])), int(state["i"]))
        except (ValueError, TypeError, KeyError):
            return FindView(query="", problem=out_of_date(Cmd(Command.FIND)))
        if after.created_at.tzinfo is None:
            return FindView(query="", problem=out_of_date(Cmd(Command.FIND)))
        try:
            search = self.read(text)
        except BadSearch as problem:
            return FindView(query=text.strip(), problem=problem.words)
        return self._page(platform, user_id, search, after)

    def _reader(self, uow: UnitOfWork, platform: str, user_id: str) -> MemberRow:
        try:
            return self.members.find(uow, platform, user_id)
        except NotAMember:
            # Stewards outside every agency still read what the alliance shares.
            row = uow.members.by_platform_id(platform, user_id)
            if row is None or row.agency_id != OUTSIDE_AGENCY_ID:
                raise
            return row

    def _page(self, platform: str, user_id: str, search: Search, after: Cursor | None) -> FindView:
        with self.uow() as uow:
            member = self._reader(uow, platform, user_id)
            audience = Audience.member(member.id, member.agency_id)
            rows = SearchQueries(uow.session).search(
                Reader(member.id, member.agency_id),
                search.terms,
                theme=search.theme,
                agency_id=search.agency_id,
                after=after,
                limit=PAGE_SIZE + 1,
            )
            page, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
            # The query narrows; the one visibility rule decides (they are tested to agree).
            shown = [r for r in page if can_read(audience, r)]
            entries = tuple(self._found(audience, r, search) for r in shown)
            cursor = None
            if more and page:
                last = page[-1]
                cursor = json.dumps(
                    {"q": search.text, "t": last.created_at.isoformat(), "i": last.id},
                    separators=(",", ":"),
                )
        return FindView(query=search.text, entries=entries, more=cursor, first_page=after is None)

    def _found(self, audience: Audience, row: CheckinRow, search: Search) -> FoundEntry:
        try:
            agency = self.alliance.agency(row.agency_id).name
        except KeyError:
            agency = "An agency no longer in the alliance"
        texts = [v for v in row.answers.values() if isinstance(v, str)]
        return FoundEntry(
            saved_on=row.created_at.astimezone(self.alliance.alliance.zone).date(),
            themes=tuple(sorted(t.name for t in row.themes)),
            # The byline without the author's name: a library lists what was learned.
            byline=attribution(audience, row, None, agency),
            excerpt=excerpt(texts, search.terms.words, EXCERPT_CHARS),
        )

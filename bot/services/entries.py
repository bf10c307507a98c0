"""An author's control over each of their own entries: list, change who can see it, delete.

Editing the text goes through CheckinService.submit (the same validation and redaction as a new
check-in, and the edit window); this service lists, re-shares and deletes. Every action takes
the acting person's platform id and checks the entry is theirs in the same transaction that
changes it, so an entry id from someone else's screen changes nothing. Every change leaves an
audit event that names the entry and what changed, never its text.
"""

from __future__ import annotations

import datetime as dt

from bot.alliance import AllianceConfig
from bot.domain.answers import answer_text, barrier_id
from bot.domain.checkins import Visibility
from bot.domain.entries import editable_until, may_edit
from bot.domain.errors import NotFound, ValidationFailed
from bot.ports import Clock
from bot.services.members import MemberService
from bot.views import entries as words
from bot.views.checkin import ReplySavedView
from bot.views.entries import DeleteEntryView, EntriesView, EntryLine, VisibilityChoiceView
from storage.entry_queries import EntryQueries
from storage.models import CheckinRow, MemberRow
from storage.uow import UnitOfWork, UnitOfWorkFactory

PAGE_SIZE = 5
EXCERPT_CHARS = 140


def excerpt_of(row: CheckinRow, limit: int = EXCERPT_CHARS) -> str:
    """The first text answer of an entry on one line, cut to `limit` characters."""
    first = next((v for v in row.answers.values() if isinstance(v, str) and v.strip()), "")
    text = " ".join(first.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def who_can_see(visibility: str, agency_name: str) -> str:
    """The author's sharing choice said as who can read the entry."""
    choice = Visibility(visibility)
    if choice is Visibility.TEAM:
        return f"people in {agency_name}, with your name"
    if choice is Visibility.ALLIANCE:
        return "everyone in the alliance, with your name and agency"
    return "everyone in the alliance, without your name or agency"


class EntryService:
    """The author's own entries, page by page, and the changes only the author may make."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.alliance = alliance
        self.members = members
        self.clock = clock

    # ------------------------------------------------------------------ reading

    def page(
        self, platform: str, user_id: str, offset: int = 0, notice: str | None = None
    ) -> EntriesView:
        """A page of the person's own entries, newest first (NotAMember if not in the alliance)."""
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            return self.page_for(uow, member, offset, notice)

    def page_for(
        self, uow: UnitOfWork, member: MemberRow, offset: int = 0, notice: str | None = None
    ) -> EntriesView:
        """The same page, inside a unit of work the caller already holds."""
        queries = EntryQueries(uow.session)
        total = queries.count(member.id)
        offset = max(0, min(offset, max(total - 1, 0)))
        rows = queries.page(member.id, offset, PAGE_SIZE)
        agency_name = self._agency_name(member.agency_id)
        return EntriesView(
            entries=tuple(self._line(row, agency_name) for row in rows),
            total=total,
            offset=offset,
            older_offset=offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
            newer_offset=max(0, offset - PAGE_SIZE) if offset > 0 else None,
            notice=notice,
        )

    def visibility_choice(
        self, platform: str, user_id: str, checkin_id: int
    ) -> VisibilityChoiceView:
        """The "Change who can see it" step for one of the person's entries."""
        with self.uow() as uow:
            row = self._own(uow, platform, user_id, checkin_id)
            return VisibilityChoiceView(
                checkin_id=row.id,
                saved_on=self._local_date(row.created_at),
                excerpt=excerpt_of(row, 80),
                current=row.visibility,
                options=tuple((v.value, v.label) for v in Visibility),
            )

    def confirm_delete(self, platform: str, user_id: str, checkin_id: int) -> DeleteEntryView:
        """The confirmation step: which entry, what goes and what stays."""
        with self.uow() as uow:
            row = self._own(uow, platform, user_id, checkin_id)
            return DeleteEntryView(
                checkin_id=row.id,
                saved_on=self._local_date(row.created_at),
                excerpt=excerpt_of(row, 80),
                barriers_linked=EntryQueries(uow.session).barriers_linked(row.id),
            )

    # ------------------------------------------------------------------ changing

    def change_visibility(
        self, platform: str, user_id: str, checkin_id: int, visibility: str
    ) -> str:
        """Set who can see one entry (any time); the notice to show the author."""
        try:
            choice = Visibility(visibility)
        except ValueError:
            raise ValidationFailed({"visibility": "Choose who can see this."}) from None
        with self.uow() as uow:
            row = self._own(uow, platform, user_id, checkin_id)
            before = row.visibility
            if before != choice.value:
                row.visibility = choice.value
                uow.audit.record(
                    at=self.clock(),
                    actor=f"{platform}:{user_id}",
                    action="checkin.visibility_changed",
                    target=f"checkin:{row.id}",
                    before=before,
                    after=choice.value,
                )
            uow.commit()
        return words.VISIBILITY_CHANGED.format(label=choice.label)

    def share_reply(
        self, platform: str, user_id: str, checkin_id: int, visibility: str
    ) -> ReplySavedView:
        """One click on a saved reply's answer: share it wider, audited as any other change.

        The same change as "Change who can see it" (the entry must be the presser's own); the
        answer is the reply's confirmation as it now reads.
        """
        if visibility not in (Visibility.ALLIANCE, Visibility.ANONYMOUS):
            raise ValidationFailed({"visibility": "Choose who can see this."})
        self.change_visibility(platform, user_id, checkin_id, visibility)
        with self.uow() as uow:
            row = self._own(uow, platform, user_id, checkin_id)
            asked = barrier_id(row.questions or [])
            named = bool(asked and answer_text(row.answers.get(asked)).strip())
            return ReplySavedView(
                checkin_id=row.id,
                escalate_checkin_id=row.id if named else None,
                shared=row.visibility,
            )

    def delete(self, platform: str, user_id: str, checkin_id: int) -> str:
        """Delete one entry (any time), after the author confirmed; the notice to show them."""
        with self.uow() as uow:
            row = self._own(uow, platform, user_id, checkin_id)
            row_id = row.id
            barriers = EntryQueries(uow.session).delete(row_id)
            uow.audit.record(
                at=self.clock(),
                actor=f"{platform}:{user_id}",
                action="checkin.deleted",
                target=f"checkin:{row_id}",
                barriers_unlinked=barriers,
            )
            uow.commit()
        return words.DELETED

    # ------------------------------------------------------------------ helpers

    def _own(self, uow: UnitOfWork, platform: str, user_id: str, checkin_id: int) -> CheckinRow:
        member = self.members.find(uow, platform, user_id)
        row = uow.checkins.get(checkin_id)
        if row is None or row.member_id != member.id:
            # The same answer whether it never existed or is someone else's: nothing to learn.
            raise NotFound(words.GONE)
        return row

    def _line(self, row: CheckinRow, agency_name: str) -> EntryLine:
        now = self.clock()
        editable = may_edit(row.created_at, now)
        until = self._local_date(editable_until(row.created_at))
        return EntryLine(
            checkin_id=row.id,
            saved_on=self._local_date(row.created_at),
            excerpt=excerpt_of(row),
            themes=tuple(sorted(t.name for t in row.themes)),
            visibility=row.visibility,
            visibility_label=Visibility(row.visibility).label,
            who_can_see=who_can_see(row.visibility, agency_name),
            editable=editable,
            edit_note=words.edit_open_note(until) if editable else words.edit_closed_note(until),
        )

    def _agency_name(self, agency_id: str) -> str:
        try:
            return self.alliance.agency(agency_id).name
        except KeyError:
            return "your agency"

    def _local_date(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.alliance.alliance.zone).date()

"""The weekly "What the alliance learned" note to practitioners, and each person's switch.

Everyone in an agency gets it unless they turned it off (App Home, `/learnloop digest off`,
Teams' `digest off`); taking part is never required to receive it. The worker's `send_due`
sends it at the alliance digest's slot, once per member per week: each send claims the
member's unique ledger row first (storage/note_queries.py), so a restart or a second worker
never sends it twice, and every DM is paced like any other fan-out.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from bot.alliance import AllianceConfig
from bot.domain.digest import week_key
from bot.ports import TRANSIENT_ERRORS, Clock, Messenger, MessengerError
from bot.services.base import MemberFacingService
from bot.services.digests import DigestService
from bot.services.members import MemberService
from bot.views.digest import AllianceNoteView, alliance_note_message
from storage.note_queries import NoteStatus
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoteResult:
    """What one tick of the note did (counts only, no names)."""

    period: str
    sent: int = 0
    failed: int = 0
    retry: int = 0


class AllianceNoteService(MemberFacingService):
    """Sends the weekly alliance note and keeps each person's choice about it."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        messenger: Messenger,
        clock: Clock,
        digests: DigestService,
    ) -> None:
        super().__init__(uow, alliance, members, messenger, clock)
        self.digests = digests
        self._stop = threading.Event()

    def set_on(self, platform: str, user_id: str, on: bool) -> bool:
        """Turn someone's note on or off (NotAMember for people outside every agency)."""
        with self.uow() as uow:
            row = self.members.find(uow, platform, user_id)
            uow.members.set_alliance_note(row.id, on)
            uow.audit.record(
                actor=f"{platform}:{user_id}",
                action="alliance_note.on" if on else "alliance_note.off",
                target=f"member:{row.id}",
            )
            uow.commit()
        return on

    def build(self, week: str | None = None) -> AllianceNoteView:
        """The note for a week (nothing is sent or recorded)."""
        return self.digests.note(week)

    def request_stop(self) -> None:
        """Finish the DM under way and send no more this tick (the worker is stopping)."""
        self._stop.set()

    def send_due(self, now: dt.datetime | None = None) -> NoteResult | None:
        """Send this week's note to everyone due it, once the alliance digest's slot passed."""
        now = now or self.clock()
        dest = self.digests.note_destination()
        key = week_key(now, self.alliance.alliance.zone)
        period = self.digests.period(dest, key)
        if now < period.end:
            return None
        agencies = [a.id for a in self.alliance.agencies]
        with self.uow() as uow:
            due = uow.notes.due(key, agencies)
        if not due:
            return None
        message = alliance_note_message(self.digests.note(period))
        sent = failed = retry = 0
        for person in due:
            if self._stop.is_set():
                break
            with self.uow() as uow:
                mine = uow.notes.claim(person.member_id, key, now)
                uow.commit()
            if not mine:
                continue  # another worker has it, or it went already
            status, error = NoteStatus.SENT, None
            try:
                self.messenger.send(person.user_id, message, paced=True)
                sent += 1
            except MessengerError as exc:
                error = exc.code
                if exc.code in TRANSIENT_ERRORS:
                    status, retry = NoteStatus.PENDING, retry + 1
                else:
                    status, failed = NoteStatus.FAILED, failed + 1
            with self.uow() as uow:
                uow.notes.finish(person.member_id, key, status, error, now=self.clock())
                uow.commit()
        result = NoteResult(key, sent, failed, retry)
        log.info(
            "alliance note for %s: %d sent, %d failed, %d to retry",
            key,
            result.sent,
            result.failed,
            result.retry,
        )
        return result

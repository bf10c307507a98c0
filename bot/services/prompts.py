"""Sending the weekly prompt: a ledger row first, then the DM, so nobody is asked twice."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from bot.config import AllianceConfig, Cohort
from bot.domain.checkins import PromptStatus
from bot.domain.cycles import cycle_for, is_due, local_now
from bot.ports import Clock, Messenger, MessengerError
from bot.services.members import MemberInfo, MemberService
from bot.views import PromptView
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

PROMPT_QUESTION = "What did we learn this week?"


@dataclass
class CohortReport:
    """What one `send` did for one cohort (counts only: no names)."""

    cohort_id: str
    cycle: str
    due: bool
    sent: int = 0
    already: int = 0
    paused: int = 0
    inactive: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class PromptService:
    """Prompts each member of a cohort once per cycle."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        messenger: Messenger,
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.alliance = alliance
        self.members = members
        self.messenger = messenger
        self.clock = clock

    def send(self, cohort_id: str | None = None, now: bool = False) -> list[CohortReport]:
        """Prompt every cohort (or one) that is due; `now` sends whether or not it is due yet."""
        cohorts = [self.alliance.cohort(cohort_id)] if cohort_id else self.alliance.cohorts
        return [self.send_cohort(cohort, force=now) for cohort in cohorts]

    def send_cohort(self, cohort: Cohort, force: bool = False) -> CohortReport:
        """Prompt one cohort's members for the current cycle."""
        today = local_now(self.clock(), self.alliance.alliance.zone)
        cycle = cycle_for(cohort.id, today.date(), cohort.schedule.cadence)
        due = force or is_due([d.value for d in cohort.schedule.days], cohort.schedule.time, today)
        report = CohortReport(cohort_id=cohort.id, cycle=cycle.key, due=due)
        if not due:
            return report
        for member in self._members_of(cohort):
            self._prompt_one(member, cohort, cycle.key, report)
        log.info(
            "prompts for %s: sent=%d already=%d paused=%d failed=%d",
            cycle.key,
            report.sent,
            report.already,
            report.paused,
            report.failed,
        )
        return report

    def _members_of(self, cohort: Cohort) -> list[MemberInfo]:
        """The cohort's members: listed ids plus the people in each agency's channel."""
        found: dict[tuple[str, str], str] = {}
        for agency in self.alliance.cohort_agencies(cohort):
            user_ids = list(agency.members)
            if agency.channel:
                try:
                    user_ids += self.messenger.channel_members(agency.channel)
                except MessengerError as exc:
                    log.warning("could not list members of agency %s: %s", agency.id, exc.code)
            for user_id in user_ids:
                found.setdefault((agency.platform, user_id), agency.id)
        with self.uow() as uow:
            rows = [
                uow.members.ensure(platform, user_id, agency_id)
                for (platform, user_id), agency_id in found.items()
            ]
            infos = [MemberInfo.of(row) for row in rows]
            uow.commit()
        return infos

    def _prompt_one(
        self, member: MemberInfo, cohort: Cohort, cycle: str, report: CohortReport
    ) -> None:
        if not member.active:
            report.inactive += 1
            return
        if member.paused_at(self.clock()):
            report.paused += 1
            return
        with self.uow() as uow:
            # The ledger row is committed before the DM goes out: a crash after this point
            # leaves a pending row that the next run resumes, never a second message.
            prompt = uow.prompts.claim(member.id, cohort.id, cycle)
            uow.commit()
            prompt_id = prompt.id if prompt else None
        if prompt_id is None:
            report.already += 1
            return
        view = PromptView(
            prompt_id=prompt_id, alliance_name=self.alliance.alliance.name, question=PROMPT_QUESTION
        )
        try:
            ref = self.messenger.send_prompt(member.user_id, view)
        except MessengerError as exc:
            report.failed += 1
            report.errors[exc.code] += 1
            with self.uow() as uow:
                row = uow.prompts.get(prompt_id)
                assert row is not None
                row.status = PromptStatus.FAILED
                row.error = exc.code[:200]
                row.attempts += 1
                if exc.unreachable:
                    uow.members.mark_inactive(member.id, exc.code)
                uow.commit()
            log.warning("prompt %s not delivered: %s", prompt_id, exc.code)
            return
        with self.uow() as uow:
            row = uow.prompts.get(prompt_id)
            assert row is not None
            row.status = PromptStatus.SENT
            row.channel_id, row.message_ts = ref.channel, ref.ts
            row.sent_at = self.clock()
            row.attempts += 1
            uow.commit()
        report.sent += 1

"""Inquiries — start, list and close them — and the questions a check-in form asks now.

While an inquiry runs, the cohort's form carries its question after the set's own questions,
and every check-in the cohort makes is tagged to it. The purpose question joins the form in the
first cycle of each purpose period. Closing an inquiry posts its summary to the stewards.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from dataclasses import dataclass

from bot.alliance import (
    INQUIRY_QUESTION_ID,
    AllianceConfig,
    Cohort,
    Question,
    QuestionKind,
    QuestionSet,
)
from bot.domain.answers import INQUIRY, barrier_text, extra_text, learning_text
from bot.domain.digest import shorten
from bot.domain.errors import NotFound
from bot.domain.inquiry import (
    BadInquiryCommand,
    InquiryConflict,
    InquiryFact,
    InquiryInputs,
    InquiryStatus,
    clean_question,
    display_status,
    no_open_inquiry,
    no_such_inquiry,
    summarise_inquiry,
    window,
)
from bot.domain.purpose import cycle_start
from bot.domain.redaction import Redacted
from bot.domain.roles import Role, require
from bot.domain.suppression import suppressed
from bot.domain.visibility import Audience
from bot.ports import Clock, MessageRef, Messenger, MessengerError
from bot.services.purpose import PurposeService
from bot.views.inquiry import InquiryLine, InquirySummaryView, RaisedBarrier, summary_message
from bot.views.words import Cmd, Command, Literal, joined, words
from storage.models import InquiryRow
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

STEWARDS = (Role.STEWARD, Role.ADMIN)
# `/learnloop inquiry list` shows inquiries closed this recently, as well as open ones.
LIST_CLOSED_FOR = dt.timedelta(days=90)
SCHEDULE_ACTOR = "learnloop:schedule"


@dataclass(frozen=True)
class AskedSet:
    """The questions a form asks now, and what its check-in is tagged with."""

    qset: QuestionSet
    inquiry_id: int | None = None
    purpose_period: str | None = None


@dataclass(frozen=True)
class InquiryInfo:
    """A started inquiry, for the steward's confirmation."""

    id: int
    question: str
    cohort_id: str
    starts: dt.datetime
    ends: dt.datetime
    weeks: int
    redaction_summary: str = ""


@dataclass(frozen=True)
class ClosedInquiry:
    """What closing an inquiry did: its summary, and where (if anywhere) it was posted."""

    summary: InquirySummaryView
    channel: str | None
    posted: bool
    error: str | None = None


class InquiryService:
    """Inquiries and the extra questions of the check-in form."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        messenger: Messenger,
        clock: Clock,
        purpose: PurposeService | None = None,
    ) -> None:
        self.uow = uow
        self.alliance = alliance
        self.messenger = messenger
        self.clock = clock
        self.purpose = purpose or PurposeService(uow, alliance, clock)

    # ------------------------------------------------------------------ steward actions

    def start(
        self, platform: str, user_id: str, question: str | None, cohort_id: str | None, weeks: int
    ) -> InquiryInfo:
        """Start an inquiry for a cohort (stewards and admins only)."""
        self.require_steward(user_id, "run an inquiry")
        cohort = self._cohort(cohort_id)
        text, redactions = clean_question(question)
        now = self.clock()
        starts, ends = window(now, weeks)
        with self.uow() as uow:
            running = uow.inquiries.open_for(cohort.id)
            if running is not None:
                raise InquiryConflict(running.id, shorten(running.question, 80), cohort.id)
            row = uow.inquiries.add(
                InquiryRow(
                    cohort_id=cohort.id,
                    question=text,
                    weeks=weeks,
                    status=InquiryStatus.OPEN.value,
                    starts_at=starts,
                    ends_at=ends,
                    started_by=f"{platform}:{user_id}",
                    created_at=now,
                )
            )
            uow.audit.record(
                actor=f"{platform}:{user_id}",
                action="inquiry.started",
                target=f"inquiry:{row.id}",
                cohort=cohort.id,
                weeks=weeks,
            )
            info = InquiryInfo(
                id=row.id,
                question=text,
                cohort_id=cohort.id,
                starts=starts,
                ends=ends,
                weeks=weeks,
                redaction_summary=Redacted(text="", counts=redactions).summary(),
            )
            uow.commit()
        log.info("inquiry %s started for cohort %s (%d weeks)", info.id, cohort.id, weeks)
        return info

    def list(self, platform: str, user_id: str) -> list[InquiryLine]:
        """Open inquiries and those closed in the last 90 days, newest first."""
        self.require_steward(user_id, "see inquiries")
        return self.recent_lines()

    def recent_lines(self) -> builtins.list[InquiryLine]:
        """Open inquiries and those closed in the last 90 days, for whoever may see them."""
        now = self.clock()
        with self.uow() as uow:
            rows = uow.inquiries.recent(now - LIST_CLOSED_FOR)
            counts = uow.inquiries.counts([r.id for r in rows])
            return [self._line(row, counts.get(row.id, 0), now) for row in rows]

    def close(self, platform: str, user_id: str, inquiry_id: int | None) -> ClosedInquiry:
        """Close an inquiry now and post its summary (stewards and admins only).

        Without an id, the only open inquiry is closed; with several open, the steward is
        asked to say which.
        """
        self.require_steward(user_id, "close an inquiry")
        if inquiry_id is None:
            with self.uow() as uow:
                open_ids = uow.inquiries.open_ids()
            if not open_ids:
                raise no_open_inquiry()
            if len(open_ids) > 1:
                numbers = ", ".join(str(i) for i in sorted(open_ids))
                raise BadInquiryCommand(
                    words(
                        f"Inquiries {numbers} are open: say which to close, like ",
                        Cmd(Command.INQUIRY, f"close {min(open_ids)}"),
                        ".",
                    )
                )
            inquiry_id = open_ids[0]
        return self._close(inquiry_id, f"{platform}:{user_id}")

    def close_due(self, now: dt.datetime | None = None) -> builtins.list[ClosedInquiry]:
        """Close every inquiry whose weeks are over and post its summary (the worker's job)."""
        with self.uow() as uow:
            due = uow.inquiries.due(now or self.clock())
        closed = []
        for inquiry_id in due:
            try:
                closed.append(self._close(inquiry_id, SCHEDULE_ACTOR))
            except NotFound:
                continue  # a steward closed it a moment ago: their close posted the summary
        return closed

    def summary(self, inquiry_id: int, agency_id: str | None = None) -> InquirySummaryView:
        """What an inquiry found so far (or in all, once closed).

        For the stewards (no `agency_id`), across the cohort; for one agency's managers, from
        that agency's entries only, read as its digest reads them (`Audience.agency`: its
        team-only entries too, an anonymous one quoted only in a crowd and never counted
        against it), with the barriers its own entries were linked to.
        """
        audience = Audience.alliance() if agency_id is None else Audience.agency(agency_id)
        with self.uow() as uow:
            row = uow.inquiries.get(inquiry_id)
            if row is None:
                raise NotFound(f"There is no inquiry {inquiry_id}.")
            stored = uow.inquiries.tagged(inquiry_id)
            if agency_id is not None:
                stored = [entry for entry in stored if entry.agency_id == agency_id]
            linked = uow.inquiries.linked_barriers(inquiry_id, agency_id)
            question, cohort_id, closed = row.question, row.cohort_id, row.status == "closed"
            started, ended = row.starts_at, _ended(row)
        facts = [
            InquiryFact(
                id=entry.id,
                agency_id=entry.agency_id,
                member_id=entry.member_id,
                visibility=entry.visibility,
                answer=extra_text(entry.answers, INQUIRY),
                learning=learning_text(entry.questions, entry.answers),
                barrier=barrier_text(entry.questions, entry.answers),
                themes=entry.themes,
                author_name=entry.author_name,
            )
            for entry in stored
        ]
        levels = {rung.level: rung.name for rung in self.alliance.escalation_ladder}
        try:
            covered = self.alliance.cohort_agencies(self.alliance.cohort(cohort_id))
        except KeyError:  # the cohort left the config since: name the agencies that took part
            covered = []
        if agency_id is not None:
            covered = [a for a in covered if a.id == agency_id]
        return summarise_inquiry(
            InquiryInputs(
                inquiry_id=inquiry_id,
                question=question,
                cohort=cohort_id,
                started=self._local_date(started),
                ends=self._local_date(ended),
                closed=closed,
                suppress_below=self.alliance.alliance.suppress_below,
                cohort_agencies={a.id: a.name for a in covered},
                agency_names={a.id: a.name for a in self.alliance.agencies},
                facts=facts,
                barriers=tuple(
                    RaisedBarrier(
                        title=shorten(title, 150),
                        status=status.replace("_", " ").capitalize(),
                        level=levels.get(level, level),
                    )
                    for title, status, level in linked
                ),
                audience=audience,
            )
        )

    def covers(self, line: InquiryLine, agency_id: str) -> bool:
        """Whether an inquiry's cohort takes in an agency (whose managers then follow it)."""
        try:
            cohort = self.alliance.cohort(line.cohort)
        except KeyError:
            return False
        return any(a.id == agency_id for a in self.alliance.cohort_agencies(cohort))

    def steward_channel(self) -> str | None:
        """Where summaries go: the alliance digest's channel, else the ladder's alliance rung."""
        for digest in self.alliance.digests:
            if digest.scope == "alliance" and digest.channel is not None:
                return digest.channel
        for rung in self.alliance.escalation_ladder:
            if rung.level == "alliance":
                return rung.channel
        return None

    # ------------------------------------------------------------------ the digest

    def digest_section(
        self, start: dt.datetime, end: dt.datetime, audience: Audience
    ) -> tuple[builtins.list[InquiryLine], builtins.list[InquirySummaryView]]:
        """(inquiries running during [start, end), summaries of those closed in it).

        Summaries are for the alliance audience only (they count across agencies); an agency's
        digest lists the inquiries without them.
        """
        now = self.clock()
        with self.uow() as uow:
            running = uow.inquiries.running_during(start, end)
            counts = uow.inquiries.counts([r.id for r in running])
            lines = [self._line(row, counts.get(row.id, 0), now) for row in running]
            closed_ids = [r.id for r in uow.inquiries.closed_between(start, end)]
        if audience.kind != "alliance":
            return lines, []
        return lines, [self.summary(inquiry_id) for inquiry_id in closed_ids]

    # ------------------------------------------------------------------ the form

    def asked(
        self, uow: UnitOfWork, cohort: Cohort | None, member_id: int, prompt_cycle: str | None
    ) -> AskedSet:
        """The questions the form asks now: the cohort's set, then the inquiry's and purpose's.

        The inquiry's question is asked while it runs; the purpose question in the first cycle
        of its period (the prompt's cycle, else the current one) until the member answers it.
        """
        base = self.alliance.question_set_for(cohort)
        if cohort is None:
            return AskedSet(base)
        extra: list[Question] = []
        running = uow.inquiries.running(cohort.id, self.clock())
        if running is not None:
            extra.append(self._question(running))
        start = (cycle_start(prompt_cycle) if prompt_cycle else None) or (
            self.purpose.current_cycle_start(cohort)
        )
        period = self.purpose.due(uow, cohort, member_id, start)
        if period:
            extra.append(self.purpose.question())
        if not extra:
            return AskedSet(base)
        # Already-validated questions: a full set plus the two extras is still within Slack's
        # modal limit (MODAL_EXTRA_BLOCKS counts them), so skip re-validating the set.
        qset = QuestionSet.model_construct(id=base.id, questions=[*base.questions, *extra])
        return AskedSet(
            qset, inquiry_id=running.id if running else None, purpose_period=period or None
        )

    def prompt_extras(self, cohort: Cohort, cycle_key: str) -> tuple[str, ...]:
        """The extra questions a cohort's prompt DM mentions for a cycle."""
        extras: list[str] = []
        with self.uow() as uow:
            running = uow.inquiries.running(cohort.id, self.clock())
            if running is not None:
                extras.append(running.question)
        start = cycle_start(cycle_key)
        if start is not None and self.purpose.period_for(cohort, start):
            extras.append(self.purpose.question().label)
        return tuple(extras)

    # ------------------------------------------------------------------ helpers

    def _close(self, inquiry_id: int, actor: str) -> ClosedInquiry:
        with self.uow() as uow:
            if not uow.inquiries.close(inquiry_id, self.clock(), actor):
                row = uow.inquiries.get(inquiry_id)
                if row is None:
                    raise no_such_inquiry(inquiry_id)
                raise NotFound(f"Inquiry {inquiry_id} is already closed.")
            uow.audit.record(actor=actor, action="inquiry.closed", target=f"inquiry:{inquiry_id}")
            uow.commit()
        view = self.summary(inquiry_id)
        channel = self.steward_channel()
        if channel is None:
            return ClosedInquiry(view, None, posted=False, error="no_steward_channel")
        try:
            ref = self._post_summary(channel, view)
        except MessengerError as exc:
            # The inquiry is closed either way; the steward is shown the summary instead.
            log.warning("inquiry %s summary not posted: %s", inquiry_id, exc.code)
            return ClosedInquiry(view, channel, posted=False, error=exc.code)
        with self.uow() as uow:
            uow.inquiries.set_summary(inquiry_id, ref.channel, ref.ts)
            uow.commit()
        return ClosedInquiry(view, ref.channel, posted=True)

    def _post_summary(self, channel: str, view: InquirySummaryView) -> MessageRef:
        """Post a summary; join a public channel the bot is not in yet, then try again."""
        message = summary_message(view)
        try:
            return self.messenger.send(channel, message)
        except MessengerError as exc:
            if exc.code != "not_in_channel":
                raise
        # A private channel can't be joined (nor a Teams one): that error reaches the steward.
        self.messenger.join_channel(channel)
        return self.messenger.send(channel, message)

    def _line(self, row: InquiryRow, learnings: int, now: dt.datetime) -> InquiryLine:
        """One inquiry as a list shows it (read while its session is open)."""
        return InquiryLine(
            inquiry_id=row.id,
            question=row.question,
            cohort=row.cohort_id,
            started=self._local_date(row.starts_at),
            ends=self._local_date(_ended(row)),
            status=display_status(row.status, row.ends_at, now),
            learnings=suppressed(learnings, self.alliance.alliance.suppress_below),
        )

    def _question(self, row: InquiryRow) -> Question:
        ends = self._local_date(row.ends_at)
        return Question(
            id=INQUIRY_QUESTION_ID,
            label=row.question,
            kind=QuestionKind.LONG_TEXT,
            hint=f"Our inquiry until {ends:%-d %B}. Answer if you have something to say about it.",
        )

    def _cohort(self, cohort_id: str | None) -> Cohort:
        cohorts = self.alliance.cohorts
        known = joined(Literal(c.id) for c in cohorts) if cohorts else words("none")
        if not cohorts:
            raise BadInquiryCommand(
                words(
                    "This alliance has no cohorts yet, so there is no one to ask. "
                    "Ask your LearnLoop admin to add ",
                    Literal("cohorts:"),
                    " to the configuration.",
                )
            )
        if cohort_id is None:
            if len(cohorts) == 1:
                return cohorts[0]
            raise BadInquiryCommand(
                words("Say which cohort to ask with ", Literal("--cohort"), " (", known, ").")
            )
        try:
            return self.alliance.cohort(cohort_id)
        except KeyError:
            raise BadInquiryCommand(
                words("There is no cohort ", Literal(cohort_id), ": use one of ", known, ".")
            ) from None

    def require_steward(self, user_id: str, doing: str) -> None:
        """Forbidden unless the person is a steward or admin (the check every action makes)."""
        require(self.alliance.roles_of(user_id), STEWARDS, doing)

    def _local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.alliance.alliance.zone).date()


def _ended(row: InquiryRow) -> dt.datetime:
    """When an inquiry stopped asking: the end of its weeks, or when it was closed if sooner."""
    if row.closed_at is not None and row.closed_at < row.ends_at:
        return row.closed_at
    return row.ends_at

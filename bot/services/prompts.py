"""Sending the weekly prompt: a ledger row first, then the DM, so nobody is asked twice.

The worker calls `run_due(now)` every minute; `send` is the manual `learnloop prompts send`.
Both decide per member (their own time zone, bank holidays, clock changes: see
bot/domain/schedule.py) and go through the delivery ledger:

1. a row per (member, cycle) is inserted, on conflict do nothing, before anything is sent;
2. a worker *claims* a batch of pending rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL: a
   reservation with its worker id and an expiry), so several workers share a fan-out, each
   row going to one of them; just before sending it marks the send begun (`sending_at`) with
   a conditional UPDATE that fails if its reservation was taken over meanwhile;
3. the outcome is written back: sent, failed (a lasting Slack error), or pending again (429 or
   5xx after the WebClient's own retries: the next pass tries again, up to `MAX_ATTEMPTS`).

Sends are grouped by the messenger's pace key (a Slack workspace, a Teams tenant), each group
on threads of its own, so a workspace the platform holds back never holds up another.

A row still leased when its sender died (SIGKILL, a timeout) is *in doubt*: the DM may or may not
have arrived. It is never sent blindly again: a worker first looks in the person's DM for the
prompt's metadata and only sends if it is not there. It settles its own such rows, those of a
worker that is gone (`WorkerPresence`), and any whose lease has expired.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from bot.alliance import AllianceConfig, Cohort
from bot.domain.checkins import PromptStatus
from bot.domain.cycles import cycle_for, local_now
from bot.domain.schedule import (
    BankHolidays,
    PromptDecision,
    ScheduleSpec,
    current_cycle_key,
    latest_cycle_key,
    prompt_decision,
    reminder_due,
    zone_for,
)
from bot.ports import Clock, Messenger, MessengerError
from bot.services.base import MemberFacingService
from bot.services.members import MemberInfo, MemberService
from bot.services.roster import Roster
from bot.views.checkin import PromptView, ReminderView, prompt_message, reminder_message
from storage.locks import AssumeAlive, WorkerPresence, default_worker_id
from storage.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    from bot.services.inquiries import InquiryService

log = logging.getLogger(__name__)

PROMPT_QUESTION = "What did we learn this week?"
# Sends run in a small pool so a slow answer from Slack doesn't hold up everyone behind it; the
# messenger's pacer, not the pool size, sets the rate.
SEND_THREADS = 8
# A row that keeps failing with 429/5xx is given up (failed) after this many attempts.
MAX_ATTEMPTS = 5
# A lease older than this belongs to a sender that died (or hung): its row is settled.
STALE_LEASE = dt.timedelta(minutes=10)
# Rows a worker reserves at a time, per pace (workspace); and how long a reservation whose
# send has not begun keeps others off it (a worker that died before sending frees it then).
CLAIM_BATCH = 32
RESERVATION = dt.timedelta(minutes=2)
# Errors whose request may have reached Slack: the row stays leased until it is checked.
IN_DOUBT_ERRORS = frozenset({"timeout", "connection_error"})

T = TypeVar("T")


@dataclass
class CohortReport:
    """What one pass did for one cohort (counts only: no names)."""

    cohort_id: str
    cycle: str
    due: bool
    sent: int = 0
    already: int = 0
    paused: int = 0
    inactive: int = 0
    failed: int = 0
    retrying: int = 0
    in_doubt: int = 0
    unchecked: int = 0
    reminded: int = 0
    reminders_failed: int = 0
    expired: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, counter: str, error: str | None = None) -> None:
        """Count one outcome (thread-safe: sends run in a pool)."""
        with self._lock:
            setattr(self, counter, getattr(self, counter) + 1)
            if error is not None:
                self.errors[error] += 1


@dataclass(frozen=True)
class CohortStatus:
    """The operator's view of one cohort's cycle (counts only: no names)."""

    cohort_id: str
    cycle: str
    statuses: dict[str, int]
    errors: dict[str, int]
    reminded: int

    @property
    def due(self) -> int:
        """Everyone the scheduler decided was due (each has a ledger row)."""
        return sum(self.statuses.values())

    def count(self, status: str) -> int:
        """Rows in one status."""
        return self.statuses.get(status, 0)


def schedule_spec(cohort: Cohort) -> ScheduleSpec:
    """The domain's view of a cohort's schedule."""
    schedule = cohort.schedule
    return ScheduleSpec(
        days=tuple(d.value for d in schedule.days), at=schedule.time, cadence=schedule.cadence
    )


class PromptService(MemberFacingService):
    """Prompts each member of a cohort once per cycle, reminds once, and expires old prompts."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        messenger: Messenger,
        clock: Clock,
        inquiries: InquiryService | None = None,
    ) -> None:
        super().__init__(uow, alliance, members, messenger, clock)
        # Names this cycle's extra questions (an inquiry's, the purpose question).
        self.inquiries = inquiries
        self.roster = Roster(uow, alliance, members, messenger, clock)
        self.holidays = BankHolidays(alliance.alliance.bank_holidays)
        self._stop = threading.Event()
        self._flight_lock = threading.Lock()
        self._in_flight: set[int] = set()
        self._doubtful: set[int] = set()
        self._settled_once = False
        # Who this sender is in the ledger's leases, and how it tells whether another is alive
        # (the worker command sets both; a CLI send assumes every other worker is running).
        self.worker_id = default_worker_id()
        self.presence: WorkerPresence = AssumeAlive()

    # ------------------------------------------------------------------ entry points

    def send(self, cohort_id: str | None = None, now: bool = False) -> list[CohortReport]:
        """Prompt every cohort (or one) that is due; `now` sends whether or not it is due yet."""
        cohorts = [self.alliance.cohort(cohort_id)] if cohort_id else self.alliance.cohorts
        return [self.send_cohort(cohort, force=now) for cohort in cohorts]

    def send_cohort(self, cohort: Cohort, force: bool = False) -> CohortReport:
        """Prompt one cohort's members for their current cycle (listing them afresh)."""
        return self._prompt_cohort(cohort, self.clock(), force=force, refresh=True)

    def run_due(self, now: dt.datetime) -> list[CohortReport]:
        """One scheduler pass: settle sends in doubt, expire past cycles, prompt, remind."""
        # The first pass of a process (or of a worker that just became the leader) settles every
        # row left leased: whoever leased it is gone.
        self.settle_in_doubt(now, everything=not self._settled_once)
        self._settled_once = True
        reports = []
        for cohort in self.alliance.cohorts:
            if self._stop.is_set():
                break
            expired = self.expire(cohort, now)
            report = self._prompt_cohort(cohort, now, force=False, refresh=False)
            report.expired = expired
            self.remind(cohort, now, report)
            reports.append(report)
            if report.sent or report.failed or report.reminded or report.expired:
                log.info(
                    "cohort %s: sent=%d failed=%d retrying=%d reminded=%d expired=%d",
                    cohort.id,
                    report.sent,
                    report.failed,
                    report.retrying,
                    report.reminded,
                    report.expired,
                )
        return reports

    def request_stop(self) -> None:
        """Finish the sends under way, start no more (SIGTERM)."""
        self._stop.set()

    # ------------------------------------------------------------------ prompts

    def _prompt_cohort(
        self, cohort: Cohort, now: dt.datetime, force: bool, refresh: bool
    ) -> CohortReport:
        spec = schedule_spec(cohort)
        fallback = self.alliance.alliance.zone
        alliance_cycle = cycle_for(cohort.id, local_now(now, fallback).date(), spec.cadence)
        report = CohortReport(cohort_id=cohort.id, cycle=alliance_cycle.key, due=force)
        members = self.roster.cohort_members(cohort, refresh=refresh)
        members = self.roster.refresh_profiles(members)
        due: list[tuple[MemberInfo, str]] = []
        decisions: dict[str | None, PromptDecision] = {}  # members mostly share a few zones
        for member in members:
            if not member.active:
                report.inactive += 1
                continue
            if member.timezone_checked_at is None and not force:
                # Not looked up yet: we don't know their zone, or whether they are a bot or
                # deactivated. Lookups are budgeted per pass; they are prompted once known.
                report.unchecked += 1
                continue
            decision = decisions.get(member.timezone)
            if decision is None:
                zone = zone_for(member.timezone, fallback)
                decision = prompt_decision(cohort.id, spec, now, zone, self.holidays, force=force)
                decisions[member.timezone] = decision
            if not decision.due:
                continue
            if member.paused_at(now):
                report.paused += 1
                continue
            due.append((member, decision.cycle.key))
        report.due = report.due or bool(due)
        if not due:
            return report
        keys = {key for _, key in due}
        with self.uow() as uow:
            ledger = {
                (r.member_id, r.cycle): (r.id, r.status, r.sending_at)
                for r in uow.prompts.for_cycles(cohort.id, keys)
            }
            missing = [(m.id, key) for m, key in due if (m.id, key) not in ledger]
            if missing:
                # The ledger rows exist before any DM goes out: a crash from here on leaves rows
                # that the next pass resumes, never a second message.
                uow.prompts.insert_pending(cohort.id, missing)
                uow.commit()
                ledger.update(
                    ((r.member_id, r.cycle), (r.id, r.status, r.sending_at))
                    for r in uow.prompts.for_cycles(cohort.id, keys)
                )
        todo: list[tuple[MemberInfo, int]] = []
        for member, key in due:
            entry = ledger.get((member.id, key))
            if entry is None:
                continue
            prompt_id, status, sending_at = entry
            if status != PromptStatus.PENDING:
                report.already += 1
            elif sending_at is not None:
                report.in_doubt += 1
            else:
                todo.append((member, prompt_id))
        self._in_lanes(
            todo,
            lambda item: item[0].user_id,
            lambda batch: self._claimed(batch, report),
            lambda item: self._deliver(item[0], item[1], report),
        )
        if self._stop.is_set():
            # Stopping: give back what this worker reserved but never began, for the others.
            with self.uow() as uow:
                uow.prompts.release([prompt_id for _, prompt_id in todo], self.worker_id)
                uow.commit()
        return report

    def _claimed(
        self, batch: list[tuple[MemberInfo, int]], report: CohortReport
    ) -> list[tuple[MemberInfo, int]]:
        """Reserve a batch for this worker; what another worker has taken is counted, skipped."""
        now = self.clock()
        with self.uow() as uow:
            got = set(
                uow.prompts.claim(
                    [prompt_id for _, prompt_id in batch], self.worker_id, now, now + RESERVATION
                )
            )
            uow.commit()
        for _ in range(len(batch) - len(got)):
            report.add("already")
        return [item for item in batch if item[1] in got]

    def _in_lanes(
        self,
        items: list[T],
        address: Callable[[T], str],
        claim: Callable[[list[T]], list[T]] | None,
        work: Callable[[T], None],
    ) -> None:
        """Run `work` over items, each pace (workspace, tenant) on threads of its own.

        With `claim`, each lane takes its items CLAIM_BATCH at a time and works on those it got.
        """
        lanes: dict[str, list[T]] = {}
        for item in items:
            lanes.setdefault(self.messenger.pace_key(address(item)), []).append(item)

        def run_lane(lane: list[T]) -> None:
            if claim is None:
                self._in_pool(lane, work)
            else:
                self._claiming(lane, claim, work)

        if len(lanes) <= 1:
            for lane in lanes.values():
                run_lane(lane)
            return
        with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="pace") as pool:
            list(pool.map(run_lane, lanes.values()))

    def _claiming(
        self, items: list[T], claim: Callable[[list[T]], list[T]], work: Callable[[T], None]
    ) -> None:
        """Claim items CLAIM_BATCH at a time and work on those this worker got, in the pool.

        The next batch is claimed while the last one is still being sent, so the pool never
        waits for a claim; at most two batches are held at once.
        """
        guarded = self._guarded(work)
        with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(items))) as pool:
            held: deque[list[Future[None]]] = deque()
            for start in range(0, len(items), CLAIM_BATCH):
                if self._stop.is_set():
                    break
                got = claim(items[start : start + CLAIM_BATCH])
                held.append([pool.submit(guarded, item) for item in got])
                while len(held) > 1:
                    wait(held.popleft())
            for futures in held:
                wait(futures)

    def _guarded(self, work: Callable[[T], None]) -> Callable[[T], None]:
        def guarded(item: T) -> None:
            if self._stop.is_set():
                return
            try:
                work(item)
            except Exception:  # one member's failure must never stop the fan-out
                log.exception("sending to one member failed unexpectedly")

        return guarded

    def _in_pool(self, items: list[T], work: Callable[[T], None]) -> None:
        """Run `work` over items in the send pool; after a stop request, the rest are skipped."""
        if not items:
            return
        with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(items))) as pool:
            list(pool.map(self._guarded(work), items))

    def _deliver(self, member: MemberInfo, prompt_id: int, report: CohortReport) -> None:
        if self._stop.is_set():
            with self.uow() as uow:  # give the reservation back for another worker
                uow.prompts.release([prompt_id], self.worker_id)
                uow.commit()
            return
        now = self.clock()
        with self.uow() as uow:
            leased = uow.prompts.begin_send(prompt_id, self.worker_id, now, now + STALE_LEASE)
            uow.commit()
        if not leased:
            report.add("already")
            return
        with self._flight_lock:
            self._in_flight.add(prompt_id)
        try:
            view = PromptView(
                prompt_id=prompt_id,
                alliance_name=self.alliance.alliance.name,
                question=PROMPT_QUESTION,
                extra_questions=self._extra_questions(prompt_id),
            )
            try:
                ref = self.messenger.send(member.user_id, prompt_message(view), paced=True)
            except MessengerError as exc:
                self._record_failure(member, prompt_id, exc, report)
                return
            with self.uow() as uow:
                row = uow.prompts.get(prompt_id)
                assert row is not None
                row.status = PromptStatus.SENT
                row.channel_id, row.message_ts = ref.channel, ref.ts
                row.sent_at = self.clock()
                row.sending_at = None
                row.lease_expires_at = None
                row.error = None
                uow.commit()
            report.add("sent")
        finally:
            with self._flight_lock:
                self._in_flight.discard(prompt_id)

    def _extra_questions(self, prompt_id: int) -> tuple[str, ...]:
        """The questions this prompt's cycle asks on top of the set, for the DM."""
        if self.inquiries is None:
            return ()
        with self.uow() as uow:
            row = uow.prompts.get(prompt_id)
            cohort_id, cycle = (row.cohort_id, row.cycle) if row is not None else ("", "")
        cohort = next((c for c in self.alliance.cohorts if c.id == cohort_id), None)
        return self.inquiries.prompt_extras(cohort, cycle) if cohort is not None else ()

    def _record_failure(
        self, member: MemberInfo, prompt_id: int, exc: MessengerError, report: CohortReport
    ) -> None:
        with self.uow() as uow:
            row = uow.prompts.get(prompt_id)
            assert row is not None
            row.error = exc.code[:200]
            if exc.code in IN_DOUBT_ERRORS:
                # The DM may have arrived: keep the lease; the next pass checks before resending.
                with self._flight_lock:
                    self._doubtful.add(prompt_id)
                counter = "in_doubt"
            elif exc.transient and row.attempts < MAX_ATTEMPTS:
                row.sending_at = None  # Slack refused it (429, 5xx): retry on the next pass
                row.leased_by = row.lease_expires_at = None  # by whichever worker gets to it
                counter = "retrying"
            else:
                row.status = PromptStatus.FAILED
                row.sending_at = None
                row.lease_expires_at = None
                if exc.unreachable:
                    uow.members.mark_inactive(member.id, exc.code)
                counter = "failed"
            uow.commit()
        report.add(counter, exc.code)
        log.warning("prompt %s not delivered (%s): %s", prompt_id, counter, exc.code)

    # ------------------------------------------------------------------ crash recovery

    def settle_in_doubt(self, now: dt.datetime, everything: bool = False) -> int:
        """Resolve leased rows whose sender is gone: sent if the DM is there, else pending again.

        `everything` (this worker's first pass) settles every lease this worker id held before
        it started, and those of workers that are gone; otherwise only the ones this process
        gave up on (timeouts). A lease past its expiry (STALE_LEASE after its send began) is
        settled whoever held it. Leases of other workers that are running are left alone.
        """
        with self.uow() as uow:
            leased = [
                (
                    row.id,
                    user_id,
                    row.sending_at,
                    row.attempts,
                    row.leased_by,
                    row.lease_expires_at,
                )
                for row, user_id in uow.prompts.in_doubt()
            ]
            holders = [h for h in uow.prompts.reservation_holders() if h != self.worker_id]
        holders_alive: dict[str, bool] = {h: self.presence.alive(h) for h in holders}
        gone = [h for h, alive in holders_alive.items() if not alive]
        if gone:
            # Reservations of a worker that died before it began those sends: free them now
            # rather than when they expire (nothing was sent, so nothing is in doubt).
            with self.uow() as uow:
                freed = sum(uow.prompts.release_holder(h) for h in gone)
                uow.commit()
            log.info("freed %d prompt(s) reserved by %d worker(s) that are gone", freed, len(gone))
        with self._flight_lock:
            in_flight, doubtful = set(self._in_flight), set(self._doubtful)
        settled = 0
        for prompt_id, user_id, sending_at, attempts, holder, expires in leased:
            if prompt_id in in_flight:
                continue
            expired = (expires is not None and expires <= now) or (
                sending_at is not None and now - sending_at >= STALE_LEASE
            )
            if holder is None or holder == self.worker_id:
                # Ours (or from code before leases had holders, when one worker sent).
                mine = everything or prompt_id in doubtful
            else:
                if holder not in holders_alive:
                    holders_alive[holder] = self.presence.alive(holder)
                mine = not holders_alive[holder]
            if not (mine or expired):
                continue
            try:
                ref = self.messenger.find_prompt(user_id, prompt_id)
            except MessengerError as exc:
                if exc.transient:
                    continue  # can't tell yet: ask again next pass, never send blind
                # We can't look (e.g. a missing scope): better one prompt too many than none.
                log.warning("cannot check prompt %s was delivered: %s", prompt_id, exc.code)
                ref = None
            with self.uow() as uow:
                row = uow.prompts.get_for_update(prompt_id)
                if (
                    row is None
                    or row.status != PromptStatus.PENDING
                    or row.sending_at is None
                    # Someone settled and re-sent it while we looked: that send is not ours.
                    or row.sending_at != sending_at
                    or row.leased_by != holder
                ):
                    continue
                if ref is not None:
                    row.status = PromptStatus.SENT
                    row.channel_id, row.message_ts = ref.channel, ref.ts
                    row.sent_at = row.sending_at
                    row.error = None
                elif attempts >= MAX_ATTEMPTS:
                    row.status = PromptStatus.FAILED
                row.sending_at = None
                row.leased_by = row.lease_expires_at = None
                uow.commit()
            with self._flight_lock:
                self._doubtful.discard(prompt_id)
            settled += 1
        if settled:
            log.info("settled %d prompt(s) whose delivery was in doubt", settled)
        return settled

    # ------------------------------------------------------------------ expiry and reminders

    def expire(self, cohort: Cohort, now: dt.datetime) -> int:
        """Close prompts of cycles before each member's current one (their buttons still work)."""
        spec = schedule_spec(cohort)
        fallback = self.alliance.alliance.zone
        expired = 0
        with self.uow() as uow:
            for row, tz in uow.prompts.open_before(
                cohort.id, latest_cycle_key(cohort.id, spec, now)
            ):
                if row.id in self._in_flight:
                    continue
                if row.sending_at is not None and row.leased_by not in (None, self.worker_id):
                    continue  # another worker is sending it: expired once that has ended
                if row.cycle < current_cycle_key(cohort.id, spec, now, zone_for(tz, fallback)):
                    row.status = PromptStatus.EXPIRED
                    row.closed_at = now
                    row.sending_at = None
                    expired += 1
            uow.commit()
        return expired

    def remind(self, cohort: Cohort, now: dt.datetime, report: CohortReport) -> None:
        """One private nudge for prompts unanswered after `remind_after_hours`; never a second."""
        if cohort.remind_after_hours is None:
            return
        after = dt.timedelta(hours=cohort.remind_after_hours)
        spec = schedule_spec(cohort)
        fallback = self.alliance.alliance.zone
        todo: list[tuple[int, str, str | None]] = []
        with self.uow() as uow:
            for row, member in uow.prompts.awaiting_reminder(cohort.id, now - after):
                zone = zone_for(member.timezone, fallback)
                if not member.active or (member.paused_until and member.paused_until > now):
                    continue
                if row.cycle != current_cycle_key(cohort.id, spec, now, zone):
                    continue  # about to expire
                assert row.sent_at is not None
                if reminder_due(row.sent_at, after, now, zone, self.holidays, spec):
                    todo.append((row.id, member.platform_user_id, row.channel_id))
        self._in_lanes(
            todo,
            lambda item: item[1],
            None,
            lambda item: self._remind_one(*item, now=now, report=report),
        )

    def _remind_one(
        self,
        prompt_id: int,
        user_id: str,
        channel: str | None,
        now: dt.datetime,
        report: CohortReport,
    ) -> None:
        with self.uow() as uow:
            # Claimed before sending: a crash after this loses the nudge, never doubles it.
            claimed = uow.prompts.claim_reminder(prompt_id, now)
            uow.commit()
        if not claimed:
            return
        view = ReminderView(
            prompt_id=prompt_id,
            alliance_name=self.alliance.alliance.name,
            question=PROMPT_QUESTION,
            channel=channel,
        )
        try:
            self.messenger.send(channel or user_id, reminder_message(view), paced=True)
        except MessengerError as exc:
            if exc.transient and exc.code not in IN_DOUBT_ERRORS:
                # Slack refused it outright (429, 5xx): it never arrived, so try next pass.
                with self.uow() as uow:
                    row = uow.prompts.get(prompt_id)
                    if row is not None:
                        row.reminded_at = None
                    uow.commit()
            report.add("reminders_failed", f"reminder:{exc.code}")
            log.warning("reminder for prompt %s not delivered: %s", prompt_id, exc.code)
            return
        report.add("reminded")

    # ------------------------------------------------------------------ the operator's view

    def status(self, cycle: str | None = None) -> list[CohortStatus]:
        """Per cohort: ledger counts for a cycle (`2026-W48`; default: the current one)."""
        now = self.clock()
        result = []
        for cohort in self.alliance.cohorts:
            if cycle:
                key = f"{cohort.id}:{cycle}"
            else:
                today = local_now(now, self.alliance.alliance.zone).date()
                key = cycle_for(cohort.id, today, cohort.schedule.cadence).key
            with self.uow() as uow:
                statuses, errors, reminded = uow.prompts.cycle_counts(cohort.id, key)
            result.append(CohortStatus(cohort.id, key, statuses, errors, reminded))
        return result


def total_errors(reports: Iterable[CohortReport]) -> Counter[str]:
    """Errors by kind across cohorts."""
    total: Counter[str] = Counter()
    for report in reports:
        total.update(report.errors)
    return total

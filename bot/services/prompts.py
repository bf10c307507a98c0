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
from collections import Counter
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
# Where a prompt in doubt can't be looked up (Teams), fewer sends are in flight at once: each is
# one a SIGKILL could leave delivered but unrecorded. Two keep a tenant near its pace.
UNREADABLE_SEND_THREADS = 2
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


class _Lane:
    """One lane's sends between their chunk being begun and their outcome being written.

    `room_for` holds the lane back while `window` sends are begun and unfinished (the send
    threads and half as many again), so few prompts are in doubt at any moment; finished
    outcomes wait here for the next chunk's transaction.
    """

    def __init__(self, window: int) -> None:
        self._room = threading.Semaphore(window)
        self._lock = threading.Lock()
        self._sent: list[tuple[int, str, str, dt.datetime]] = []
        self._unstarted: list[int] = []

    def room_for(self, count: int) -> None:
        for _ in range(count):
            self._room.acquire()

    def done(self, count: int) -> None:
        for _ in range(count):
            self._room.release()

    def sent(self, outcome: tuple[int, str, str, dt.datetime]) -> None:
        with self._lock:
            self._sent.append(outcome)

    def unstarted(self, prompt_id: int) -> None:
        with self._lock:
            self._unstarted.append(prompt_id)

    def take(self) -> tuple[list[tuple[int, str, str, dt.datetime]], list[int]]:
        with self._lock:
            sent, unstarted = self._sent, self._unstarted
            self._sent, self._unstarted = [], []
        return sent, unstarted


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
        extras: dict[str, tuple[str, ...]] = {}  # the cycle's extra questions, asked once
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
                if key not in extras:
                    extras[key] = self._extra_questions(cohort, key)
        cycles = {prompt_id: key for (_, key), (prompt_id, _, _) in ledger.items()}
        self._in_lanes(
            todo,
            lambda item: item[0].user_id,
            lambda lane: self._send_lane(lane, report, lambda prompt_id: extras[cycles[prompt_id]]),
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
        self, items: list[T], address: Callable[[T], str], run_lane: Callable[[list[T]], None]
    ) -> None:
        """Run `run_lane` over items grouped by pace (workspace, tenant), each on a thread."""
        lanes: dict[str, list[T]] = {}
        for item in items:
            lanes.setdefault(self.messenger.pace_key(address(item)), []).append(item)
        if not lanes:
            return
        with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="pace") as pool:
            list(pool.map(run_lane, lanes.values()))

    def _send_lane(
        self,
        items: list[tuple[MemberInfo, int]],
        report: CohortReport,
        extras: Callable[[int], tuple[str, ...]],
    ) -> None:
        """Send one pace's prompts: claimed CLAIM_BATCH at a time, begun a chunk at a time.

        The ledger work is batched: a chunk of the sends about to start (half the send threads)
        is marked begun in one statement, and the outcomes of the sends finished meanwhile are
        written in the same transaction. At most the send threads and one chunk are begun and
        not yet written, so a SIGKILL leaves that many prompts in doubt per lane (12 for
        Slack's 8 threads); each is looked up before it is ever sent again.
        Where the platform can't read a chat back (Teams), an outcome is written the moment
        the platform answers, and fewer sends are in flight, since a prompt in doubt there is
        sent again.
        """
        if not items:
            return
        immediate = not self.messenger.can_find_prompt(items[0][0].user_id)
        threads = min(UNREADABLE_SEND_THREADS if immediate else SEND_THREADS, len(items))
        chunk_size = max(1, threads // 2)
        lane = _Lane(threads + chunk_size)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures: list[Future[None]] = []
            for start in range(0, len(items), CLAIM_BATCH):
                if self._stop.is_set():
                    break
                got = self._claimed(items[start : start + CLAIM_BATCH], report)
                for first in range(0, len(got), chunk_size):
                    chunk = got[first : first + chunk_size]
                    lane.room_for(len(chunk))
                    if self._stop.is_set():
                        lane.done(len(chunk))
                        break
                    begun = set(self._begin(chunk, lane))
                    for member, prompt_id in chunk:
                        if prompt_id not in begun:
                            report.add("already")
                            lane.done(1)
                            continue
                        futures.append(
                            pool.submit(
                                self._deliver,
                                member,
                                prompt_id,
                                extras(prompt_id),
                                report,
                                lane,
                                immediate,
                            )
                        )
            wait(futures)
        self._begin([], lane)  # the last outcomes, and the sends a stop left unstarted

    def _begin(self, chunk: list[tuple[MemberInfo, int]], lane: _Lane) -> list[int]:
        """One transaction: write the lane's finished outcomes, mark `chunk`'s sends begun."""
        sent, unstarted = lane.take()
        if not chunk and not sent and not unstarted:
            return []
        now = self.clock()
        with self.uow() as uow:
            uow.prompts.record_sent(sent, self.worker_id)
            uow.prompts.unbegin(unstarted, self.worker_id)
            begun = uow.prompts.begin_sends(
                [prompt_id for _, prompt_id in chunk], self.worker_id, now, now + STALE_LEASE
            )
            uow.commit()
        if begun:
            with self._flight_lock:
                self._in_flight.update(begun)
        with self._flight_lock:
            self._in_flight.difference_update(row[0] for row in sent)
            self._in_flight.difference_update(unstarted)
        return begun

    def _deliver(
        self,
        member: MemberInfo,
        prompt_id: int,
        extras: tuple[str, ...],
        report: CohortReport,
        lane: _Lane,
        immediate: bool,
    ) -> None:
        """Send one begun prompt; its outcome is handed to the lane (or written at once)."""
        try:
            if self._stop.is_set():
                lane.unstarted(prompt_id)  # given back for another worker
                return
            view = PromptView(
                prompt_id=prompt_id,
                alliance_name=self.alliance.alliance.name,
                question=PROMPT_QUESTION,
                extra_questions=extras,
            )
            try:
                ref = self.messenger.send(member.user_id, prompt_message(view), paced=True)
            except MessengerError as exc:
                self._record_failure(member, prompt_id, exc, report)
                with self._flight_lock:
                    self._in_flight.discard(prompt_id)
                return
            outcome = (prompt_id, ref.channel, ref.ts, self.clock())
            if immediate:
                with self.uow() as uow:
                    uow.prompts.record_sent([outcome], self.worker_id)
                    uow.commit()
                with self._flight_lock:
                    self._in_flight.discard(prompt_id)
            else:
                lane.sent(outcome)
            report.add("sent")
        except Exception:  # one member's failure must never stop the fan-out
            log.exception("sending to one member failed unexpectedly")
            with self._flight_lock:  # left in doubt: the next pass settles it
                self._in_flight.discard(prompt_id)
        finally:
            lane.done(1)

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

    def _extra_questions(self, cohort: Cohort, cycle: str) -> tuple[str, ...]:
        """The questions a cycle's prompt asks on top of the set, for the DM."""
        if self.inquiries is None:
            return ()
        return self.inquiries.prompt_extras(cohort, cycle)

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
        todo: list[tuple[int, str, dt.datetime | None, int, str | None]] = []
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
            if mine or expired:
                todo.append((prompt_id, user_id, sending_at, attempts, holder))
        done: list[int] = []
        # The look-ups run in lanes like the sends: a workspace's history calls, side by side.
        self._in_lanes(
            todo,
            lambda item: item[1],
            lambda lane: self._in_pool(lane, lambda item: done.extend(self._settle_one(*item))),
        )
        settled = len(done)
        if not all(holders_alive.values()):
            # A worker that shared the sending is gone (its rows were freed or settled just
            # now, so this happens once): its share of each workspace's limit is ours to use.
            self.messenger.fewer_senders()
        if settled:
            log.info("settled %d prompt(s) whose delivery was in doubt", settled)
        return settled

    def _settle_one(
        self,
        prompt_id: int,
        user_id: str,
        sending_at: dt.datetime | None,
        attempts: int,
        holder: str | None,
    ) -> list[int]:
        """Look for one prompt in doubt and settle its row; [its id] if it was settled."""
        try:
            ref = self.messenger.find_prompt(user_id, prompt_id)
        except MessengerError as exc:
            if exc.transient:
                return []  # can't tell yet: ask again next pass, never send blind
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
                return []
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
        return [prompt_id]

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
            lambda lane: self._remind_lane(lane, now, report),
        )

    def _remind_lane(
        self, items: list[tuple[int, str, str | None]], now: dt.datetime, report: CohortReport
    ) -> None:
        """Send one pace's reminders, claimed a chunk at a time in one statement each.

        Claimed before sending: a crash loses the nudges claimed and not yet sent (at most the
        send threads and one chunk per lane), never doubles one.
        """
        if not items:
            return
        threads = min(SEND_THREADS, len(items))
        chunk_size = max(1, threads // 2)
        lane = _Lane(threads + chunk_size)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for first in range(0, len(items), chunk_size):
                chunk = items[first : first + chunk_size]
                lane.room_for(len(chunk))
                if self._stop.is_set():
                    lane.done(len(chunk))
                    break
                with self.uow() as uow:
                    claimed = set(uow.prompts.claim_reminders([item[0] for item in chunk], now))
                    uow.commit()
                for item in chunk:
                    if item[0] not in claimed:
                        lane.done(1)
                        continue
                    pool.submit(self._remind_one, *item, report=report, lane=lane)

    def _remind_one(
        self,
        prompt_id: int,
        user_id: str,
        channel: str | None,
        report: CohortReport,
        lane: _Lane,
    ) -> None:
        try:
            self._remind_claimed(prompt_id, user_id, channel, report)
        except Exception:  # one member's failure must never stop the fan-out
            log.exception("reminding one member failed unexpectedly")
        finally:
            lane.done(1)

    def _remind_claimed(
        self, prompt_id: int, user_id: str, channel: str | None, report: CohortReport
    ) -> None:
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

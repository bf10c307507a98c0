"""The worker: once a minute, ask each service what is due and let it do it.

It never formats a message or decides who is due itself: each job is a service method taking
`now`, registered by reference in `due_jobs`, so a job that does not exist stops the worker at
start-up rather than being skipped every minute. APScheduler 3 runs the tick (jobs defined here
in code; no job store is shared between processes). On PostgreSQL every worker runs the sending
jobs (prompts and reminders, digests), which share the work through the ledger's leases; only
the elected leader (storage/locks.py) runs the jobs marked `once` (retention purge, closing
inquiries, escalations). On SQLite one worker runs everything and a second stands by.
SIGTERM or SIGINT lets the current sends finish, starts no new ones, and exits.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.ports import Clock, system_clock
from bot.worker_status import WorkerStatus
from storage.locks import LeaderLock

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One piece of due work: `run(now)` each tick; `stop()`, if any, cuts a long run short."""

    name: str  # how the log and the job-failure metric name it, e.g. "prompts.run_due"
    run: Callable[[dt.datetime], object]
    stop: Callable[[], None] | None = None
    # Must run in one worker only (the leader); the others are shared through the ledger.
    once: bool = False

    def __post_init__(self) -> None:
        # A job list built by hand (tests, tools) fails here, when the worker starts.
        if not callable(self.run) or (self.stop is not None and not callable(self.stop)):
            raise TypeError(f"scheduled job {self.name}: run and stop must be functions")


def due_jobs(services: Services) -> list[Job]:
    """The worker's jobs, in the order each tick runs them (adding one is one line here).

    Each is looked up here, once: a service or method that does not exist raises
    AttributeError when the worker starts.
    """
    return [
        Job("prompts.run_due", services.prompts.run_due, services.prompts.request_stop),
        # Before the digest, which includes the summaries of the inquiries it closes.
        Job("inquiries.close_due", services.inquiries.close_due, once=True),
        Job("digests.send_due", services.digests.send_due),  # each digest claimed by one
        # After the digests: the practitioners' weekly alliance note, paced, once a week each
        # (each member's note claimed by one worker).
        Job("notes.send_due", services.notes.send_due, services.notes.request_stop),
        Job("privacy.purge_due", services.privacy.purge_due, once=True),
        # Weekly, per level.
        Job("escalations.raise_stale", services.escalations.raise_stale, once=True),
        # The Learning Board's finished weeks (counts, each audience's patterns), in a budget.
        Job("board.keep_due", services.board.keep_due, once=True),
    ]


# How long a stopping worker waits for the tick under way (one send finishing) before exiting.
STOP_GRACE_SECONDS = 60.0


class _QuietSkips(logging.Filter):
    """Drop APScheduler's warning for each tick skipped while a long fan-out runs: by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


class Worker:
    """Runs the due-work jobs each tick: all of them while it leads; with `shares`, the
    sending jobs (not `once`) even while another worker leads."""

    def __init__(
        self,
        jobs: Sequence[Job],
        lock: LeaderLock,
        clock: Clock = system_clock,
        status: WorkerStatus | None = None,
        shares: bool = False,
    ) -> None:
        self.lock = lock
        self.shares = shares
        self.clock = clock
        self.jobs = list(jobs)
        self.status = status  # the heartbeat and job counts the worker's port serves
        self.leading = False
        self.ticks_run = 0
        self._stopping = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._scheduler: BlockingScheduler | None = None
        self._retired: list[Job] = []  # jobs replaced by a reload, still stopped on SIGTERM

    def tick(self) -> bool:
        """One pass over the jobs; False if it ran none (another worker leads and this one does
        not share the sending, or we are stopping)."""
        self._idle.clear()
        if self.status is not None:
            self.status.tick_started()
        try:
            if self._stopping.is_set():
                return False
            leading = self.lock.acquire()
            if self.status is not None:
                self.status.leadership(leading)
            if leading != self.leading or self.ticks_run == 0:
                if leading:
                    log.info("this worker is now the leader")
                elif self.shares:
                    log.info("this worker is now sending alongside the leader (not the leader)")
                else:
                    log.info("this worker is now on standby")
                self.leading = leading
            self.ticks_run += 1
            if not leading and not self.shares:
                return False
            now = self.clock()
            for job in self.jobs:
                if self._stopping.is_set():
                    break
                if job.once and not leading:
                    continue
                try:
                    job.run(now)
                except Exception:  # one failing job must not stop the others
                    log.exception("scheduled job %s failed", job.name)
                    if self.status is not None:
                        self.status.job_failed(job.name)
            return True
        finally:
            if self.status is not None:
                self.status.tick_finished(self.leading)
            self._idle.set()

    def replace_jobs(self, jobs: Sequence[Job]) -> None:
        """Run these jobs from the next tick on (after the alliance file is reloaded).

        A tick under way finishes with the jobs it started with; `stop` still reaches them.
        """
        self._retired.extend(job for job in self.jobs if job.stop is not None)
        self.jobs = list(jobs)

    def stop(self) -> None:
        """Finish what is being sent, start nothing new, and let `run` return."""
        self._stopping.set()
        for job in [*self._retired, *self.jobs]:
            if job.stop is not None:
                job.stop()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def run(self, tick_seconds: int = 60) -> None:
        """Tick at the top of every minute (or every `tick_seconds`) until SIGTERM or SIGINT."""
        scheduler = BlockingScheduler(timezone=dt.UTC)
        trigger = (
            CronTrigger(second=0, timezone=dt.UTC)
            if tick_seconds == 60
            else IntervalTrigger(seconds=tick_seconds, timezone=dt.UTC)
        )
        scheduler.add_job(
            self.tick,
            trigger,
            id="due-work",
            coalesce=True,  # after a pause, run once, not once per missed minute
            max_instances=1,  # a long fan-out is never joined by a second tick
            misfire_grace_time=tick_seconds,
            next_run_time=dt.datetime.now(dt.UTC),  # and once straight away
        )
        self._scheduler = scheduler
        # A line per tick ("Running job ...") would drown what the jobs themselves log.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        logging.getLogger("apscheduler.scheduler").addFilter(_QuietSkips())

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s: finishing the current send, then stopping", signum)
            self.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        log.info("worker started: ticking every %ss", tick_seconds)
        try:
            scheduler.start()
        finally:
            self._idle.wait(STOP_GRACE_SECONDS)
            self.lock.release()
            log.info("worker stopped")

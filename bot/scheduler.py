"""The worker: once a minute, ask each service what is due and let it do it.

It never formats a message or decides who is due itself: each job is a service method taking
`now`. APScheduler 3 runs the tick (jobs defined here in code; no job store is shared between
processes). Only the elected leader runs the jobs (storage/locks.py); the others stand by.
SIGTERM or SIGINT lets the current sends finish, starts no new ones, and exits.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.ports import Clock, system_clock
from bot.worker_status import WorkerStatus
from storage.locks import LeaderLock

log = logging.getLogger(__name__)

# (service attribute, method): each is called as `method(now)` every tick, in this order. A
# service that is not built (yet) is skipped, so adding a job is one line here.
DUE_JOBS: tuple[tuple[str, str], ...] = (
    ("prompts", "run_due"),
    ("inquiries", "close_due"),  # issue 9: before the digest, which includes their summaries
    ("digests", "send_due"),
    ("privacy", "purge_due"),
    ("escalations", "raise_stale"),  # issue 5: weekly, per ladder level
)
# How long a stopping worker waits for the tick under way (one send finishing) before exiting.
STOP_GRACE_SECONDS = 60.0


class _QuietSkips(logging.Filter):
    """Drop APScheduler's warning for each tick skipped while a long fan-out runs: by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


class Worker:
    """Runs the due-work jobs each tick while it holds the leader lock."""

    def __init__(
        self,
        services: Any,
        lock: LeaderLock,
        clock: Clock = system_clock,
        jobs: Sequence[tuple[str, str]] = DUE_JOBS,
        status: WorkerStatus | None = None,
    ) -> None:
        self.services = services
        self.lock = lock
        self.clock = clock
        self.jobs = list(jobs)
        self.status = status  # the heartbeat and job counts the worker's port serves
        self.leading = False
        self._stopping = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._scheduler: BlockingScheduler | None = None

    def tick(self) -> bool:
        """One pass over the jobs; False if another worker leads (or we are stopping)."""
        self._idle.clear()
        if self.status is not None:
            self.status.tick_started()
        try:
            if self._stopping.is_set():
                return False
            leading = self.lock.acquire()
            if leading != self.leading:
                log.info("this worker is now %s", "the leader" if leading else "on standby")
                self.leading = leading
            if not leading:
                return False
            now = self.clock()
            for service_name, method in self.jobs:
                if self._stopping.is_set():
                    break
                job = getattr(getattr(self.services, service_name, None), method, None)
                if job is None:
                    continue
                try:
                    job(now)
                except Exception:  # one failing job must not stop the others
                    log.exception("scheduled job %s.%s failed", service_name, method)
                    if self.status is not None:
                        self.status.job_failed(f"{service_name}.{method}")
            return True
        finally:
            if self.status is not None:
                self.status.tick_finished(self.leading)
            self._idle.set()

    def stop(self) -> None:
        """Finish what is being sent, start nothing new, and let `run` return."""
        self._stopping.set()
        for service_name, _ in self.jobs:
            request_stop = getattr(getattr(self.services, service_name, None), "request_stop", None)
            if request_stop is not None:
                request_stop()
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

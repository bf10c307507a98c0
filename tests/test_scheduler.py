"""The worker's tick: every due-work job runs, one failing never stops the others, and only the
leader runs them. Direct calls with small fakes (the processes are tested in
tests/services/test_worker_processes.py)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from bot.scheduler import DUE_JOBS, Worker

NOW = dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC)


class Recorder:
    """A service whose due-work method records the time it was called with."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[dt.datetime] = []
        self.fail = fail
        self.stopped = False

    def run(self, now: dt.datetime) -> None:
        self.calls.append(now)
        if self.fail:
            raise RuntimeError("boom")

    run_due = send_due = purge_due = run

    def request_stop(self) -> None:
        self.stopped = True


class Services:
    def __init__(self, **services: Recorder) -> None:
        self.__dict__.update(services)


class Lock:
    def __init__(self, leading: bool = True) -> None:
        self.leading = leading
        self.released = False

    def acquire(self) -> bool:
        return self.leading

    def release(self) -> None:
        self.released = True


def test_every_job_runs_with_the_same_now_even_when_one_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    prompts, digests, privacy = Recorder(fail=True), Recorder(), Recorder()
    worker = Worker(
        Services(prompts=prompts, digests=digests, privacy=privacy), Lock(), clock=lambda: NOW
    )
    with caplog.at_level(logging.ERROR):
        assert worker.tick()
    assert prompts.calls == digests.calls == privacy.calls == [NOW]
    assert "scheduled job prompts.run_due failed" in caplog.text


def test_services_not_built_yet_are_skipped() -> None:
    prompts = Recorder()
    worker = Worker(Services(prompts=prompts), Lock(), clock=lambda: NOW)
    assert worker.tick()
    assert prompts.calls == [NOW]
    assert ("digests", "send_due") in DUE_JOBS and ("privacy", "purge_due") in DUE_JOBS


def test_standby_runs_nothing_until_it_leads() -> None:
    prompts = Recorder()
    lock = Lock(leading=False)
    worker = Worker(Services(prompts=prompts), lock, clock=lambda: NOW)
    assert not worker.tick()
    assert prompts.calls == []
    lock.leading = True  # the leader died: its lock was released
    assert worker.tick()
    assert prompts.calls == [NOW] and worker.leading


def test_stop_asks_services_to_finish_and_no_tick_runs_after(monkeypatch: Any) -> None:
    prompts = Recorder()
    worker = Worker(Services(prompts=prompts), Lock(), clock=lambda: NOW)
    worker.stop()
    assert prompts.stopped
    assert not worker.tick()
    assert prompts.calls == []

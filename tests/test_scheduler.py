"""The worker's tick: every due-work job runs, one failing never stops the others, and only the
leader runs them. Direct calls with small fakes (the processes are tested in
tests/services/test_worker_processes.py)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from bot.scheduler import Job, Worker, due_jobs
from bot.worker_status import WorkerStatus

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

    run_due = close_due = send_due = purge_due = raise_stale = keep_due = run

    def request_stop(self) -> None:
        self.stopped = True


class Services:
    def __init__(self, **services: object) -> None:
        self.__dict__.update(services)


def every_service(**services: object) -> Services:
    """Each service the worker calls: these ones, and a Recorder for each of the others."""
    built: dict[str, object] = {
        name: Recorder()
        for name in ("prompts", "inquiries", "digests", "notes", "privacy", "escalations", "board")
    }
    return Services(**(built | services))


def jobs(**services: Recorder) -> list[Job]:
    """The worker's real job list over these services."""
    return due_jobs(every_service(**services))  # type: ignore[arg-type]


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
        jobs(prompts=prompts, digests=digests, privacy=privacy), Lock(), clock=lambda: NOW
    )
    with caplog.at_level(logging.ERROR):
        assert worker.tick()
    assert prompts.calls == digests.calls == privacy.calls == [NOW]
    assert "scheduled job prompts.run_due failed" in caplog.text


def test_every_due_job_runs_once_per_tick_in_order() -> None:
    prompts, inquiries, digests = Recorder(), Recorder(), Recorder()
    listed = jobs(prompts=prompts, inquiries=inquiries, digests=digests)
    assert [job.name for job in listed] == [
        "prompts.run_due",
        "inquiries.close_due",  # before the digest, which includes their summaries
        "digests.send_due",
        "notes.send_due",  # the practitioners' alliance note, after the digests
        "privacy.purge_due",
        "escalations.raise_stale",
        "board.keep_due",  # the Learning Board's finished weeks, last: nothing waits on it
    ]
    assert Worker(listed, Lock(), clock=lambda: NOW).tick()
    assert prompts.calls == inquiries.calls == digests.calls == [NOW]


def test_a_job_that_does_not_exist_fails_at_start_up() -> None:
    # A service that was never built: the worker cannot be made, rather than skipping it.
    with pytest.raises(AttributeError, match="inquiries"):
        due_jobs(Services(prompts=Recorder(), digests=Recorder()))  # type: ignore[arg-type]

    # A service without the method the job names.
    class Digests:
        def send_later(self, now: dt.datetime) -> None: ...

    with pytest.raises(AttributeError, match="send_due"):
        due_jobs(every_service(digests=Digests()))  # type: ignore[arg-type]

    # A job list made by hand with something that is not a function.
    with pytest.raises(TypeError, match="digests.send_due"):
        Worker([Job("digests.send_due", "send_due")], Lock())  # type: ignore[arg-type]


def test_standby_runs_nothing_until_it_leads() -> None:
    prompts = Recorder()
    lock = Lock(leading=False)
    worker = Worker(jobs(prompts=prompts), lock, clock=lambda: NOW)
    assert not worker.tick()
    assert prompts.calls == []
    lock.leading = True  # the leader died: its lock was released
    assert worker.tick()
    assert prompts.calls == [NOW] and worker.leading


def test_the_heartbeat_says_it_leads_while_its_first_tick_is_still_running() -> None:
    status = WorkerStatus(tick_seconds=60, clock=lambda: 0.0)
    seen: list[bool] = []
    # A first tick that sends a whole cycle runs for minutes: the heartbeat must not say
    # "standby" all that time.
    worker = Worker(
        [Job("prompts.run_due", lambda now: seen.append(status.leading))], Lock(), status=status
    )
    assert worker.tick()
    assert seen == [True]
    assert status.health()[1]["leader"] is True


def test_stop_asks_services_to_finish_and_no_tick_runs_after(monkeypatch: Any) -> None:
    prompts = Recorder()
    worker = Worker(jobs(prompts=prompts), Lock(), clock=lambda: NOW)
    worker.stop()
    assert prompts.stopped
    assert not worker.tick()
    assert prompts.calls == []

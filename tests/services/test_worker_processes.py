"""The real `learnloop worker` processes: killed mid fan-out, stopped with SIGTERM, and two at
once on PostgreSQL. The fake Slack Web API runs in this test process; its record of what was
really posted is the judge: each member exactly one prompt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_api import FakeSlackAPI
from worker_process import (
    CHANNEL,
    WorkerProcess,
    channel_alliance,
    ledger,
    prompts_received,
    wait_for,
    worker_env,
    write_config,
)

MEMBERS = [f"U0P{i:04d}" for i in range(150)]


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop_quietly()


def start_worker(
    started: list[WorkerProcess], tmp_path: Path, env: dict[str, str], name: str
) -> WorkerProcess:
    worker = WorkerProcess(tmp_path, env, name).start()
    started.append(worker)
    return worker


def test_worker_killed_mid_fan_out_and_restarted_prompts_everyone_once(
    fake_slack: FakeSlackAPI,
    database_url: str,
    tmp_path: Path,
    workers: list[WorkerProcess],
) -> None:
    fake_slack.set_channel_members(CHANNEL, MEMBERS, page_size=100)
    fake_slack.set_latency(0.03)  # so that sends are in flight when the worker dies
    env = worker_env(database_url, fake_slack.url, write_config(tmp_path, channel_alliance()))
    first = start_worker(workers, tmp_path, env, "first")
    wait_for(lambda: len(prompts_received(fake_slack)) >= 50, 60, "50 prompts")
    first.kill()
    after_kill = len(prompts_received(fake_slack))
    assert after_kill < len(MEMBERS), "the fan-out finished before the kill"
    second = start_worker(workers, tmp_path, env, "second")
    wait_for(
        lambda: (
            ledger(database_url, "SELECT count(*) FROM prompts WHERE status = 'sent'")
            == len(MEMBERS)
        ),
        90,
        "every prompt sent",
    )
    assert second.terminate() == 0
    received = prompts_received(fake_slack)
    assert set(received) == set(MEMBERS)
    assert set(received.values()) == {1}, {m: n for m, n in received.items() if n > 1}
    assert ledger(database_url, "SELECT count(*) FROM prompts WHERE sending_at IS NOT NULL") == 0


def test_sigterm_finishes_the_current_sends_then_stops(
    fake_slack: FakeSlackAPI,
    database_url: str,
    tmp_path: Path,
    workers: list[WorkerProcess],
) -> None:
    fake_slack.set_channel_members(CHANNEL, MEMBERS)
    fake_slack.set_latency(0.05)
    env = worker_env(database_url, fake_slack.url, write_config(tmp_path, channel_alliance()))
    worker = start_worker(workers, tmp_path, env, "worker")
    wait_for(lambda: len(prompts_received(fake_slack)) >= 20, 60, "20 prompts")
    assert worker.terminate(timeout=20) == 0
    assert "worker stopped" in worker.log()
    delivered = sum(prompts_received(fake_slack).values())
    assert delivered < len(MEMBERS), "the fan-out finished before SIGTERM"
    # Every send under way was finished and recorded: nothing in flight, nothing unaccounted.
    assert ledger(database_url, "SELECT count(*) FROM prompts WHERE sending_at IS NOT NULL") == 0
    assert ledger(database_url, "SELECT count(*) FROM prompts WHERE status = 'sent'") == delivered


def test_two_workers_on_postgresql_prompt_each_member_once(
    fake_slack: FakeSlackAPI,
    database_url: str,
    tmp_path: Path,
    workers: list[WorkerProcess],
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several sending workers need PostgreSQL; on SQLite one is supported")
    fake_slack.set_channel_members(CHANNEL, MEMBERS, page_size=100)
    fake_slack.set_latency(0.01)
    env = worker_env(database_url, fake_slack.url, write_config(tmp_path, channel_alliance()))
    pair = [start_worker(workers, tmp_path, env, name) for name in ("a", "b")]
    wait_for(
        lambda: (
            ledger(database_url, "SELECT count(*) FROM prompts WHERE status = 'sent'")
            == len(MEMBERS)
        ),
        90,
        "every prompt sent",
    )
    received = prompts_received(fake_slack)
    assert set(received) == set(MEMBERS) and set(received.values()) == {1}
    leaders = [w for w in pair if "now the leader" in w.log()]
    assert len(leaders) == 1, [w.log()[-500:] for w in pair]
    [leader] = leaders
    [standby] = [w for w in pair if w is not leader]
    # Not a standby any more: it sends alongside the leader, leaving it the once-only jobs.
    assert "sending alongside the leader" in standby.log()
    leader.kill()  # its connection closes, PostgreSQL frees the lock
    wait_for(lambda: "now the leader" in standby.log(), 30, "the standby to take over")
    assert standby.terminate() == 0
    assert sum(prompts_received(fake_slack).values()) == len(MEMBERS)


def test_on_sqlite_a_second_worker_stands_by_and_takes_over_when_the_first_stops(
    fake_slack: FakeSlackAPI,
    database_url: str,
    tmp_path: Path,
    workers: list[WorkerProcess],
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite set-up: one sending worker")
    fake_slack.set_channel_members(CHANNEL, MEMBERS, page_size=100)
    env = worker_env(database_url, fake_slack.url, write_config(tmp_path, channel_alliance()))
    first = start_worker(workers, tmp_path, env, "first")
    wait_for(lambda: "now the leader" in first.log(), 60, "the first worker to lead")
    second = start_worker(workers, tmp_path, env, "second")
    wait_for(lambda: "now on standby" in second.log(), 60, "the second worker to stand by")
    assert "SQLite allows one sending worker" in second.log()
    wait_for(
        lambda: (
            ledger(database_url, "SELECT count(*) FROM prompts WHERE status = 'sent'")
            == len(MEMBERS)
        ),
        90,
        "every prompt sent",
    )
    received = prompts_received(fake_slack)
    assert set(received) == set(MEMBERS) and set(received.values()) == {1}
    assert "cohort weekly: sent=" not in second.log()
    assert first.terminate() == 0
    wait_for(lambda: "now the leader" in second.log(), 30, "the standby to take over")
    assert second.terminate() == 0
    assert sum(prompts_received(fake_slack).values()) == len(MEMBERS)

"""The ledger's batched writes: a worker SIGKILLed after Slack took prompts but before their
outcome was written still gives each member exactly one prompt.

A fan-out marks a chunk of sends as begun in one statement and writes the outcomes of finished
sends together, in the next chunk's transaction. So at any moment some prompts are in Slack
but not yet marked sent. The real `learnloop worker` runs against the fake Slack Web API in
this process; mid fan-out the fake starts holding its answers (it has acted on the posts:
they are in the DMs), and the worker is SIGKILLed while it waits. The test checks that the
kill really left delivered prompts unrecorded, then starts another worker: it looks each one
up in the DM's history instead of sending it again. The fake's record is the judge.
"""

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

MEMBERS = [f"U0B{i:04d}" for i in range(120)]
# Enough held answers to fill the lane's window of begun sends (8 threads + a chunk of 4).
HELD = 12
HOLD_SECONDS = 15.0


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop_quietly()


def test_a_worker_killed_between_sent_and_its_outcome_prompts_everyone_once(
    fake_slack: FakeSlackAPI, database_url: str, tmp_path: Path, workers: list[WorkerProcess]
) -> None:
    fake_slack.set_channel_members(CHANNEL, MEMBERS, page_size=100)
    fake_slack.set_latency(0.02)
    env = worker_env(database_url, fake_slack.url, write_config(tmp_path, channel_alliance()))
    first = WorkerProcess(tmp_path, env, "first").start()
    workers.append(first)
    wait_for(lambda: len(prompts_received(fake_slack)) >= 40, 90, "40 prompts")
    # From now on the fake acts on each post but answers only after a long while.
    fake_slack.slow_down("chat.postMessage", HOLD_SECONDS, count=HELD)
    wait_for(
        lambda: (
            fake_slack.peak_concurrency("chat.postMessage") >= 1
            and len(prompts_received(fake_slack)) >= 40 + HELD
        ),
        60,
        "the held posts",
    )
    first.kill()
    delivered = len(prompts_received(fake_slack))
    recorded = ledger(database_url, "SELECT count(*) FROM prompts WHERE status = 'sent'")
    assert delivered < len(MEMBERS), "the fan-out finished before the kill"
    # The crash this test is about: prompts in the DMs that the ledger does not call sent.
    assert recorded < delivered, (recorded, delivered)
    in_doubt = ledger(database_url, "SELECT count(*) FROM prompts WHERE sending_at IS NOT NULL")
    assert in_doubt >= delivered - recorded

    second = WorkerProcess(tmp_path, env, "second").start()
    workers.append(second)
    wait_for(
        lambda: (
            ledger(database_url, "SELECT count(*) FROM prompts WHERE status = 'sent'")
            == len(MEMBERS)
        ),
        120,
        "every prompt sent",
    )
    assert second.terminate() == 0
    received = prompts_received(fake_slack)
    assert set(received) == set(MEMBERS)  # no miss
    assert set(received.values()) == {1}, {m: n for m, n in received.items() if n > 1}
    assert ledger(database_url, "SELECT count(*) FROM prompts WHERE sending_at IS NOT NULL") == 0
    # The prompts in doubt were looked up, not sent blind.
    assert fake_slack.calls("conversations.history")

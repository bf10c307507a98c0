"""Two senders racing for the same pending prompts, each with its own engine and connections,
prompt every member exactly once: the conditional lease lets one of them take each row."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from conftest import TEST_ALLIANCE, Live, alliance_config
from conftest import test_settings as settings_for

from bot.app import LearnLoop, build
from bot.services.prompts import CohortReport

MEMBERS = [f"U0R{i:03d}" for i in range(60)]


def race_alliance() -> Any:
    return alliance_config(
        agencies=[{"id": "housing", "name": "Council Housing", "members": MEMBERS}],
    )


def prompted(live: Live) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in live.slack.messages():
        if (message.get("metadata") or {}).get("event_type") == "learnloop_prompt":
            counts[message["channel"][1:]] = counts.get(message["channel"][1:], 0) + 1
    return counts


class HeldClock:
    """The system clock, except that the send pool's threads wait for `release` to read it.

    A sender with this clock reads the ledger at once (on its own thread) but leases nothing
    until released: it is the sender that was slowed down (a pause, a slow disk) between
    reading the pending rows and taking them, while the other one sent them all.
    """

    def __init__(self) -> None:
        self.release = threading.Event()
        self.waiting = threading.Event()
        self.owner: int | None = None

    def __call__(self) -> dt.datetime:
        if self.owner is not None and threading.get_ident() != self.owner:
            self.waiting.set()
            assert self.release.wait(timeout=60), "the held sender was never released"
        return dt.datetime.now(dt.UTC)


@pytest.fixture
def held_clock() -> HeldClock:
    return HeldClock()


@pytest.fixture
def second_sender(live_for_race: Live, database_url: str, held_clock: HeldClock) -> Any:
    loop = build(
        settings_for(database_url, live_for_race.slack.url),
        alliance=race_alliance(),
        clock=held_clock,
    )
    yield loop
    loop.engine.dispose()


@pytest.fixture
def live_for_race(make_live: Callable[..., Live]) -> Live:
    return make_live(race_alliance())


def test_two_senders_racing_for_the_same_rows_send_each_prompt_once(
    live_for_race: Live, second_sender: LearnLoop
) -> None:
    # Both run freely: whichever leases a row first sends it, the other is told "already".
    live = live_for_race
    assert TEST_ALLIANCE["cohorts"][0]["id"] == "weekly"
    senders = [live.loop.services.prompts, second_sender.services.prompts]
    start = threading.Barrier(len(senders))
    reports: list[list[CohortReport]] = [[] for _ in senders]

    def run(i: int) -> None:
        start.wait()  # both read the ledger while every row is still pending
        reports[i] = senders[i].send("weekly", now=True)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(senders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert prompted(live) == dict.fromkeys(MEMBERS, 1)
    assert live.scalar("SELECT count(*) FROM prompts WHERE status = 'sent'") == len(MEMBERS)
    sent = [sum(r.sent for r in report) for report in reports]
    assert sum(sent) == len(MEMBERS)


def test_a_sender_slowed_down_after_reading_the_rows_sends_none_again(
    live_for_race: Live, second_sender: LearnLoop, held_clock: HeldClock
) -> None:
    live = live_for_race
    late: list[CohortReport] = []

    def slow_sender() -> None:
        held_clock.owner = threading.get_ident()
        late.extend(second_sender.services.prompts.send("weekly", now=True))

    slow = threading.Thread(target=slow_sender)
    slow.start()
    # The slow sender made the pending rows, read them all, and its pool waits to lease them.
    assert held_clock.waiting.wait(timeout=60)
    assert live.scalar("SELECT count(*) FROM prompts WHERE status = 'pending'") == len(MEMBERS)
    [fast] = live.loop.services.prompts.send("weekly", now=True)
    assert fast.sent == len(MEMBERS)
    held_clock.release.set()
    slow.join(timeout=120)
    assert not slow.is_alive()
    assert prompted(live) == dict.fromkeys(MEMBERS, 1)
    [report] = late
    assert (report.sent, report.already) == (0, len(MEMBERS))

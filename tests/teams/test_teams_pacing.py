"""Teams sends keep under the Bot Connector's published limits and honour Retry-After.

The pacer's turns are checked against every window of Microsoft's per-thread table and the
per-tenant rate with a fake clock; over real HTTP, a 429 from the fake Bot Connector holds the
next send for its Retry-After (the fake's own timestamps are compared, not the wall clock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    JONI,
    MEGAN,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    teams_live_fixture,
)

from bot.app import share_teams_limits
from bot.teams.messenger import TeamsMessenger
from bot.teams.pacing import (
    TENANT_LIMIT,
    TENANT_RATE,
    THREAD_LIMITS,
    WORKERS_REFRESH,
    TeamsPacer,
)
from bot.views.message import Message, Paragraph
from bot.views.words import words


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def turns(pacer: TeamsPacer, clock: Clock, tenant: str, conversation: str, n: int) -> list[float]:
    """Reserve n turns at once (as a fan-out's threads would); when each one is."""
    return [clock.now + pacer.reserve(tenant, conversation) for _ in range(n)]


def test_one_conversation_keeps_under_every_window_of_the_published_table() -> None:
    clock = Clock()
    pacer = TeamsPacer(clock=clock)
    times = turns(pacer, clock, "tenant", "19:digest@thread", 120)
    assert times == sorted(times)
    for count, seconds in THREAD_LIMITS:
        for i, start in enumerate(times):
            inside = [t for t in times[i:] if t < start + seconds]
            assert len(inside) <= count, (count, seconds, start)
    # ...but not slower than it must: the 8th post in 2 seconds waits, the 7th does not.
    assert times[6] - times[0] < 1.0 and times[7] - times[0] >= 1.0


def test_a_tenant_stays_under_its_rate_and_a_429_holds_only_that_tenant() -> None:
    clock = Clock()
    pacer = TeamsPacer(clock=clock)
    fan_out = [clock.now + pacer.reserve("contoso", f"a:person{n}") for n in range(90)]
    # Each person is a conversation of their own: only the tenant's rate spaces them.
    assert fan_out[-1] - fan_out[0] >= (len(fan_out) - 1) / TENANT_LIMIT
    assert fan_out[-1] - fan_out[0] < 2.5
    clock.now = fan_out[-1] + 0.1
    pacer.rate_limited("contoso", 5.0)
    assert pacer.reserve("contoso", "a:late") >= 4.9
    assert pacer.reserve("fabrikam", "a:other") == 0.0  # another tenant goes straight away


def test_a_429_from_the_connector_holds_the_next_send_for_its_retry_after(
    teams_live: TeamsLive,
) -> None:
    teams_live.install(MEGAN)
    teams_live.connector.clear()
    teams_live.connector.fail_next("send", 429, headers={"Retry-After": "1"})
    teams_live.loop.services.prompts.send(now=True)
    first, second = teams_live.connector.sends(MEGAN.chat_id)
    assert second.at - first.at >= 1.0
    messenger = teams_live.loop.services.prompts.messenger.for_address(MEGAN.aad)  # type: ignore[attr-defined]
    assert isinstance(messenger, TeamsMessenger) and messenger.pacer.rate_limits == 1
    assert teams_live.scalar("SELECT count(*) FROM prompts WHERE status = 'sent'") >= 1


def test_a_429_told_to_one_worker_holds_the_other_worker_in_that_tenant(
    make_teams_live: Callable[..., TeamsLive],
) -> None:
    """Two workers (two LearnLoops on one database): the Bot Connector tells worker 1 to wait;
    worker 2, never told anything itself, does not send into that tenant before the time is up
    — the `workspace_backoff` row says so."""
    one, two = make_teams_live(), make_teams_live()
    one.install(MEGAN)
    one.install(JONI)
    one.connector.clear()
    one.connector.fail_next("send", 429, headers={"Retry-After": "3"})
    first = one.loop.services.prompts.messenger.for_address(MEGAN.aad)
    second = two.loop.services.prompts.messenger.for_address(JONI.aad)
    assert isinstance(first, TeamsMessenger) and isinstance(second, TeamsMessenger)
    hello = Message(words("Hello"), (Paragraph(words("Hello")),))
    sender = threading.Thread(target=lambda: first.send(MEGAN.aad, hello))
    sender.start()
    one.connector.wait_for(lambda: bool(one.connector.sends(MEGAN.chat_id)))
    refused = one.connector.sends(MEGAN.chat_id)[0]
    # Wait until worker 1 has recorded what it was told (then worker 2 sends, into one tenant).
    assert first.holds is not None
    one.connector.wait_for(lambda: first.holds is not None and first.holds.recorded == 1)
    second.send(JONI.aad, hello)
    sender.join(timeout=30)
    joni = one.connector.sends(JONI.chat_id)
    assert len(joni) == 1 and joni[0].at >= refused.at + 3.0
    megan = one.connector.sends(MEGAN.chat_id)
    assert len(megan) == 2 and megan[1].at >= refused.at + 3.0  # its retry waited too
    assert second.pacer.rate_limits == 0 and first.pacer.rate_limits == 1


def test_each_worker_keeps_to_its_share_of_the_tenant_rate() -> None:
    clock = Clock()
    running = {"n": 3}
    pacer = TeamsPacer(clock=clock, workers=lambda: running["n"])
    fan_out = [clock.now + pacer.reserve("contoso", f"a:person{n}") for n in range(31)]
    # Three workers: each sends at a third of the rate, so together they keep under it.
    assert fan_out[-1] - fan_out[0] >= 30 * 3 / TENANT_RATE - 1e-9
    assert 3 * (len(fan_out) - 1) / (fan_out[-1] - fan_out[0]) < TENANT_LIMIT
    # One stops: the others take up its share once they ask again (every few seconds).
    running["n"] = 1
    clock.now = fan_out[-1] + WORKERS_REFRESH
    later = [clock.now + pacer.reserve("contoso", f"a:later{n}") for n in range(46)]
    assert later[-1] - later[0] == pytest.approx(45 / TENANT_RATE)


def test_the_worker_shares_the_tenant_rate_with_the_running_workers(
    teams_live: TeamsLive,
) -> None:
    share_teams_limits(teams_live.loop, lambda: 2)
    messenger = teams_live.loop.services.prompts.messenger.for_address(MEGAN.aad)  # type: ignore[attr-defined]
    assert isinstance(messenger, TeamsMessenger) and messenger.pacer.sharing() == 2

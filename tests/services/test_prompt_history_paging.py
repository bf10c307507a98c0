"""A prompt in doubt is looked for 15 messages at a time, the most Slack now returns a page.

Slack answers conversations.history with at most 15 messages for apps outside its
Marketplace, whatever `limit` asks; the fake Slack Web API does the same and pages by cursor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from conftest import DAN, Clock_, Live, alliance_config

from bot.services.prompts import PromptService

THURSDAY_2PM = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Clock_:
    return Clock_(THURSDAY_2PM)


def prompts_to(live: Live, user: str) -> int:
    return sum(
        1
        for m in live.slack.messages(f"D{user}")
        if (m.get("metadata") or {}).get("event_type") == "learnloop_prompt"
    )


def test_a_prompt_twenty_messages_back_is_found_not_sent_again(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    live = make_live(alliance_config(), clock=clock)
    live.loop.services.prompts.run_due(clock.now)  # profiles looked up, nobody due yet
    clock.advance(hours=1)
    live.loop.services.prompts.run_due(clock.now)  # everyone prompted
    assert prompts_to(live, DAN) == 1
    # Dan and the bot talk on in the DM: the prompt is now 21st newest.
    for i in range(20):
        live.loop.client.chat_postMessage(channel=f"D{DAN}", text=f"later message {i}")
    with live.loop.engine.begin() as conn:  # the worker died before it recorded the post
        conn.exec_driver_sql(
            "UPDATE prompts SET status = 'pending', sending_at = created_at, message_ts = NULL "
            "WHERE member_id = (SELECT id FROM members WHERE platform_user_id = 'U0DAN')"
        )
    live.slack.reset()
    restarted = PromptService(
        live.loop.services.uow,
        live.loop.alliance,
        live.loop.services.members,
        live.loop.services.prompts.messenger,
        clock,
    )
    clock.advance(minutes=1)
    restarted.run_due(clock.now)  # settles the lease: is the prompt in the DM?
    pages = live.slack.calls("conversations.history")
    clock.advance(minutes=1)
    restarted.run_due(clock.now)  # a prompt not found would be sent again now

    assert prompts_to(live, DAN) == 1  # found on the second page: not sent again
    assert [int(c.params["limit"]) for c in pages] == [15, 15]
    assert pages[1].params["cursor"]
    assert live.scalar("SELECT count(*) FROM prompts WHERE status = 'sent'") == 4


def messages_in_dm(live: Live, user: str, count: int) -> None:
    for i in range(count):
        live.loop.client.chat_postMessage(channel=f"D{user}", text=f"message {i}")
    live.slack.reset()


def test_paging_stops_where_the_history_ends(live: Live) -> None:
    messages_in_dm(live, DAN, 3)
    assert live.loop.services.prompts.messenger.find_prompt(DAN, 999_999) is None
    assert len(live.slack.calls("conversations.history")) == 1


def test_paging_goes_no_further_than_four_pages(live: Live) -> None:
    messages_in_dm(live, DAN, 70)
    assert live.loop.services.prompts.messenger.find_prompt(DAN, 999_999) is None
    assert len(live.slack.calls("conversations.history")) == 4

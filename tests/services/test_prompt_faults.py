"""Fan-out against a misbehaving Slack: 429 bursts, 5xx, slow and lost answers, gone accounts.

Everyone due is prompted exactly once, whatever Slack does; what can't be delivered is recorded
with Slack's error. The fake Web API keeps what it really posted, so duplicates would show.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ALICE, BOB, CAROL, DAN, TEST_ALLIANCE, Clock_, Live, alliance_config, yaml_dump
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.services.prompts import MAX_ATTEMPTS, PromptService
from bot.settings import Settings
from bot.slack.app import build_web_client
from bot.slack.messenger import SlackMessenger

THURSDAY_2PM = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)
MANY = [f"U0M{i:03d}" for i in range(40)]


def many_alliance() -> dict[str, Any]:
    return {
        **TEST_ALLIANCE,
        "agencies": [{"id": "housing", "name": "Council Housing", "members": MANY}],
        "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
    }


@pytest.fixture
def clock() -> Clock_:
    return Clock_(THURSDAY_2PM)


def start(make_live: Callable[..., Live], clock: Clock_, data: dict[str, Any]) -> Live:
    return make_live(alliance_config(**{k: v for k, v in data.items()}), clock=clock)


def run(live: Live, clock: Clock_) -> Any:
    return live.loop.services.prompts.run_due(clock.now)


def warm_up(live: Live, clock: Clock_) -> None:
    """A pass an hour before the slot: profiles are looked up, nobody is due yet."""
    run(live, clock)
    assert live.slack.calls("chat.postMessage") == []
    clock.advance(hours=1)


def deliveries(live: Live) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in live.slack.messages():
        if (message.get("metadata") or {}).get("event_type") == "learnloop_prompt":
            counts[message["channel"][1:]] = counts.get(message["channel"][1:], 0) + 1
    return counts


def test_bursts_of_429_are_waited_out_and_everyone_is_prompted_once(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    live = start(make_live, clock, many_alliance())
    warm_up(live, clock)
    live.slack.set_rate_limit("chat.postMessage", 10)
    [report] = run(live, clock)
    assert deliveries(live) == {user: 1 for user in MANY}
    assert report.sent == 40 and report.failed == 0
    # Some calls were refused with 429 and retried after Retry-After.
    assert len(live.slack.calls("chat.postMessage")) > 40
    pacer = live.loop.services.prompts.messenger.pacer  # type: ignore[attr-defined]
    assert pacer.rate_limits >= 1 and pacer.rate < 12


def test_server_errors_leave_rows_to_retry_on_the_next_pass(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    live = start(make_live, clock, many_alliance())
    warm_up(live, clock)
    # One person's first three calls fail with a 500: more than the WebClient's own two
    # retries absorb. Around them, one call in five fails at random.
    calls = {"n": 0}

    def unlucky(params: dict[str, Any]) -> bool:
        if params.get("channel") != MANY[0]:
            return False
        calls["n"] += 1
        return calls["n"] <= 3

    live.slack.fail_when("chat.postMessage", unlucky, "internal_error", status=500)
    live.slack.fail_randomly("chat.postMessage", 0.2, seed=3)
    passes = 0
    while len(deliveries(live)) < 40 and passes < MAX_ATTEMPTS:
        run(live, clock)
        clock.advance(minutes=1)
        passes += 1
    assert passes >= 2  # the unlucky one was left for a later pass, not lost
    assert deliveries(live) == {user: 1 for user in MANY}
    assert live.scalar("SELECT count(*) FROM prompts WHERE status = 'sent'") == 40


def test_slow_answers_do_not_hold_up_the_fan_out(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    live = start(make_live, clock, many_alliance())
    warm_up(live, clock)
    live.slack.set_latency(0.2)
    run(live, clock)
    assert deliveries(live) == {user: 1 for user in MANY}
    # Sends overlap instead of queueing one by one: Slack saw several answered at once.
    # (How much faster that is, is measured in bench/fanout.py, not asserted here.)
    assert live.slack.peak_concurrency("chat.postMessage") > 1


def test_an_answer_that_never_comes_is_checked_before_any_resend(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    live = make_live(alliance_config(), clock=clock)
    warm_up(live, clock)
    # The same services with a WebClient that gives up after one second (the live one waits 10).
    settings = Settings(_env_file=None, slack_bot_token="xoxb-test", slack_api_url=live.slack.url)
    impatient = PromptService(
        live.loop.services.uow,
        live.loop.alliance,
        live.loop.services.members,
        SlackMessenger(build_web_client(settings, timeout=1)),
        clock,
    )
    live.slack.slow_down("chat.postMessage", 2.5)  # Slack posts it but answers too late
    [report] = impatient.run_due(clock.now)
    assert report.in_doubt == 1 and report.sent == 3
    assert live.scalar("SELECT count(*) FROM prompts WHERE sending_at IS NOT NULL") == 1
    clock.advance(minutes=1)
    impatient.run_due(clock.now)  # finds the prompt in the DM: no second message
    assert deliveries(live) == {ALICE: 1, BOB: 1, CAROL: 1, DAN: 1}
    assert live.scalar("SELECT count(*) FROM prompts WHERE status = 'sent'") == 4
    assert live.slack.calls("conversations.history")


def test_a_send_lost_before_it_reached_slack_is_sent_after_checking(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    live = make_live(alliance_config(), clock=clock)
    warm_up(live, clock)
    run(live, clock)  # everyone prompted
    with live.loop.engine.begin() as conn:  # a crash between the lease and the post
        conn.exec_driver_sql(
            "UPDATE prompts SET status = 'pending', sending_at = created_at, message_ts = NULL "
            "WHERE member_id = (SELECT id FROM members WHERE platform_user_id = 'U0DAN')"
        )
    live.slack.reset()
    fresh = PromptService(  # a restarted worker: its first pass settles every lease
        live.loop.services.uow,
        live.loop.alliance,
        live.loop.services.members,
        live.loop.services.prompts.messenger,
        clock,
    )
    clock.advance(minutes=1)
    fresh.run_due(clock.now)
    # Dan's first prompt is in his DM, so he is not asked again.
    assert live.slack.calls("conversations.history")
    assert live.slack.calls("chat.postMessage") == []
    assert live.scalar("SELECT count(*) FROM prompts WHERE status = 'sent'") == 4


def test_gone_accounts_are_marked_inactive_not_retried(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    live = make_live(alliance_config(), clock=clock)
    warm_up(live, clock)
    live.slack.fail_when("chat.postMessage", lambda p: p.get("channel") == BOB, "account_inactive")
    live.slack.fail_when("chat.postMessage", lambda p: p.get("channel") == CAROL, "user_not_found")
    [report] = run(live, clock)
    assert (report.sent, report.failed) == (2, 2)
    clock.advance(minutes=5)
    run(live, clock)
    attempts = [c.params["channel"] for c in live.slack.calls("chat.postMessage")]
    assert attempts.count(BOB) == 1 and attempts.count(CAROL) == 1
    inactive = dict(
        live.rows("SELECT platform_user_id, inactive_reason FROM members WHERE NOT active")
    )
    assert inactive == {BOB: "account_inactive", CAROL: "user_not_found"}


def test_prompts_status_shows_counts_and_errors_but_no_names(
    make_live: Callable[..., Live], clock: Clock_, database_url: str, tmp_path: Path
) -> None:
    live = make_live(alliance_config(), clock=clock)
    warm_up(live, clock)
    live.slack.fail_when("chat.postMessage", lambda p: p.get("channel") == BOB, "account_inactive")
    run(live, clock)
    config = tmp_path / "alliance.yml"
    config.write_text(yaml_dump(TEST_ALLIANCE))
    env = {
        "DATABASE_URL": database_url,
        "LEARNLOOP_CONFIG": str(config),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": live.slack.url,
        "COLUMNS": "200",  # wide enough that Rich doesn't abbreviate the table
    }
    result = CliRunner().invoke(cli, ["prompts", "status", "--cycle", "2026-W48"], env=env)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "weekly" in line)
    cells = row.split()  # the table has no vertical borders: cells are apart by spaces
    # cohort, cycle, due, waiting, sent, answered, skipped, expired, failed, reminded
    assert cells == ["weekly", "2026-W48", "4", "0", "3", "0", "0", "0", "1", "0"]
    assert "1 × account_inactive" in result.output
    assert all(user not in result.output for user in (ALICE, BOB, CAROL, DAN))
    bad = CliRunner().invoke(cli, ["prompts", "status", "--cycle", "W48"], env=env)
    assert bad.exit_code == 2 and "2026-W48" in bad.output
    assert os.environ.get("DATABASE_URL") != database_url  # nothing leaked into this process


def test_unknown_messenger_failure_in_one_send_does_not_stop_the_others(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    live = make_live(alliance_config(), clock=clock)
    warm_up(live, clock)
    live.slack.queue("chat.postMessage", {"ok": False, "error": "invalid_blocks"})
    [report] = run(live, clock)
    assert report.sent == 3 and report.failed == 1
    assert dict(report.errors) == {"invalid_blocks": 1}

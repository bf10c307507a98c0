"""A digest of several messages under Slack's per-channel limit: each part once, chart once.

Real services and database (SQLite and PostgreSQL); Slack is the fake Web API over HTTP, with
its one-message-a-second-per-channel limit switched on.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ALICE, CAROL, DAN, TEST_ALLIANCE, Clock_, Live, alliance_config
from digest_outputs import digest_messages
from slack_api import FakeSlackAPI, JsonDict
from worker_process import wait_for, worker_env

from bot.domain.checkins import Source
from storage.models import EscalationRow

STEWARDS = "C0STEWARDS"
EVE = "U0EVE"
WEEK = "2026-W47"
THURSDAY = dt.datetime(2026, 11, 19, 15, 0, tzinfo=dt.UTC)
FRIDAY_AFTER = dt.datetime(2026, 11, 20, 9, 5, tzinfo=dt.UTC)
PARTS = 5
STALE_BARRIERS = 190  # enough stale barriers for the alliance digest to take five messages


def alliance_dict() -> dict[str, Any]:
    """The test alliance with a scheduled steward digest (as a deployer's YAML would say)."""
    data = copy.deepcopy(TEST_ALLIANCE)
    # A third hospital member, so one agency's theme count reaches the threshold and the
    # digest has a chart bar it may draw.
    data["agencies"][1]["members"] = [*data["agencies"][1]["members"], EVE]
    data["digests"] = [
        {
            "id": "alliance",
            "channel": STEWARDS,
            "scope": "alliance",
            "schedule": {"days": ["fri"], "time": "09:00"},
        }
    ]
    return data


@pytest.fixture
def clock() -> Clock_:
    return Clock_(THURSDAY)


@pytest.fixture
def app(make_live: Callable[..., Live], clock: Clock_) -> Live:
    live = make_live(alliance=alliance_config(**alliance_dict()), clock=clock)
    a_long_week(live)
    clock.now = FRIDAY_AFTER
    # Slack's per-channel limit: one message a second into a conversation, no burst.
    live.slack.set_channel_rate_limit("chat.postMessage", 1.0)
    return live


def a_long_week(live: Live) -> None:
    """Learnings with themes (so there is a chart) and a long list of stale barriers."""
    for user, text in [
        (ALICE, "Temporary accommodation is full every Friday."),
        (CAROL, "No temporary accommodation available on Fridays again."),
        (DAN, "Asking where people will sleep tonight changed the plan."),
        (EVE, "Calling the housing team before discharge found a bed the same day."),
    ]:
        live.loop.services.checkins.submit(
            "slack",
            user,
            answers={"learned": text, "got_in_the_way": ""},
            themes=["Housing"],
            visibility="alliance",
            source=Source.MODAL,
        )
    old = THURSDAY - dt.timedelta(days=40)
    with live.loop.services.uow() as uow:
        uow.session.add_all(
            EscalationRow(
                title=f"Barrier {i}: " + "assessments wait for a form nobody owns " * 4,
                description="…",
                agencies=["housing", "hospital"],
                level="agency",
                status="open",
                created_at=old,
                updated_at=old,
            )
            for i in range(STALE_BARRIERS)
        )
        uow.commit()


def steward_messages(fake: FakeSlackAPI) -> list[JsonDict]:
    """What Slack really accepted into the steward channel, oldest first."""
    return fake.messages(STEWARDS)


def recorded_parts(live: Live) -> list[str]:
    """The parts the ledger row says were accepted (JSON: a string on SQLite)."""
    (value,) = live.rows("SELECT parts FROM digests")[0]
    return json.loads(value) if isinstance(value, str) else list(value or [])


def assert_complete_once(live: Live) -> None:
    """Five parts, each once, the four replies in the head's thread; each chart once."""
    posted = steward_messages(live.slack)
    heads = [m for m in posted if not m.get("thread_ts")]
    replies = [m for m in posted if m.get("thread_ts")]
    assert len(heads) == 1, f"the head message was posted {len(heads)} times"
    assert len(replies) == PARTS - 1
    assert {m["thread_ts"] for m in replies} == {heads[0]["ts"]}
    parts = [m["metadata"]["event_payload"]["part"] for m in posted]
    assert parts == list(range(PARTS))
    digests = live.loop.services.digests
    view = digests.build(digests.destination("alliance"), WEEK)
    expected = [blocks for _, blocks in digest_messages(view)]
    assert [m["blocks"] for m in posted] == expected  # every part, in order, as rendered
    completes = live.slack.calls("files.completeUploadExternal")
    charts = len(digests.charts(view))
    assert charts >= 1
    assert [c.params.get("channel_id") for c in completes] == [STEWARDS] * charts
    row = live.rows("SELECT status, message_ts, charts_posted FROM digests")
    assert [tuple(r) for r in row] == [("posted", heads[0]["ts"], charts)]
    assert recorded_parts(live) == [m["ts"] for m in posted]


def test_the_digest_is_long_enough_to_need_five_messages(app: Live) -> None:
    digests = app.loop.services.digests
    view = digests.build(digests.destination("alliance"), WEEK)
    assert len(digest_messages(view)) == PARTS


def test_five_parts_under_a_one_a_second_channel_limit_post_once_with_the_chart(
    app: Live,
) -> None:
    digests = app.loop.services.digests
    result = digests.send(digests.destination("alliance"), WEEK)
    assert (result.status, result.parts_posted, result.parts_total) == ("posted", PARTS, PARTS)
    assert_complete_once(app)
    assert digests.send(digests.destination("alliance"), WEEK).status == "already"


def test_a_429_is_waited_out_and_retried_within_the_run(app: Live) -> None:
    # Slack refuses the head message once, asking for two seconds' pause.
    app.slack.queue(
        "chat.postMessage", {"ok": False, "error": "ratelimited"}, 429, {"Retry-After": "2"}
    )
    digests = app.loop.services.digests
    result = digests.send(digests.destination("alliance"), WEEK)
    assert result.status == "posted"
    assert_complete_once(app)
    refused, accepted = app.slack.calls("chat.postMessage")[:2]
    assert accepted.timestamp - refused.timestamp >= 2.0  # Retry-After was honoured
    assert len(app.slack.calls("chat.postMessage")) == PARTS + 1  # one refused, then accepted


def test_a_digest_refused_beyond_the_budget_resumes_where_it_stopped(app: Live) -> None:
    app.loop.services.digests.messenger.digest_retry_budget = 2.0  # type: ignore[attr-defined]
    refusing = {"on": True}

    def after_two_replies(params: JsonDict) -> bool:
        replies = [m for m in steward_messages(app.slack) if m.get("thread_ts")]
        return refusing["on"] and bool(params.get("thread_ts")) and len(replies) >= 2

    app.slack.fail_when("chat.postMessage", after_two_replies, "ratelimited", status=429)
    digests = app.loop.services.digests
    dest = digests.destination("alliance")
    first = digests.send(dest, WEEK)
    assert (first.status, first.detail, first.parts_posted, first.parts_total) == (
        "retry",
        "ratelimited",
        3,
        PARTS,
    )
    assert app.slack.calls("files.completeUploadExternal") == []  # charts wait for the text
    assert app.scalar("SELECT status FROM digests") == "pending"
    assert len(recorded_parts(app)) == 3
    # Each retry within the run waited its turn: a few refusals, not a flood.
    assert 2 <= len(app.slack.calls("chat.postMessage")) - 3 <= 4

    refusing["on"] = False  # the next pass: Slack takes posts again
    second = digests.send(dest, WEEK)
    assert (second.status, second.parts_posted) == ("posted", PARTS)
    assert_complete_once(app)


def test_a_failed_chart_upload_is_retried_alone(app: Live) -> None:
    app.slack.queue("files.getUploadURLExternal", {"ok": False, "error": "internal_error"})
    digests = app.loop.services.digests
    dest = digests.destination("alliance")
    assert digests.send(dest, WEEK).status == "retry"
    assert len(steward_messages(app.slack)) == PARTS
    assert digests.send(dest, WEEK).status == "posted"
    assert_complete_once(app)


def test_a_sender_killed_between_parts_is_resumed_without_duplicates(
    app: Live, clock: Clock_, tmp_path: Path, database_url: str
) -> None:
    """SIGKILL `learnloop digest send` while Slack holds its answer to the third part."""
    config = tmp_path / "alliance.yml"
    config.write_text(yaml.safe_dump(alliance_dict(), sort_keys=False))
    env = worker_env(database_url, app.slack.url, config)
    # The third post is acted on, then its answer held back: the sender is killed waiting.
    app.slack.slow_down("chat.postMessage", 0.0, count=2)
    app.slack.slow_down("chat.postMessage", 60.0, count=1)
    command = [sys.executable, "-m", "bot.cli", "digest", "send", "--week", WEEK]
    log = (tmp_path / "send.log").open("wb")
    sender = subprocess.Popen(
        [*command, "--destination", "alliance"], cwd=tmp_path, env=env, stdout=log, stderr=log
    )
    try:

        def third_part_out() -> bool:
            assert sender.poll() is None, (tmp_path / "send.log").read_text(errors="replace")
            return len(steward_messages(app.slack)) >= 3

        wait_for(third_part_out, 300, "the third part posted")
    finally:
        sender.kill()
        sender.wait(10)
        log.close()
    assert app.scalar("SELECT status FROM digests") == "posting"
    assert len(recorded_parts(app)) == 2  # the third was posted, but never recorded

    digests = app.loop.services.digests
    dest = digests.destination("alliance")
    # Right away it may still be posting elsewhere: nobody else touches it.
    clock.now = dt.datetime.now(dt.UTC)
    assert digests.send(dest, WEEK).status == "already"
    # After the lease the next pass resumes it, finding the third part already in the thread.
    clock.now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    result = digests.send(dest, WEEK)
    assert (result.status, result.parts_posted) == ("posted", PARTS)
    assert_complete_once(app)
    assert app.slack.calls("conversations.replies")  # it looked before posting again


def test_the_worker_takes_over_a_digest_whose_sender_died_after_the_lease(
    app: Live, clock: Clock_
) -> None:
    digests = app.loop.services.digests
    dest = digests.destination("alliance")
    # A sender claimed the digest and died before posting anything it recorded.
    with app.loop.services.uow() as uow:
        uow.digests.claim(dest.id, WEEK, dest.channel, now=clock())
        uow.commit()
    assert digests.send_due() == []  # within its lease: left alone, nothing reported
    assert steward_messages(app.slack) == []
    clock.advance(minutes=11)
    assert [(r.destination_id, r.status) for r in digests.send_due()] == [("alliance", "posted")]
    assert app.slack.calls("conversations.history")  # it looked for a part posted unrecorded
    assert_complete_once(app)

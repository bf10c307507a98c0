"""The barrier register as the digest, the worker and board papers see it.

Run against the live app (real services, real SlackMessenger on the fake Web API) with a clock
the tests move.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    ALICE,
    BOB,
    CAROL,
    STEWARD,
    TEST_ALLIANCE,
    Clock_,
    Live,
    alliance_config,
    yaml_dump,
)
from slack_requests import slash_command
from slack_ui import wait_until
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.domain.escalation import Action
from bot.services.barriers import BarrierItem, BarrierSummary, Change, EscalationService

# Monday 2 November 2026, 10:00 in London (GMT).
MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Clock_:
    return Clock_(MONDAY)


@pytest.fixture
def app(make_live: Callable[..., Live], clock: Clock_) -> Live:
    return make_live(clock=clock)


def esc(live: Live) -> EscalationService:
    return live.loop.services.escalations


def raise_one(live: Live, user: str, title: str, anonymous: bool = False, **kw: Any) -> int:
    change = esc(live).raise_barrier(
        "slack",
        user,
        title=title,
        description=f"{title}: what gets in the way",
        who_is_affected=None,
        agencies=kw.pop("agencies", ["housing"]),
        level=kw.pop("level", None),
        anonymous=anonymous,
        checkin_ids=[],
    )
    esc(live).publish(change)
    return change.barrier_id


def act(live: Live, barrier_id: int, action: Action, note: str | None = None) -> Change:
    change = esc(live).act("slack", STEWARD, barrier_id, None, action, note=note)
    esc(live).publish(change)
    return change


# ------------------------------------------------------------------------- the digest


def test_summary_for_period_has_new_moved_up_stale_and_resolved(app: Live, clock: Clock_) -> None:
    clock.now = MONDAY - dt.timedelta(days=20)
    old = raise_one(app, BOB, "Forms ask too much too early")
    clock.now = MONDAY - dt.timedelta(days=3)
    ended_before = raise_one(app, BOB, "Resolved last week")
    act(app, ended_before, Action.RESOLVE, "Done last week")
    clock.now = MONDAY + dt.timedelta(hours=1)
    moved = raise_one(app, ALICE, "Housing waits for a discharge date", anonymous=True)
    fixed = raise_one(app, CAROL, "No texts from our phones", agencies=["hospital"])
    clock.advance(days=1)
    act(app, moved, Action.ESCALATE)
    clock.advance(days=1)
    act(app, fixed, Action.RESOLVE, "Bought a texting service")

    summary = esc(app).summary_for_period(MONDAY, MONDAY + dt.timedelta(days=7))
    assert isinstance(summary, BarrierSummary) and not summary.empty
    assert [b.id for b in summary.new] == [moved, fixed]
    [up] = summary.moved_up
    assert (up.barrier.id, up.from_level_name, up.to_level_name) == (
        moved,
        "Agency leadership",
        "Steward group",
    )
    assert [b.id for b in summary.stale] == [old]
    assert [(b.id, b.outcome) for b in summary.resolved] == [(fixed, "Bought a texting service")]
    assert summary.closed == []
    item = summary.resolved[0]
    assert item.agencies == ["hospital"] and item.card_url and item.status == "resolved"
    # The digest can't name a raiser: there is nothing to name them with.
    fields = {f.name for f in dataclasses.fields(BarrierItem)}
    assert not any("raise" in f for f in fields)
    # A past period is told as it was then: `old` was not yet stale a week after it was raised.
    earlier = esc(app).summary_for_period(
        MONDAY - dt.timedelta(days=14), MONDAY - dt.timedelta(days=7)
    )
    assert earlier.stale == [] and earlier.new == []


# ------------------------------------------------------------------------- stale reminders


def stale_posts(live: Live, channel: str = "C0LEADS") -> list[dict[str, Any]]:
    return [m for m in live.slack.messages(channel) if "haven't moved" in m["text"]]


def test_stale_barriers_are_raised_once_a_week_in_their_levels_channel(
    app: Live, clock: Clock_
) -> None:
    waiting = raise_one(app, BOB, "Letters read like threats")
    moving = raise_one(app, CAROL, "No texts from our phones")
    done = raise_one(app, CAROL, "Referral forms")
    act(app, done, Action.CLOSE, "Out of our hands")
    clock.advance(days=13)
    act(app, moving, Action.ACKNOWLEDGE)  # a change resets the clock

    tuesday = MONDAY + dt.timedelta(days=15)  # Tuesday 17 November
    report = esc(app).raise_stale(tuesday)
    assert report.posted == {"agency": 1} and report.period == "2026-W47"
    [post] = stale_posts(app)
    text = json.dumps(post["blocks"])
    url = app.scalar("SELECT card_url FROM escalations WHERE id = :b", b=waiting)
    assert f"<{url}|#{waiting} Letters read like threats>" in text
    assert "No texts" not in text and "Referral" not in text
    assert "15 days since the last change" in text

    # Later the same week: once is enough, whatever the worker's tick.
    again = esc(app).raise_stale(tuesday + dt.timedelta(days=1))
    assert again.posted == {} and again.already == ["agency"]
    # Next week, before Monday 09:00 London: not yet.
    assert esc(app).raise_stale(dt.datetime(2026, 11, 23, 8, 59, tzinfo=dt.UTC)).posted == {}
    # After it: the next reminder; a week on, the acknowledged one has gone stale too.
    report = esc(app).raise_stale(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC))
    assert report.posted == {"agency": 1}
    report = esc(app).raise_stale(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC))
    assert report.posted == {"agency": 2}
    assert len(stale_posts(app)) == 3


def test_an_agency_with_its_own_leadership_channel_is_reminded_there(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    """The first rung's reminder goes where the barrier's card went: the agency's own
    leadership channel when it has one, the shared one for the agencies that have none."""
    agencies = copy.deepcopy(TEST_ALLIANCE["agencies"])
    agencies[0]["leadership_channel"] = "C0HOUSELEADS"  # housing has its own; hospital not
    app = make_live(alliance_config(agencies=agencies), clock=clock)
    housing = raise_one(app, BOB, "Letters read like threats", agencies=["housing"])
    hospital = raise_one(app, CAROL, "No texts from our phones", agencies=["hospital"])
    up = raise_one(app, BOB, "Forms ask too much", agencies=["housing"])
    act(app, up, Action.ESCALATE)  # on the second rung: its own channel, whoever raised it

    tuesday = MONDAY + dt.timedelta(days=15)
    report = esc(app).raise_stale(tuesday)
    assert report.posted == {"agency@C0HOUSELEADS": 1, "agency": 1, "alliance": 1}, report
    [own] = stale_posts(app, "C0HOUSELEADS")
    [shared] = stale_posts(app, "C0LEADS")
    assert "Letters read like threats" in json.dumps(own["blocks"])
    assert "No texts" not in json.dumps(own["blocks"])
    assert "No texts from our phones" in json.dumps(shared["blocks"])
    assert "Letters read" not in json.dumps(shared["blocks"])
    # The escalated one (raised by housing) is reminded on its own rung, not in either.
    [upper] = stale_posts(app, "C0STEWARDS")
    assert "Forms ask too much" in json.dumps(upper["blocks"])
    url = app.scalar("SELECT card_url FROM escalations WHERE id = :b", b=housing)
    assert f"<{url}|#{housing} Letters read like threats>" in json.dumps(own["blocks"])
    assert f"#{hospital} No texts" in json.dumps(shared["blocks"])
    # Once a week in each channel: later the same week, nothing more anywhere.
    again = esc(app).raise_stale(tuesday + dt.timedelta(hours=2))
    assert again.posted == {}
    assert sorted(again.already) == ["agency", "agency@C0HOUSELEADS", "alliance"]
    assert len(stale_posts(app, "C0HOUSELEADS")) == 1 and len(stale_posts(app)) == 1


def test_a_refused_reminder_is_tried_again_later_that_week(app: Live, clock: Clock_) -> None:
    raise_one(app, BOB, "Letters read like threats")
    app.slack.queue("chat.postMessage", {"ok": False, "error": "channel_not_found"})
    tuesday = MONDAY + dt.timedelta(days=15)
    assert esc(app).raise_stale(tuesday).failed == {"agency": "channel_not_found"}
    assert esc(app).raise_stale(tuesday + dt.timedelta(minutes=1)).posted == {"agency": 1}


def test_the_worker_runs_the_stale_reminder(app: Live) -> None:
    from bot.scheduler import due_jobs

    runs = {job.name: job.run for job in due_jobs(app.loop.services)}
    assert runs["escalations.raise_stale"] == esc(app).raise_stale


# ------------------------------------------------------------------------- people


def test_a_steward_outside_every_agency_can_act_but_not_check_in(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    live = make_live(clock=clock)
    barrier = raise_one(live, BOB, "Letters")
    act(live, barrier, Action.ACKNOWLEDGE)
    assert (
        live.scalar("SELECT agency_id FROM members WHERE platform_user_id = :u", u=STEWARD)
        == "_outside"
    )
    live.post(slash_command("/checkin", "", user_id=STEWARD))
    wait_until(lambda: bool(live.slack.calls("chat.postEphemeral")))
    assert "not set up as a member" in live.slack.calls("chat.postEphemeral")[0].params["text"]
    # Once the config puts them in an agency, they are simply a member of it.
    agencies = [dict(a) for a in TEST_ALLIANCE["agencies"]]
    agencies[0]["members"] = [*agencies[0]["members"], STEWARD]
    make_live(alliance=alliance_config(agencies=agencies), clock=clock)
    assert (
        live.scalar("SELECT agency_id FROM members WHERE platform_user_id = :u", u=STEWARD)
        == "housing"
    )


# ------------------------------------------------------------------------- the export


def run_export(database_url: str, tmp_path: Path, *args: str) -> str:
    config = tmp_path / "alliance.yml"
    config.write_text(yaml_dump(TEST_ALLIANCE))
    result = CliRunner().invoke(
        cli,
        ["barriers", "export", *args],
        env={"DATABASE_URL": database_url, "LEARNLOOP_CONFIG": str(config)},
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_export_for_board_papers_has_no_raisers(
    app: Live, clock: Clock_, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    named = raise_one(app, BOB, "Letters read like threats")
    anonymous = raise_one(app, ALICE, "Sober first rule", anonymous=True)
    clock.advance(days=1)
    act(app, named, Action.RESOLVE, "Letters rewritten with tenants")

    rows = list(csv.DictReader(io.StringIO(run_export(database_url, tmp_path))))
    assert [(r["id"], r["status"], r["outcome"]) for r in rows] == [
        (str(named), "Resolved", "Letters rewritten with tenants"),
        (str(anonymous), "Open", ""),
    ]
    assert rows[0]["level_name"] == "Agency leadership" and rows[0]["agencies"] == "Council Housing"
    assert rows[0]["card_url"].startswith("https://")

    out = tmp_path / "barriers.json"
    run_export(database_url, tmp_path, "--format", "json", "--out", str(out))
    data = json.loads(out.read_text())["barriers"]
    assert [e["kind"] for e in data[0]["history"]] == ["raised", "resolved"]
    assert data[0]["history"][1]["by"] == STEWARD
    assert all(e["by"] is None for b in data for e in b["history"] if e["kind"] == "raised")
    dumped = out.read_text()
    for who in (ALICE, BOB, "raised_by", "raiser"):
        assert who not in dumped
    assert app.scalar("SELECT count(*) FROM audit_events WHERE action = 'barriers.exported'") == 2


def test_export_refuses_an_unknown_format(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["barriers", "export", "--format", "xlsx"])
    assert result.exit_code == 2 and "xlsx" in result.output

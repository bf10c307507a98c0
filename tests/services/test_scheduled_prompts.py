"""The worker's pass, with time under test control (time-machine): time zones, DST, holidays,
reminders, expiry, pause, and who is in a cohort. Slack is the fake Web API over HTTP; buttons
and commands go through the live app as signed requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import time_machine
from conftest import ALICE, BOB, CAROL, DAN, TEST_ALLIANCE, Live, alliance_config
from slack_requests import block_actions, slash_command
from slack_ui import button, wait_until

from bot.services.prompts import CohortReport

LONDON_ALLIANCE = {**TEST_ALLIANCE["alliance"]}


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def run_at(live: Live, when: dt.datetime) -> list[CohortReport]:
    """One worker pass with the clock at `when` (time flows on from there)."""
    with time_machine.travel(when, tick=True):
        return live.loop.services.prompts.run_due(dt.datetime.now(dt.UTC))


def prompted(live: Live) -> dict[str, int]:
    """How many prompts each person really received (reminders not counted)."""
    counts: dict[str, int] = {}
    for message in live.slack.messages():
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == "learnloop_prompt":
            user = message["channel"][1:]
            counts[user] = counts.get(user, 0) + 1
    return counts


def reminders(live: Live) -> list[dict[str, Any]]:
    return [
        m
        for m in live.slack.messages()
        if (m.get("metadata") or {}).get("event_type") == "learnloop_reminder"
    ]


def prompt_blocks(live: Live, user_id: str) -> list[dict[str, Any]]:
    [message] = [
        m
        for m in live.slack.messages(user_id)
        if (m.get("metadata") or {}).get("event_type") == "learnloop_prompt"
    ]
    return message["blocks"]


def cohort(**schedule: Any) -> dict[str, Any]:
    extra = {k: schedule.pop(k) for k in ("remind_after_hours",) if k in schedule}
    return {"id": "weekly", "schedule": schedule, **extra}


def test_each_member_is_prompted_at_their_own_local_time(
    make_live: Callable[..., Live],
) -> None:
    live = make_live(alliance_config(cohorts=[cohort(days=["thu"], time="15:00")]))
    live.slack.set_user(ALICE, tz="America/New_York")
    live.slack.set_user(BOB, tz="Asia/Kolkata")
    run_at(live, utc(2026, 11, 26, 9, 30))  # Thursday 15:00 in Kolkata (UTC+5:30)
    assert prompted(live) == {BOB: 1}
    run_at(live, utc(2026, 11, 26, 15, 0))  # 15:00 in London
    assert prompted(live) == {BOB: 1, CAROL: 1, DAN: 1}
    run_at(live, utc(2026, 11, 26, 19, 59))  # 14:59 in New York
    assert ALICE not in prompted(live)
    run_at(live, utc(2026, 11, 26, 20, 0))
    run_at(live, utc(2026, 11, 26, 20, 1))
    assert prompted(live) == {ALICE: 1, BOB: 1, CAROL: 1, DAN: 1}
    zones = dict(live.rows("SELECT platform_user_id, timezone FROM members"))
    assert zones[ALICE] == "America/New_York" and zones[CAROL] == "Europe/London"
    # The zone is cached: the next pass looks nobody up again.
    looked_up = len(live.slack.calls("users.info"))
    run_at(live, utc(2026, 11, 26, 20, 2))
    assert len(live.slack.calls("users.info")) == looked_up


def test_bank_holiday_prompt_goes_out_on_the_next_working_day(
    make_live: Callable[..., Live],
) -> None:
    live = make_live(
        alliance_config(
            alliance={**LONDON_ALLIANCE, "bank_holidays": "ENG"},
            cohorts=[cohort(days=["mon"], time="09:00")],
        )
    )
    run_at(live, utc(2026, 8, 31, 8, 0))  # Late Summer Bank Holiday, 09:00 BST
    run_at(live, utc(2026, 8, 31, 12, 0))
    assert prompted(live) == {}
    run_at(live, utc(2026, 9, 1, 8, 0))  # Tuesday 09:00 BST
    assert prompted(live) == {ALICE: 1, BOB: 1, CAROL: 1, DAN: 1}


def test_spring_forward_prompt_at_0130_is_sent_once_when_clocks_jump(
    make_live: Callable[..., Live],
) -> None:
    live = make_live(alliance_config(cohorts=[cohort(days=["sun"], time="01:30")]))
    run_at(live, utc(2026, 3, 29, 0, 59))  # 00:59 GMT: not yet
    assert prompted(live) == {}
    run_at(live, utc(2026, 3, 29, 1, 0))  # clocks jump to 02:00 BST: 01:30 has passed
    run_at(live, utc(2026, 3, 29, 1, 30))
    run_at(live, utc(2026, 3, 29, 2, 30))
    assert prompted(live) == {ALICE: 1, BOB: 1, CAROL: 1, DAN: 1}
    for (sent_at,) in live.rows("SELECT sent_at FROM prompts"):
        if isinstance(sent_at, str):  # SQLite hands back text
            sent_at = dt.datetime.fromisoformat(sent_at)
        assert sent_at.replace(tzinfo=dt.UTC) - utc(2026, 3, 29, 1, 0) < dt.timedelta(minutes=1)


def test_autumn_prompt_at_0130_is_sent_once_though_0130_happens_twice(
    make_live: Callable[..., Live],
) -> None:
    live = make_live(alliance_config(cohorts=[cohort(days=["sun"], time="01:30")]))
    run_at(live, utc(2026, 10, 25, 0, 29))  # 01:29 BST
    assert prompted(live) == {}
    run_at(live, utc(2026, 10, 25, 0, 30))  # the first 01:30 (BST)
    assert prompted(live) == {ALICE: 1, BOB: 1, CAROL: 1, DAN: 1}
    run_at(live, utc(2026, 10, 25, 1, 30))  # the second 01:30 (GMT)
    run_at(live, utc(2026, 10, 25, 1, 31))
    assert prompted(live) == {ALICE: 1, BOB: 1, CAROL: 1, DAN: 1}


def test_one_reminder_never_to_those_who_answered_skipped_or_paused(
    make_live: Callable[..., Live],
) -> None:
    live = make_live(
        alliance_config(cohorts=[cohort(days=["thu"], time="15:00", remind_after_hours=20)])
    )
    run_at(live, utc(2026, 11, 26, 15, 0))
    with time_machine.travel(utc(2026, 11, 26, 16, 0), tick=True):
        skip = button(prompt_blocks(live, BOB), "Skip this week")
        live.post(block_actions(skip["action_id"], skip["value"], user_id=BOB))
        pause = button(prompt_blocks(live, CAROL), "Pause prompts")
        live.post(block_actions(pause["action_id"], pause["value"], user_id=CAROL))
        wait_until(lambda: len(live.slack.calls("chat.update")) == 2)
    run_at(live, utc(2026, 11, 27, 10, 59))  # 19h59m later: too early
    assert reminders(live) == []
    run_at(live, utc(2026, 11, 27, 11, 0))
    run_at(live, utc(2026, 11, 27, 12, 0))
    run_at(live, utc(2026, 11, 27, 13, 0))
    nudged = sorted(m["channel"][1:] for m in reminders(live))
    assert nudged == [ALICE, DAN]
    for label in ("Share a learning", "Skip this week", "Pause prompts"):
        button(reminders(live)[0]["blocks"], label)
    assert "reminder" in reminders(live)[0]["text"]
    assert live.scalar("SELECT count(*) FROM prompts WHERE reminded_at IS NOT NULL") == 2


def test_reminder_waits_for_working_hours(make_live: Callable[..., Live]) -> None:
    live = make_live(
        alliance_config(cohorts=[cohort(days=["thu"], time="15:00", remind_after_hours=6)])
    )
    run_at(live, utc(2026, 11, 26, 15, 0))
    run_at(live, utc(2026, 11, 26, 21, 30))  # 6h30 later, but 21:30
    run_at(live, utc(2026, 11, 27, 3, 0))
    assert reminders(live) == []
    run_at(live, utc(2026, 11, 27, 8, 0))
    assert len(reminders(live)) == 4


def test_prompts_expire_when_the_next_cycle_starts(make_live: Callable[..., Live]) -> None:
    live = make_live(
        alliance_config(cohorts=[cohort(days=["thu"], time="15:00", remind_after_hours=20)])
    )
    live.slack.set_user(DAN, tz="America/Los_Angeles")
    run_at(live, utc(2026, 11, 26, 23, 0))  # 15:00 in Los Angeles: only Dan is due
    run_at(live, utc(2026, 11, 27, 9, 0))  # the others, late, in working hours
    assert len(prompted(live)) == 4
    run_at(live, utc(2026, 11, 30, 0, 1))  # Monday in London; still Sunday in Los Angeles
    assert live.scalar("SELECT count(*) FROM prompts WHERE status = 'expired'") == 3
    assert live.scalar(
        "SELECT p.status FROM prompts p JOIN members m ON m.id = p.member_id "
        "WHERE m.platform_user_id = :u",
        u=DAN,
    ) in ("sent",)
    run_at(live, utc(2026, 11, 30, 8, 1))  # Monday 00:01 in Los Angeles
    assert live.scalar("SELECT count(*) FROM prompts WHERE status = 'expired'") == 4
    assert reminders(live) == []  # an expired prompt is never nudged


def test_paused_members_are_neither_prompted_nor_reminded(
    make_live: Callable[..., Live],
) -> None:
    live = make_live(
        alliance_config(cohorts=[cohort(days=["thu"], time="15:00", remind_after_hours=2)])
    )
    with time_machine.travel(utc(2026, 11, 20, 12, 0), tick=True):
        live.post(
            slash_command(
                "/learnloop",
                "pause until 2026-11-27",
                user_id=DAN,
                response_url=live.slack.response_url("pause"),
            )
        )
        wait_until(lambda: len(live.slack.calls("webhook")) == 1)
    run_at(live, utc(2026, 11, 26, 15, 0))
    assert DAN not in prompted(live)
    run_at(live, utc(2026, 11, 26, 17, 1))
    assert {m["channel"][1:] for m in reminders(live)} == {ALICE, BOB, CAROL}
    with time_machine.travel(utc(2026, 11, 27, 9, 0), tick=True):
        live.post(
            slash_command(
                "/learnloop", "resume", user_id=DAN, response_url=live.slack.response_url("r")
            )
        )
        wait_until(lambda: len(live.slack.calls("webhook")) == 2)
    run_at(live, utc(2026, 11, 27, 9, 1))  # resumed: the late prompt goes out in working hours
    assert prompted(live)[DAN] == 1


def test_members_from_list_channel_and_usergroup_without_bots_or_deactivated(
    make_live: Callable[..., Live], fake_slack: Any
) -> None:
    channel_people = [f"U0CH{i:04d}" for i in range(450)]
    fake_slack.set_channel_members("C0HOUSING", [*channel_people, "UBOT", "U0GONE"], page_size=200)
    fake_slack.set_usergroup_users("S0OUTREACH", ["U0GRP1", "U0GRP2", ALICE])
    fake_slack.set_user("UBOT", is_bot=True)
    fake_slack.set_user("U0GONE", deleted=True)
    agencies = [
        {"id": "housing", "name": "Council Housing", "members": [ALICE], "channel": "C0HOUSING"},
        {"id": "outreach", "name": "Outreach", "usergroup": "S0OUTREACH"},
    ]
    live = make_live(
        alliance_config(agencies=agencies, cohorts=[cohort(days=["thu"], time="15:00")])
    )
    # Profiles are looked up 100 a pass (Slack's users.info budget); the rest keep the fallback.
    for minute in range(6):
        run_at(live, utc(2026, 11, 26, 15, minute))
    got = prompted(live)
    assert set(got) == {*channel_people, ALICE, "U0GRP1", "U0GRP2"}
    assert set(got.values()) == {1}
    assert len(live.slack.calls("conversations.members")) >= 3  # 452 members, 200 a page
    inactive = dict(
        live.rows("SELECT platform_user_id, inactive_reason FROM members WHERE NOT active")
    )
    assert inactive == {"UBOT": "bot", "U0GONE": "deactivated"}


def test_bot_removed_from_channel_keeps_last_known_members(
    make_live: Callable[..., Live], fake_slack: Any
) -> None:
    fake_slack.set_channel_members("C0HOUSING", ["U0CH1", "U0CH2"])
    agencies = [
        {"id": "housing", "name": "Council Housing", "members": [ALICE], "channel": "C0HOUSING"}
    ]
    live = make_live(
        alliance_config(agencies=agencies, cohorts=[cohort(days=["thu"], time="15:00")])
    )
    run_at(live, utc(2026, 11, 19, 15, 0))  # last week: the listing works
    fake_slack.fail_when("conversations.members", lambda p: True, "not_in_channel")
    reports = run_at(live, utc(2026, 11, 26, 15, 0))  # removed from the channel since
    assert prompted(live) == {ALICE: 2, "U0CH1": 2, "U0CH2": 2}
    assert reports[0].sent == 3
    assert live.loop.services.prompts.roster.errors == {"channel:not_in_channel": 1}

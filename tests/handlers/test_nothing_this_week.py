""" "Nothing this week" — taking part with one click, no text, never reminded."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from conftest import ALICE, BOB, CAROL, DAN, TEST_ALLIANCE, Clock_, Live, alliance_config
from slack_requests import block_actions, message_im, view_submission
from slack_ui import button, button_labels, fill, wait_until

from bot.services.prompts import CohortReport
from bot.slack.ids import View

THURSDAY = dt.datetime(2026, 11, 19, 15, 30, tzinfo=dt.UTC)


def start(make_live: Any) -> tuple[Live, Clock_]:
    clock = Clock_(THURSDAY)
    cohort = {**TEST_ALLIANCE["cohorts"][0], "remind_after_hours": 2}
    alliance = {**TEST_ALLIANCE["alliance"], "suppress_below": 1}
    live = make_live(alliance_config(alliance=alliance, cohorts=[cohort]), clock=clock)
    live.loop.services.prompts.send("weekly", now=True)
    return live, clock


def prompt_of(live: Live, user: str) -> dict[str, Any]:
    [call] = [
        c
        for c in live.slack.calls("chat.postMessage")
        if c.params["channel"] == user and "Share a learning" in json.dumps(c.json_field("blocks"))
    ]
    return {"blocks": call.json_field("blocks"), "ts": call.params.get("ts")}


def status_of(live: Live, user: str) -> str:
    return live.scalar(
        "SELECT p.status FROM prompts p JOIN members m ON m.id = p.member_id "
        "WHERE m.platform_user_id = :u",
        u=user,
    )


def test_nothing_this_week_counts_as_taking_part_without_text(make_live: Any) -> None:
    live, clock = start(make_live)
    blocks = prompt_of(live, ALICE)["blocks"]
    assert button_labels(blocks) == [
        "Share a learning",
        "Nothing this week",
        "Skip this week",
        "Pause prompts",
    ]
    nothing = button(blocks, "Nothing this week")
    resp = live.post(block_actions(nothing["action_id"], nothing["value"], user_id=ALICE))
    assert resp.status_code == 200

    wait_until(lambda: status_of(live, ALICE) == "nothing")
    # Stored without text: no check-in at all, only the ledger's answer.
    assert live.scalar("SELECT count(*) FROM checkins") == 0
    update = live.slack.wait_for("chat.update")[0]
    assert "nothing to share this week" in update.params["text"]
    assert "counts as taking part" in update.params["text"]
    assert button_labels(update.json_field("blocks")) == []

    # Never reminded: Bob (still `sent`) gets the one nudge, Alice does not.
    clock.advance(hours=3)
    cohort = live.loop.alliance.cohort("weekly")
    report = CohortReport(cohort_id="weekly", cycle="", due=True)
    live.loop.services.prompts.remind(cohort, clock(), report)
    assert report.reminded == 3
    reminded = {
        c.params["channel"]
        for c in live.slack.calls("chat.postMessage")
        if c.params["text"].startswith("A gentle reminder")
    }
    assert reminded == {f"D{user}" for user in (BOB, CAROL, DAN)}  # DMs, and not Alice's

    # Bob shares a learning: the digest counts two people from Housing, one learning.
    live.post(message_im("Drop-ins at the hub work", user_id=BOB, event_id="Ev0NOTHING1"))
    wait_until(lambda: live.scalar("SELECT count(*) FROM checkins") == 1)
    dest = live.loop.services.digests.destination("alliance")
    view = live.loop.services.digests.build(dest, "2026-W47")
    housing = next(p for p in view.participation if p.agency == "Council Housing")
    assert (housing.learnings, housing.people) == ("1", "2")
    assert view.learnings == "1"


def test_sharing_after_nothing_this_week_answers_the_prompt(make_live: Any) -> None:
    live, _ = start(make_live)
    blocks = prompt_of(live, ALICE)["blocks"]
    nothing = button(blocks, "Nothing this week")
    live.post(block_actions(nothing["action_id"], nothing["value"], user_id=ALICE))
    wait_until(lambda: status_of(live, ALICE) == "nothing")
    share = button(blocks, "Share a learning")  # the old message still in their scrollback
    live.post(block_actions(share["action_id"], share["value"], user_id=ALICE))
    view = live.slack.wait_for("views.open")[0].json_field("view")
    live.post(
        view_submission(
            View.CHECKIN,
            fill(view, {"What happened that you learned from?": "Something came up after all"}),
            user_id=ALICE,
            private_metadata=view["private_metadata"],
        )
    )
    wait_until(lambda: status_of(live, ALICE) == "answered")
    assert live.scalar("SELECT count(*) FROM checkins") == 1
    # Pressing "Nothing this week" again now keeps the learning: the prompt stays answered.
    live.post(block_actions(nothing["action_id"], nothing["value"], user_id=ALICE))
    live.slack.wait_for("chat.update", count=3)
    assert status_of(live, ALICE) == "answered"
    assert "Thank you" in live.slack.calls("chat.update")[-1].params["text"]

"""The purpose question, asked in the first cycle of a quarter, gathered in digests."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from conftest import ALICE, BOB, CAROL, DAN, Clock_, Live, alliance_config
from slack_requests import block_actions, slash_command, view_submission
from slack_ui import button, fill, input_blocks, wait_until

from bot.domain.visibility import Audience
from bot.slack.ids import View

PURPOSE = "What is this system set up to do, and is it doing it?"
# Thursday of ISO week 1 of 2027: the first cycle that starts in the first quarter.
FIRST_WEEK = dt.datetime(2027, 1, 7, 15, 30, tzinfo=dt.UTC)
LEARNED = "What happened that you learned from?"


def form(live: Live, request: Any) -> dict[str, Any]:
    before = len(live.slack.calls("views.open"))
    live.post(request)
    return live.slack.wait_for("views.open", count=before + 1)[-1].json_field("view")


def save(live: Live, user: str, view: dict[str, Any], answers: dict[str, Any]) -> None:
    before = live.scalar("SELECT count(*) FROM checkins")
    live.post(
        view_submission(
            View.CHECKIN,
            fill(view, answers),
            user_id=user,
            private_metadata=view["private_metadata"],
            view_id=f"V{user}{before}",
        )
    )
    wait_until(lambda: live.scalar("SELECT count(*) FROM checkins") == before + 1)


def periods(live: Live) -> dict[str, str | None]:
    return dict(
        live.rows(
            "SELECT m.platform_user_id, c.purpose_period FROM checkins c "
            "JOIN members m ON m.id = c.member_id"
        )
    )


def test_purpose_question_is_asked_once_a_quarter_and_gathered(make_live: Any) -> None:
    clock = Clock_(FIRST_WEEK)
    live = make_live(alliance_config(purpose={"cadence": "quarterly"}), clock=clock)
    live.loop.services.prompts.send("weekly", now=True)
    prompt = next(
        c.json_field("blocks")
        for c in live.slack.calls("chat.postMessage")
        if c.params["channel"] == ALICE
    )
    assert PURPOSE in json.dumps(prompt)
    share = button(prompt, "Share a learning")
    view = form(live, block_actions(share["action_id"], share["value"], user_id=ALICE))
    asked = input_blocks(view)[PURPOSE]
    assert asked["optional"] is True and "once a quarter" in asked["hint"]["text"]
    save(
        live,
        ALICE,
        view,
        {
            LEARNED: "Joint visits",
            PURPOSE: "To keep people housed; mostly, except after hospital.",
            "Who can see this?": "The alliance, with my name",
        },
    )
    # Answered once this quarter: not asked again. Carol is asked and leaves it blank.
    assert PURPOSE not in input_blocks(form(live, slash_command("/checkin", user_id=ALICE)))
    view = form(live, slash_command("/checkin", user_id=CAROL))
    assert PURPOSE in input_blocks(view)
    save(live, CAROL, view, {LEARNED: "Discharge lounge helps"})
    view = form(live, slash_command("/checkin", user_id=DAN))
    save(
        live,
        DAN,
        view,
        {LEARNED: "Wards are full", PURPOSE: "To get people well; the wards can't keep up."},
    )
    assert periods(live) == {ALICE: "2027-Q1", CAROL: None, DAN: "2027-Q1"}

    # The next cycle is not a purpose cycle.
    clock.advance(days=7)
    assert PURPOSE not in input_blocks(form(live, slash_command("/checkin", user_id=BOB)))

    # The digest gathers the answers its audience may read: Dan's stays in his agency.
    digests = live.loop.services.digests
    alliance = digests.destination("alliance")
    view = digests.build(alliance, "2027-W01")
    assert view.purpose is not None and view.purpose.total == "fewer than 3"
    assert [a.text for a in view.purpose.answers] == [
        "To keep people housed; mostly, except after hospital."
    ]
    assert view.purpose.period == "2027-Q1"
    # Read, grouped by the pattern finder: one answer on its own, quoted with its byline.
    [group] = view.purpose.groups
    assert not group.together and [q.text for q in group.quotes] == [
        "To keep people housed; mostly, except after hospital."
    ]
    week = digests.period(alliance, "2027-W01")
    hospital = live.loop.services.purpose.section(week.start, week.end, Audience.agency("hospital"))
    assert hospital is not None
    assert [a.text for a in hospital.answers] == ["To get people well; the wards can't keep up."]
    result = digests.send(alliance, "2027-W01")
    assert result.status == "posted"
    posted = [
        c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == "C0STEWARDS"
    ]
    text = json.dumps([c.json_field("blocks") for c in posted], ensure_ascii=False)
    assert f"*Purpose* — “{PURPOSE}”" in text
    assert "To keep people housed" in text and "wards can't keep up" not in text

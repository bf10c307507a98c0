"""Barriers we keep meeting: the stewards' digest groups "what got in the way" over weeks.

Check-ins arrive through signed `/checkin` modals over three weeks; the digest is read back
from the fake Slack Web API; "Raise as a barrier" is pressed as Slack would send it, opens the
raise-barrier modal pre-filled, and the barrier it raises links the check-ins.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from conftest import ALICE, BOB, CAROL, DAN, STEWARD, Clock_, Live
from slack_requests import block_actions, slash_command, view_submission
from slack_ui import button, button_labels, fill, initial_state, input_blocks

from bot.slack.ids import View
from bot.views.barriers import BarrierForm

STEWARDS = "C0STEWARDS"
# Thursday of ISO week 45, 2026; the digest read is week 47's.
START = dt.datetime(2026, 11, 5, 10, 0, tzinfo=dt.UTC)
WEEK = "2026-W47"
SAID = {
    ALICE: "Pharmacy won't register people in temporary accommodation out of area, so their "
    "methadone script lapses",
    CAROL: "Clients placed in TA out of area lose their methadone script: no pharmacy "
    "will register them",
    DAN: "Out of area temporary accommodation again - the methadone script was not picked up, "
    "the pharmacy refused to register him",
}
TEAM_ONLY = "Methadone script lost after a move to temporary accommodation out of area, pharmacy"


def opened(live: Live, req: Any) -> dict[str, Any]:
    before = len(live.slack.calls("views.open"))
    assert live.post(req).status_code == 200
    return live.slack.wait_for("views.open", count=before + 1)[-1].json_field("view")


def submit(live: Live, view: dict[str, Any], callback: str, user: str, answers: dict[str, Any]):
    resp = live.post(
        view_submission(
            callback,
            {**initial_state(view), **fill(view, answers)},
            user_id=user,
            private_metadata=view["private_metadata"],
            view_id=f"V{uuid.uuid4().hex[:10].upper()}",
            view={"blocks": view["blocks"]},
        )
    )
    assert resp.status_code == 200, resp.text


def check_in(live: Live, user: str, learned: str, barrier: str, visibility: str) -> None:
    labels = {
        "team": "Just my team",
        "alliance": "The alliance, with my name",
        "anonymous": "The alliance, anonymously",
    }
    view = opened(live, slash_command("/checkin", user_id=user))
    submit(
        live,
        view,
        View.CHECKIN,
        user,
        {
            "What happened that you learned from?": learned,
            "What got in the way?": barrier,
            "Who can see this?": labels[visibility],
        },
    )


def three_weeks(live: Live, clock: Clock_) -> None:
    check_in(live, ALICE, "Calling the pharmacy first helps", SAID[ALICE], "alliance")
    clock.advance(days=7)
    check_in(live, CAROL, "A warm handover to the GP worked", SAID[CAROL], "anonymous")
    clock.advance(days=7)
    check_in(live, DAN, "Ward staff knew the route", SAID[DAN], "alliance")
    check_in(live, BOB, "Team huddles help", TEAM_ONLY, "team")


def digest_blocks(live: Live) -> list[dict[str, Any]]:
    digests = live.loop.services.digests
    before = len(live.slack.calls("chat.postMessage"))
    assert digests.send(digests.destination("alliance"), WEEK).status == "posted"
    posts = [
        c for c in live.slack.calls("chat.postMessage")[before:] if c.params["channel"] == STEWARDS
    ]
    return [b for c in posts for b in c.json_field("blocks")]


def test_recurring_barrier_is_flagged_raised_in_one_click_and_linked(
    make_live: Callable[..., Live],
) -> None:
    clock = Clock_(START)
    live = make_live(clock=clock)
    three_weeks(live, clock)
    blocks = digest_blocks(live)
    text = str(blocks)
    assert "Barriers we keep meeting" in text
    assert "over 3 weeks" in text and "Raised by no one for 3 weeks" in text
    # Named agencies are named; the anonymous answer names none and the team-only one is absent.
    assert "Council Housing" in text and "Hospital Discharge" in text and "anonymously" in text
    assert TEAM_ONLY not in text and "Team huddles" not in text
    assert "Raise as a barrier" in button_labels(blocks)
    raise_button = button(blocks, "Raise as a barrier")
    ids = {int(i) for i in raise_button["value"].split(",")}
    team_id = live.scalar("SELECT id FROM checkins WHERE visibility = 'team'")
    assert team_id not in ids and len(ids) == 3

    # A steward presses it in the channel: the raise-barrier modal opens pre-filled.
    view = opened(
        live,
        block_actions(
            raise_button["action_id"],
            raise_button["value"],
            user_id=STEWARD,
            channel_id=STEWARDS,
            trigger_id="T0RAISE",
        ),
    )
    inputs = input_blocks(view)
    assert "methadone" in inputs["What gets in the way?"]["element"]["initial_value"]
    agencies = inputs["Agencies affected"]["element"]["initial_options"]
    # Only the agencies of named answers are ticked (never the anonymous one's alone).
    assert {o["value"] for o in agencies} == {"housing", "hospital"}
    submit(
        live,
        view,
        BarrierForm.ESCALATE,
        STEWARD,
        {"Title": "No pharmacy for people placed out of area"},
    )
    links = live.rows("SELECT checkin_id, linked_via FROM escalation_links ORDER BY checkin_id")
    assert {r.checkin_id for r in links} == ids
    assert {r.linked_via for r in links} == {"recurring"}
    audit = live.scalar("SELECT count(*) FROM audit_events WHERE action = 'escalation.raised'")
    assert audit == 1

    # The next digest says where it went, and offers no second raise.
    again = digest_blocks_for(live, WEEK)
    said = str(again)
    assert "Raised as a barrier" in said and "No pharmacy for people placed out of area" in said
    assert "Raised by no one" not in said
    assert "Raise as a barrier" not in button_labels(again)


def digest_blocks_for(live: Live, week: str) -> list[dict[str, Any]]:
    """The digest as built now (a preview: the week was posted already)."""
    from bot.slack import render
    from bot.views.digest import digest_message

    digests = live.loop.services.digests
    view = digests.build(digests.destination("alliance"), week)
    _, blocks = render.message(digest_message(view))
    return blocks


def test_only_stewards_can_raise_from_the_digest(make_live: Callable[..., Live]) -> None:
    clock = Clock_(START)
    live = make_live(clock=clock)
    three_weeks(live, clock)
    raise_button = button(digest_blocks(live), "Raise as a barrier")
    before = len(live.slack.calls("views.open"))
    resp = live.post(
        block_actions(
            raise_button["action_id"], raise_button["value"], user_id=ALICE, channel_id=STEWARDS
        )
    )
    assert resp.status_code == 200
    [told] = live.slack.wait_for("chat.postEphemeral")
    assert told.params["user"] == ALICE and "Only system stewards" in told.params["text"]
    assert len(live.slack.calls("views.open")) == before
    assert live.scalar("SELECT count(*) FROM escalations") == 0


def test_a_forged_button_value_is_not_a_500(live: Live) -> None:
    resp = live.post(
        block_actions("recurring_barrier_raise", "1,abc", user_id=STEWARD, channel_id=STEWARDS)
    )
    assert resp.status_code == 200
    live.slack.wait_for("chat.postEphemeral")  # told the button is out of date
    assert live.slack.calls("views.open") == []


def test_a_team_only_checkin_id_is_never_linked(make_live: Callable[..., Live]) -> None:
    clock = Clock_(START)
    live = make_live(clock=clock)
    three_weeks(live, clock)
    team_id = live.scalar("SELECT id FROM checkins WHERE visibility = 'team'")
    before = len(live.slack.calls("views.open"))
    # A hand-made button naming only the team-only check-in opens nothing, and says why.
    resp = live.post(
        block_actions("recurring_barrier_raise", str(team_id), user_id=STEWARD, channel_id=STEWARDS)
    )
    assert resp.status_code == 200
    [told] = live.slack.wait_for("chat.postEphemeral")
    assert "no longer shared" in told.params["text"]
    assert len(live.slack.calls("views.open")) == before


def test_a_forged_form_state_cannot_link_others_checkins(make_live: Callable[..., Live]) -> None:
    clock = Clock_(START)
    live = make_live(clock=clock)
    three_weeks(live, clock)
    others = [r.id for r in live.rows("SELECT id FROM checkins WHERE visibility != 'team'")]
    # Alice opens her own "Raise a barrier" and sends it back with others' ids in its state.
    view = opened(live, slash_command("/escalate", "", user_id=ALICE))
    forged = json.dumps({"source_checkin_id": None, "shared_checkin_ids": others})
    resp = live.post(
        view_submission(
            BarrierForm.ESCALATE,
            {**initial_state(view), **fill(view, {"Title": "Mine", "What gets in the way?": "x"})},
            user_id=ALICE,
            private_metadata=forged,
            view_id="V0FORGED01",
            view={"blocks": view["blocks"]},
        )
    )
    assert resp.status_code == 200
    assert "Only system stewards" in resp.text  # shown on the form; nothing raised
    assert live.scalar("SELECT count(*) FROM escalations") == 0
    assert live.scalar("SELECT count(*) FROM escalation_links") == 0


def test_the_review_pack_reads_them_without_buttons(make_live: Callable[..., Live]) -> None:
    from bot.render.digest import render_html

    clock = Clock_(START)
    live = make_live(clock=clock)
    three_weeks(live, clock)
    view, charts = live.loop.services.digests.report(
        (START - dt.timedelta(days=3)).date(), (START + dt.timedelta(days=17)).date()
    )
    page = render_html(view, charts)
    assert "Barriers we keep meeting" in page and "methadone script" in page
    assert "Raise as a barrier" not in page and TEAM_ONLY not in page

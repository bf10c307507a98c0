"""A cohort with its own question set, end to end through the live app."""

from __future__ import annotations

import json
from typing import Any

from conftest import ALICE, CAROL, TEST_ALLIANCE, Live, alliance_config
from slack_requests import block_actions, message_im, slash_command, view_submission
from slack_ui import button, fill, input_blocks

from bot.slack.ids import View

DISCHARGE: dict[str, Any] = {
    "id": "discharge",
    "questions": [
        {
            "id": "learned",
            "label": "What did you learn about discharge this week?",
            "kind": "long_text",
            "required": True,
        },
        {"id": "ward", "label": "Which ward?", "kind": "short_text"},
        {
            "id": "route",
            "label": "Where did the person go next?",
            "kind": "single_choice",
            "required": True,
            "choices": ["Home", "Temporary accommodation", "Hostel", "Still on the ward"],
        },
        {
            "id": "helpers",
            "label": "Who helped?",
            "kind": "multiple_choice",
            "choices": ["Housing", "Outreach", "GP"],
        },
        {"id": "blocker", "label": "What got in the way?", "barrier": True},
    ],
}


def start(make_live: Any) -> Live:
    cohort = {**TEST_ALLIANCE["cohorts"][0], "question_set": "discharge"}
    return make_live(alliance_config(question_sets=[DISCHARGE], cohorts=[cohort]))


def stored(live: Live) -> list[Any]:
    rows = live.rows("SELECT question_set_id, questions, answers, source FROM checkins ORDER BY id")
    return [
        (
            r.question_set_id,
            json.loads(r.questions) if isinstance(r.questions, str) else r.questions,
            json.loads(r.answers) if isinstance(r.answers, str) else r.answers,
            r.source,
        )
        for r in rows
    ]


def test_the_cohorts_own_questions_are_asked_validated_and_stored(make_live: Any) -> None:
    live = start(make_live)
    live.loop.services.prompts.send("weekly", now=True)
    posted = next(c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == ALICE)
    share = button(posted.json_field("blocks"), "Share a learning")
    live.post(block_actions(share["action_id"], share["value"], user_id=ALICE))
    view = live.slack.wait_for("views.open")[0].json_field("view")

    inputs = input_blocks(view)
    assert list(inputs) == [
        "What did you learn about discharge this week?",
        "Which ward?",
        "Where did the person go next?",
        "Who helped?",
        "What got in the way?",
        "Themes",
        "Who can see this?",
    ]
    kinds = {label: block["element"]["type"] for label, block in inputs.items()}
    assert kinds["Which ward?"] == "plain_text_input"
    assert not inputs["Which ward?"]["element"].get("multiline")
    assert kinds["Where did the person go next?"] == "static_select"
    assert kinds["Who helped?"] == "checkboxes"
    assert inputs["Where did the person go next?"]["optional"] is False

    # A required choice left empty keeps the modal open with a message on that question.
    missing = fill(view, {"What did you learn about discharge this week?": "Ring ahead"})
    resp = live.post(
        view_submission(
            View.CHECKIN, missing, user_id=ALICE, private_metadata=view["private_metadata"]
        )
    )
    assert resp.json() == {
        "response_action": "errors",
        "errors": {"q_route": "Please choose an answer."},
    }
    assert stored(live) == []

    values = fill(
        view,
        {
            "What did you learn about discharge this week?": "Ringing housing a day ahead works",
            "Which ward?": "Ward 7",
            "Where did the person go next?": "Hostel",
            "Who helped?": ["Housing", "GP"],
            "What got in the way?": "No beds on Fridays",
        },
    )
    resp = live.post(
        view_submission(
            View.CHECKIN, values, user_id=ALICE, private_metadata=view["private_metadata"]
        )
    )
    assert resp.status_code == 200 and resp.content in (b"", b"null")
    [(set_id, questions, answers, source)] = stored(live)
    assert (set_id, source) == ("discharge", "modal")
    assert answers == {
        "learned": "Ringing housing a day ahead works",
        "ward": "Ward 7",
        "route": "Hostel",
        "helpers": ["Housing", "GP"],
        "blocker": "No beds on Fridays",
    }
    # The questions are stored as asked, barrier flag and choices included.
    assert [q["label"] for q in questions] == [q["label"] for q in DISCHARGE["questions"]]
    assert [q["id"] for q in questions if q["barrier"]] == ["blocker"]
    assert questions[2]["choices"] == DISCHARGE["questions"][2]["choices"]
    # The set's barrier question is what offers "Escalate this".
    update = live.slack.wait_for("chat.update")[0]
    button(update.json_field("blocks"), "Escalate this")


def test_replies_and_checkin_text_go_to_the_first_text_question(make_live: Any) -> None:
    # A set that opens with a choice question.
    learned, ward, route = DISCHARGE["questions"][:3]
    reordered = {"id": "discharge", "questions": [{**route, "required": False}, learned, ward]}
    cohort = {**TEST_ALLIANCE["cohorts"][0], "question_set": "discharge"}
    live = make_live(alliance_config(question_sets=[reordered], cohorts=[cohort]))
    live.post(slash_command("/checkin", "Joint visits", user_id=CAROL))
    view = live.slack.wait_for("views.open")[0].json_field("view")
    first = input_blocks(view)["What did you learn about discharge this week?"]
    assert first["element"]["initial_value"] == "Joint visits"
    live.post(message_im("Texting works", user_id=CAROL, event_id="Ev0CUSTOM1"))
    live.slack.wait_for("chat.postMessage")
    [(set_id, _, answers, source)] = stored(live)
    assert (set_id, answers, source) == ("discharge", {"learned": "Texting works"}, "dm_reply")

"""Changing a cohort's question set never breaks the check-ins answered before.

The same database is served first with one configuration, then with a new one in which the
cohort's set was replaced (the old set is gone from the file). Old check-ins still export with
their own questions, still appear in the digest, and are given more detail with their own form.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from conftest import ALICE, BOB, TEST_ALLIANCE, Clock_, Live, alliance_config
from slack_requests import block_actions, message_im, slash_command, view_submission
from slack_ui import button, fill, input_blocks, wait_until

from bot.slack.ids import View

THURSDAY = dt.datetime(2026, 11, 19, 15, 30, tzinfo=dt.UTC)
OLD: dict[str, Any] = {
    "id": "discharge",
    "questions": [
        {"id": "learned", "label": "What did you learn about discharge?", "required": True},
        {
            "id": "route",
            "label": "Where did the person go next?",
            "kind": "single_choice",
            "choices": ["Home", "Hostel"],
        },
        {"id": "blocker", "label": "What got in the way?", "barrier": True},
    ],
}
NEW: dict[str, Any] = {
    "id": "handover",
    "questions": [
        {"id": "noticed", "label": "What did you notice at handover?", "required": True},
        {"id": "obstacle", "label": "What slowed it down?", "barrier": True},
    ],
}


def serve(make_live: Any, qset: dict[str, Any], clock: Clock_) -> Live:
    cohort = {**TEST_ALLIANCE["cohorts"][0], "question_set": qset["id"]}
    return make_live(alliance_config(question_sets=[qset], cohorts=[cohort]), clock=clock)


def test_old_checkins_survive_a_changed_question_set(make_live: Any) -> None:
    clock = Clock_(THURSDAY)
    before = serve(make_live, OLD, clock)
    before.post(slash_command("/checkin", user_id=ALICE))
    form = before.slack.wait_for("views.open")[0].json_field("view")
    before.post(
        view_submission(
            View.CHECKIN,
            fill(
                form,
                {
                    "What did you learn about discharge?": "Ringing housing the day before works",
                    "Where did the person go next?": "Hostel",
                    "What got in the way?": "No beds on Fridays",
                    "Who can see this?": "The alliance, with my name",
                },
            ),
            user_id=ALICE,
            private_metadata=form["private_metadata"],
        )
    )
    before.post(message_im("Short note from Bob", user_id=BOB, event_id="Ev0CHANGE1"))
    wait_until(lambda: before.scalar("SELECT count(*) FROM checkins") == 2)
    wait_until(lambda: bool(confirmations(before)))  # posted just after the ack
    [reply] = confirmations(before)

    # The alliance file changes: the cohort now asks a different set; the old one is gone.
    after = serve(make_live, NEW, clock)
    after.post(slash_command("/checkin", user_id=ALICE))
    new_form = after.slack.wait_for("views.open", count=2)[-1].json_field("view")
    assert "What did you notice at handover?" in input_blocks(new_form)
    assert "What did you learn about discharge?" not in input_blocks(new_form)

    # Export: Alice's old entry comes with the questions it answered.
    after.post(
        slash_command(
            "/learnloop", "privacy", user_id=ALICE, response_url=after.slack.response_url("p")
        )
    )
    panel = after.slack.wait_for("webhook")[0]
    export = button(panel.json_field("blocks"), "Export my data")
    after.post(
        block_actions(
            export["action_id"],
            export.get("value"),
            user_id=ALICE,
            response_url=after.slack.response_url("export"),
        )
    )
    after.slack.wait_for("files.completeUploadExternal")
    [entry] = json.loads(after.slack.uploads()[0].data)["checkins"]
    assert entry["answered"] == [
        {
            "question": "What did you learn about discharge?",
            "answer": ("Ringing housing the day before works"),
        },
        {"question": "Where did the person go next?", "answer": "Hostel"},
        {"question": "What got in the way?", "answer": "No beds on Fridays"},
    ]

    # Digest: the old learning is quoted and its barrier read through its own questions.
    digests = after.loop.services.digests
    view = digests.build(digests.destination("alliance"), "2026-W47")
    assert view.learnings == "fewer than 3"
    assert [q.text for q in view.quotes] == ["Ringing housing the day before works"]
    inputs_text = [
        (f.learning, f.barrier) for f in _facts(after) if f.learning.startswith("Ringing")
    ]
    assert inputs_text == [("Ringing housing the day before works", "No beds on Fridays")]

    # More detail on Bob's old reply: the form is the one it was answered with.
    detail = button(reply.json_field("blocks"), "Add detail")
    after.post(block_actions(detail["action_id"], detail["value"], user_id=BOB))
    old_form = after.slack.wait_for("views.open", count=3)[-1].json_field("view")
    labels = list(input_blocks(old_form))
    assert labels[:3] == [
        "What did you learn about discharge?",
        "Where did the person go next?",
        "What got in the way?",
    ]
    after.post(
        view_submission(
            View.CHECKIN,
            fill(
                old_form,
                {
                    "What did you learn about discharge?": "Short note from Bob, with more",
                    "Where did the person go next?": "Home",
                },
            ),
            user_id=BOB,
            private_metadata=old_form["private_metadata"],
        )
    )
    wait_until(
        lambda: (
            "with more"
            in str(after.scalar("SELECT answers FROM checkins WHERE source = 'dm_reply'"))
        )
    )
    row = after.rows("SELECT question_set_id, answers FROM checkins WHERE source = 'dm_reply'")[0]
    answers = json.loads(row.answers) if isinstance(row.answers, str) else row.answers
    assert row.question_set_id == "discharge"
    assert answers == {"learned": "Short note from Bob, with more", "route": "Home"}


def confirmations(live: Live) -> list[Any]:
    """Answers to plain replies (they carry "Add detail")."""
    return [
        c
        for c in live.slack.calls("chat.postMessage")
        if "Add detail" in json.dumps(c.json_field("blocks") or [])
    ]


def _facts(live: Live) -> list[Any]:
    """The digest's own reading of the period's shareable check-ins."""
    digests = live.loop.services.digests
    period = digests.period(digests.destination("alliance"), "2026-W47")
    with live.loop.services.uow() as uow:
        return uow.digests.shareable_checkins(
            period.start, period.end, ["alliance", "anonymous"], None, digests._texts
        )

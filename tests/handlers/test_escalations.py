"""Escalations end to end: signed HTTP into the real app, Slack answered by the fake Web API.

A person raises a barrier with `/escalate` (or "Escalate this" on a check-in), stewards press
the card's buttons, the card moves up the ladder, and the raiser hears every change.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import httpx
from conftest import ALICE, BOB, CAROL, STEWARD, Live
from slack_requests import block_actions, slash_command, view_submission
from slack_ui import button, button_labels, fill, initial_state, input_blocks, wait_until

from bot.slack.ids import View
from bot.views.barriers import BarrierForm

ADMIN = "U0ADMIN"
LEADS, STEWARDS = "C0LEADS", "C0STEWARDS"


# ------------------------------------------------------------------------- helpers


def views_opened(live: Live) -> int:
    return len(live.slack.calls("views.open"))


def open_view(live: Live, req: Any) -> dict[str, Any]:
    """Send a request that opens a modal; the modal as Slack received it."""
    before = views_opened(live)
    resp = live.post(req)
    assert resp.status_code == 200, resp.text
    return live.slack.wait_for("views.open", count=before + 1)[-1].json_field("view")


def submit(live: Live, view: dict[str, Any], callback: str, user: str, answers: dict[str, Any]):
    """Submit a modal as `user`, filling inputs by their labels."""
    return live.post(
        view_submission(
            callback,
            {**initial_state(view), **fill(view, answers)},
            user_id=user,
            private_metadata=view["private_metadata"],
            view_id=f"V{uuid.uuid4().hex[:10].upper()}",
            view={"blocks": view["blocks"]},  # Slack sends the modal's blocks back
        )
    )


def barrier_rows(live: Live) -> list[Any]:
    return live.rows(
        "SELECT id, status, level, version, owner_id, outcome, channel_id, message_ts, card_url, "
        "raised_by_id, raiser_anonymous FROM escalations ORDER BY id"
    )


def events(live: Live, barrier_id: int) -> list[Any]:
    return live.rows(
        "SELECT kind, from_status, to_status, from_level, to_level, actor_id, note "
        "FROM escalation_events WHERE escalation_id = :b ORDER BY id",
        b=barrier_id,
    )


def card(live: Live, barrier_id: int) -> dict[str, Any]:
    """The card as it looks now: the last update of its message, else the message posted."""
    row = next(r for r in barrier_rows(live) if r.id == barrier_id)
    return message_at(live, row.channel_id, row.message_ts)


def message_at(live: Live, channel: str, ts: str) -> dict[str, Any]:
    updates = [
        c
        for c in live.slack.calls("chat.update")
        if c.params["channel"] == channel and c.params["ts"] == ts
    ]
    if updates:
        last = updates[-1]
        return {"text": last.params["text"], "blocks": last.json_field("blocks")}
    posted = next(m for m in live.slack.messages(channel) if m["ts"] == ts)
    return {"text": posted["text"], "blocks": posted.get("blocks", [])}


def dms(live: Live, user: str) -> list[str]:
    """Everything DMed to a person, as text with blocks."""
    return [
        c.params.get("text", "") + json.dumps(c.json_field("blocks") or [])
        for c in live.slack.calls("chat.postMessage")
        if c.params["channel"] == user
    ]


def raise_barrier(
    live: Live,
    user: str = ALICE,
    title: str = "Housing can't assess without a discharge date",
    what: str = "Wards wait for housing and housing waits for a date.",
    anonymous: bool = False,
    extra: dict[str, Any] | None = None,
) -> int:
    """Raise a barrier through `/escalate` and its modal; wait for its card; its id."""
    view = open_view(live, slash_command("/escalate", "", user_id=user))
    answers = {
        "Title": title,
        "What gets in the way?": what,
        "Show my name to stewards?": "No, raise it anonymously"
        if anonymous
        else "Yes, show my name",
        **(extra or {}),
    }
    resp = submit(live, view, BarrierForm.ESCALATE, user, answers)
    assert resp.status_code == 200 and resp.content in (b"", b"null"), resp.text
    wait_until(lambda: bool(barrier_rows(live)) and barrier_rows(live)[-1].message_ts is not None)
    return barrier_rows(live)[-1].id


def press(live: Live, barrier_id: int, label: str, user: str = STEWARD) -> httpx.Response:
    """Press a button on the barrier's card once it shows the latest change (as people see)."""
    wait_until(lambda: card_is_current(live, barrier_id))
    row = next(r for r in barrier_rows(live) if r.id == barrier_id)
    element = button(card(live, barrier_id)["blocks"], label)
    return live.post(
        block_actions(
            element["action_id"],
            element["value"],
            user_id=user,
            channel_id=row.channel_id,
            message_ts=row.message_ts,
        )
    )


def card_is_current(live: Live, barrier_id: int) -> bool:
    values = [
        e.get("value", "")
        for block in card(live, barrier_id)["blocks"]
        for e in block.get("elements", [])
        if e.get("type") == "button"
    ]
    return all(v.endswith(f":{version(live, barrier_id)}") for v in values)


def version(live: Live, barrier_id: int) -> int:
    return live.scalar("SELECT version FROM escalations WHERE id = :b", b=barrier_id)


def ephemerals(live: Live, user: str) -> list[str]:
    return [
        c.params["text"] for c in live.slack.calls("chat.postEphemeral") if c.params["user"] == user
    ]


# ------------------------------------------------------------------------- raising


def test_escalate_opens_the_form_and_posts_a_card_at_the_first_level(live: Live) -> None:
    view = open_view(live, slash_command("/escalate", "Letters read like threats", user_id=ALICE))
    inputs = input_blocks(view)
    assert set(inputs) == {
        "Title",
        "What gets in the way?",
        "Who is affected?",
        "Agencies affected",
        "Which level should see it first?",
        "Show my name to stewards?",
    }
    assert (
        inputs["What gets in the way?"]["element"]["initial_value"] == "Letters read like threats"
    )
    assert inputs["Title"]["element"]["initial_value"] == "Letters read like threats"
    assert view["submit"]["text"] == "Raise barrier"

    resp = submit(
        live,
        view,
        BarrierForm.ESCALATE,
        ALICE,
        {
            "Title": "Letters read like threats",
            "What gets in the way?": "Tenants stop opening them. Call 07700 900123 for details.",
            "Who is affected?": "Tenants in arrears",
            "Agencies affected": ["Council Housing"],
            "Show my name to stewards?": "Yes, show my name",
        },
    )
    assert resp.status_code == 200 and resp.content in (b"", b"null")
    wait_until(lambda: bool(barrier_rows(live)) and barrier_rows(live)[0].card_url is not None)
    [row] = barrier_rows(live)
    assert (row.status, row.level, row.version, row.channel_id) == ("open", "agency", 1, LEADS)
    assert row.card_url.startswith("https://test.slack.com/archives/C0LEADS/p")

    shown = card(live, row.id)
    text = json.dumps(shown["blocks"])
    assert "Barrier #1: Letters read like threats" in text
    assert "[phone number]" in text and "07700" not in text
    assert f"<@{ALICE}>" in text and "Council Housing" in text and "Tenants in arrears" in text
    assert button_labels(shown["blocks"]) == [
        "Acknowledge",
        "Assign",
        "Escalate up to Steward group",
        "Resolve",
        "Close",
    ]
    wait_until(lambda: len(dms(live, ALICE)) == 1)
    assert "is now with *Agency leadership*" in dms(live, ALICE)[0]
    assert "We removed 1 phone number" in dms(live, ALICE)[0]
    assert [e.kind for e in events(live, row.id)] == ["raised"]
    assert live.scalar("SELECT count(*) FROM audit_events WHERE action = 'escalation.raised'") == 1


def test_a_barrier_can_start_higher_up_the_ladder(live: Live) -> None:
    barrier = raise_barrier(live, extra={"Which level should see it first?": "Steward group"})
    row = barrier_rows(live)[0]
    assert (row.level, row.channel_id) == ("alliance", STEWARDS)
    assert "Escalate up to" not in " ".join(button_labels(card(live, barrier)["blocks"]))


def test_a_barrier_with_missing_answers_keeps_the_form_open(live: Live) -> None:
    view = open_view(live, slash_command("/escalate", "", user_id=BOB))
    resp = submit(
        live, view, BarrierForm.ESCALATE, BOB, {"Title": "  ", "What gets in the way?": ""}
    )
    body = resp.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"barrier_title", "barrier_description"}
    assert barrier_rows(live) == []


def test_a_double_submit_raises_one_barrier(live: Live) -> None:
    view = open_view(live, slash_command("/escalate", "", user_id=BOB))
    req = view_submission(
        BarrierForm.ESCALATE,
        fill(view, {"Title": "Twice", "What gets in the way?": "Clicked twice"}),
        user_id=BOB,
        private_metadata=view["private_metadata"],
    )
    assert live.post(req).status_code == 200
    assert live.post(req).status_code == 200
    assert len(barrier_rows(live)) == 1


# ------------------------------------------------------------------------- the ladder


def test_a_barrier_walks_the_ladder_and_the_raiser_hears_each_step(live: Live) -> None:
    barrier = raise_barrier(live, user=BOB)
    first = barrier_rows(live)[0]

    # Acknowledge: the same message is updated in place.
    assert press(live, barrier, "Acknowledge").status_code == 200
    wait_until(lambda: "Acknowledged" in json.dumps(card(live, barrier)["blocks"]))
    assert "Acknowledge" not in button_labels(card(live, barrier)["blocks"])
    wait_until(lambda: len(dms(live, BOB)) == 2)
    assert f"was acknowledged by <@{STEWARD}>" in dms(live, BOB)[1]

    # Assign: a modal with a person picker.
    assign = button(card(live, barrier)["blocks"], "Assign")
    view = open_view(
        live,
        block_actions(assign["action_id"], assign["value"], user_id=STEWARD, channel_id=LEADS),
    )
    assert set(input_blocks(view)) == {"Who will own it?", "Anything they should know?"}
    resp = submit(
        live,
        view,
        BarrierForm.ASSIGN,
        STEWARD,
        {"Who will own it?": CAROL, "Anything they should know?": "Start with the ward manager"},
    )
    assert resp.content in (b"", b"null"), resp.text
    wait_until(lambda: f"<@{CAROL}>" in json.dumps(card(live, barrier)["blocks"]))
    assert "In progress" in json.dumps(card(live, barrier)["blocks"])
    wait_until(lambda: len(dms(live, CAROL)) == 1 and len(dms(live, BOB)) == 3)
    assert "asked you to own" in dms(live, CAROL)[0] and "ward manager" in dms(live, CAROL)[0]
    assert f"being worked on by <@{CAROL}>" in dms(live, BOB)[2]
    assert "ward manager" not in dms(live, BOB)[2]  # the note was for the owner

    # Escalate up: a new card in the next level's channel, a pointer in the old one.
    press(live, barrier, "Escalate up to Steward group")
    wait_until(lambda: barrier_rows(live)[0].channel_id == STEWARDS)
    moved = barrier_rows(live)[0]
    assert (moved.level, moved.status, moved.owner_id) == ("alliance", "open", None)
    new_card = json.dumps(card(live, barrier)["blocks"])
    assert "Steward group" in new_card and "Nobody yet" in new_card
    assert "Escalate up to" not in " ".join(button_labels(card(live, barrier)["blocks"]))
    wait_until(lambda: "moved up" in message_at(live, LEADS, first.message_ts)["text"])
    pointer = message_at(live, LEADS, first.message_ts)
    assert button_labels(pointer["blocks"]) == []
    assert "moved up to" in pointer["text"] and f"<#{STEWARDS}>" in pointer["text"]
    assert moved.card_url in json.dumps(pointer["blocks"])
    wait_until(lambda: len(dms(live, BOB)) == 4)
    assert "has gone up to *Steward group*" in dms(live, BOB)[3]

    # Resolve: the outcome goes back to the raiser.
    resolve = button(card(live, barrier)["blocks"], "Resolve")
    view = open_view(
        live,
        block_actions(resolve["action_id"], resolve["value"], user_id=STEWARD, channel_id=STEWARDS),
    )
    resp = submit(
        live,
        view,
        BarrierForm.RESOLVE,
        STEWARD,
        {"What did we do?": "Housing now assesses on admission."},
    )
    assert resp.content in (b"", b"null"), resp.text
    wait_until(lambda: barrier_rows(live)[0].status == "resolved")
    wait_until(lambda: "What we did" in json.dumps(card(live, barrier)["blocks"]))
    assert button_labels(card(live, barrier)["blocks"]) == []
    wait_until(lambda: len(dms(live, BOB)) == 5)
    assert "is resolved" in dms(live, BOB)[4]
    assert "Housing now assesses on admission." in dms(live, BOB)[4]

    history = events(live, barrier)
    assert [(e.kind, e.from_status, e.to_status) for e in history] == [
        ("raised", None, "open"),
        ("acknowledged", "open", "acknowledged"),
        ("assigned", "acknowledged", "in_progress"),
        ("escalated", "in_progress", "open"),
        ("resolved", "open", "resolved"),
    ]
    assert [(e.from_level, e.to_level) for e in history][3] == ("agency", "alliance")
    assert history[4].note == "Housing now assesses on admission."
    audit = live.rows(
        "SELECT action FROM audit_events WHERE target = :t ORDER BY id", t="escalation:1"
    )
    assert [a.action for a in audit] == [
        "escalation.raised",
        "escalation.acknowledged",
        "escalation.assigned",
        "escalation.escalated",
        "escalation.resolved",
    ]


def test_close_needs_a_reason_and_tells_the_raiser_why(live: Live) -> None:
    barrier = raise_barrier(live, user=BOB)
    close = button(card(live, barrier)["blocks"], "Close")
    view = open_view(
        live, block_actions(close["action_id"], close["value"], user_id=STEWARD, channel_id=LEADS)
    )
    label = "Why are we closing it without a change?"
    resp = submit(live, view, BarrierForm.CLOSE, STEWARD, {label: "  "})
    assert resp.json()["response_action"] == "errors"
    assert barrier_rows(live)[0].status == "open"
    resp = submit(
        live, view, BarrierForm.CLOSE, STEWARD, {label: "A national rule; we wrote to DWP."}
    )
    assert resp.content in (b"", b"null")
    wait_until(lambda: len(dms(live, BOB)) == 2)
    assert "closed without a change" in dms(live, BOB)[1] and "wrote to DWP" in dms(live, BOB)[1]
    assert barrier_rows(live)[0].outcome == "A national rule; we wrote to DWP."


# ------------------------------------------------------------------------- refusals


def test_only_stewards_may_change_a_barrier(live: Live) -> None:
    barrier = raise_barrier(live, user=BOB)
    for label in ("Acknowledge", "Resolve", "Escalate up to Steward group"):
        assert press(live, barrier, label, user=ALICE).status_code == 200
    wait_until(lambda: len(ephemerals(live, ALICE)) == 3)
    for note in ephemerals(live, ALICE):
        assert "Only system stewards or LearnLoop admins can" in note
        assert "ask your LearnLoop admin" in note
    assert [c.params["channel"] for c in live.slack.calls("chat.postEphemeral")] == [LEADS] * 3
    assert views_opened(live) == 1  # only Bob's form: no Resolve modal for Alice
    # A forged submission of the Resolve modal is refused on the server too.
    forged = {
        "type": "modal",
        "private_metadata": json.dumps({"barrier_id": barrier, "version": 1}),
        "blocks": [
            {
                "type": "input",
                "block_id": "barrier_note",
                "label": {"text": "What did we do?"},
                "element": {"type": "plain_text_input", "action_id": "barrier_input"},
            }
        ],
    }
    resp = submit(live, forged, BarrierForm.RESOLVE, ALICE, {"What did we do?": "Nothing"})
    assert "Only system stewards" in resp.json()["errors"]["barrier_note"]
    assert (version(live, barrier), len(events(live, barrier))) == (1, 1)


def test_an_out_of_date_button_is_refused_and_the_card_refreshed(live: Live) -> None:
    barrier = raise_barrier(live, user=BOB)
    old_card = card(live, barrier)["blocks"]
    press(live, barrier, "Acknowledge")
    wait_until(lambda: version(live, barrier) == 2)
    updates = len(live.slack.calls("chat.update"))
    stale = button(old_card, "Acknowledge")
    live.post(block_actions(stale["action_id"], stale["value"], user_id=ADMIN, channel_id=LEADS))
    wait_until(lambda: len(ephemerals(live, ADMIN)) == 1)
    assert "Someone else changed this barrier just now" in ephemerals(live, ADMIN)[0]
    assert "acknowledged" in ephemerals(live, ADMIN)[0]
    assert [e.kind for e in events(live, barrier)] == ["raised", "acknowledged"]
    wait_until(lambda: len(live.slack.calls("chat.update")) > updates)  # card brought up to date


def test_two_stewards_resolving_at_once_record_exactly_one_transition(live: Live) -> None:
    barrier = raise_barrier(live, user=BOB)
    resolve = button(card(live, barrier)["blocks"], "Resolve")
    modals = [
        open_view(
            live,
            block_actions(resolve["action_id"], resolve["value"], user_id=who, channel_id=LEADS),
        )
        for who in (STEWARD, ADMIN)
    ]
    start = threading.Barrier(2)
    answers: dict[str, httpx.Response] = {}

    def resolve_as(who: str, modal: dict[str, Any]) -> None:
        start.wait(timeout=5)
        answers[who] = submit(
            live, modal, BarrierForm.RESOLVE, who, {"What did we do?": f"Fixed by {who}"}
        )

    threads = [
        threading.Thread(target=resolve_as, args=(who, modal))
        for who, modal in zip((STEWARD, ADMIN), modals, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    closed = [who for who, r in answers.items() if r.content in (b"", b"null")]
    refused = [r.json() for r in answers.values() if r.content not in (b"", b"null")]
    assert len(closed) == 1 and len(refused) == 1
    assert "Someone else changed this barrier just now" in refused[0]["errors"]["barrier_note"]
    resolved = [e for e in events(live, barrier) if e.kind == "resolved"]
    assert len(resolved) == 1 and resolved[0].note == f"Fixed by {closed[0]}"
    assert (
        live.scalar("SELECT count(*) FROM audit_events WHERE action = 'escalation.resolved'") == 1
    )
    assert (version(live, barrier), barrier_rows(live)[0].outcome) == (2, f"Fixed by {closed[0]}")
    wait_until(lambda: len(dms(live, BOB)) == 2)
    assert sum("is resolved" in m for m in dms(live, BOB)) == 1


# ------------------------------------------------------------------------- from a check-in


def test_a_checkin_that_names_a_barrier_offers_escalate_this(live: Live) -> None:
    view = open_view(live, slash_command("/checkin", "", user_id=CAROL))
    submit(
        live,
        view,
        View.CHECKIN,
        CAROL,
        {
            "What happened that you learned from?": "A patient waited nine days",
            "What got in the way?": "Housing can't assess until a discharge date is fixed.",
            "Who can see this?": "The alliance, with my name",
        },
    )
    thanks = live.slack.wait_for("chat.postMessage")[0]
    assert thanks.params["channel"] == CAROL and "saved" in thanks.params["text"]
    offer = button(thanks.json_field("blocks"), "Escalate this")
    checkin_id = live.scalar("SELECT id FROM checkins")

    form = open_view(live, block_actions(offer["action_id"], offer["value"], user_id=CAROL))
    inputs = input_blocks(form)
    assert inputs["What gets in the way?"]["element"]["initial_value"] == (
        "Housing can't assess until a discharge date is fixed."
    )
    assert inputs["Title"]["element"]["initial_value"] == (
        "Housing can't assess until a discharge date is fixed"
    )
    linked = inputs["Link your recent check-ins"]["element"]
    assert [o["value"] for o in linked["initial_options"]] == [str(checkin_id)]
    resp = live.post(
        view_submission(
            BarrierForm.ESCALATE,
            {
                **fill(form, {"Show my name to stewards?": "Yes, show my name"}),
                "barrier_title": {
                    "barrier_title": {
                        "type": "plain_text_input",
                        "value": "Assess before discharge",
                    }
                },
                "barrier_description": {
                    "barrier_description": {
                        "type": "plain_text_input",
                        "value": "Housing waits for a date.",
                    }
                },
                "barrier_checkins": {
                    "barrier_checkins": {
                        "type": "checkboxes",
                        "selected_options": linked["initial_options"],
                    }
                },
            },
            user_id=CAROL,
            private_metadata=form["private_metadata"],
            view={"blocks": form["blocks"]},
            view_id="VFROMCHECKIN",
        )
    )
    assert resp.content in (b"", b"null"), resp.text
    wait_until(lambda: bool(barrier_rows(live)) and barrier_rows(live)[0].message_ts is not None)
    assert live.rows("SELECT checkin_id FROM escalation_links")[0].checkin_id == checkin_id
    assert "1 linked check-in" in json.dumps(card(live, 1)["blocks"])


def test_a_checkin_without_a_barrier_gets_no_offer(live: Live) -> None:
    view = open_view(live, slash_command("/checkin", "", user_id=CAROL))
    submit(live, view, View.CHECKIN, CAROL, {"What happened that you learned from?": "All good"})
    thanks = live.slack.wait_for("chat.postMessage")[0]
    assert "Escalate this" not in button_labels(thanks.json_field("blocks") or [])


def test_the_thanks_on_a_prompt_offers_escalate_this(live: Live) -> None:
    live.loop.services.prompts.send("weekly", now=True)
    prompt = next(c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == BOB)
    share = button(prompt.json_field("blocks"), "Share a learning")
    view = open_view(live, block_actions(share["action_id"], share["value"], user_id=BOB))
    submit(
        live,
        view,
        View.CHECKIN,
        BOB,
        {
            "What happened that you learned from?": "Texts work better",
            "What got in the way?": "Our phones can't send texts",
        },
    )
    update = live.slack.wait_for("chat.update")[0]
    assert "Thank you" in update.params["text"]
    button(update.json_field("blocks"), "Escalate this")


# ------------------------------------------------------------------------- anonymity


def test_an_anonymous_raiser_is_never_named_to_anyone_else(live: Live) -> None:
    # Alice links a check-in she shared *with her name*: that must not give her away either.
    view = open_view(live, slash_command("/checkin", "", user_id=ALICE))
    submit(
        live,
        view,
        View.CHECKIN,
        ALICE,
        {
            "What happened that you learned from?": "Eviction letters scare people off",
            "What got in the way?": "Our letters read like threats",
            "Who can see this?": "The alliance, with my name",
        },
    )
    thanks = live.slack.wait_for("chat.postMessage")[0]
    offer = button(thanks.json_field("blocks"), "Escalate this")
    form = open_view(live, block_actions(offer["action_id"], offer["value"], user_id=ALICE))
    resp = submit(
        live,
        form,
        BarrierForm.ESCALATE,
        ALICE,
        {
            "Show my name to stewards?": "No, raise it anonymously",
            "Link your recent check-ins": [
                o["text"]["text"]
                for o in input_blocks(form)["Link your recent check-ins"]["element"]["options"]
            ],
        },
    )
    assert resp.content in (b"", b"null"), resp.text
    wait_until(lambda: bool(barrier_rows(live)) and barrier_rows(live)[0].card_url is not None)
    barrier = barrier_rows(live)[0]
    alice_id = live.scalar("SELECT id FROM members WHERE platform_user_id = :u", u=ALICE)
    assert barrier.raiser_anonymous and barrier.raised_by_id == alice_id  # kept, to tell her

    press(live, barrier.id, "Acknowledge")
    wait_until(lambda: version(live, barrier.id) == 2)
    press(live, barrier.id, "Escalate up to Steward group")
    wait_until(lambda: barrier_rows(live)[0].channel_id == STEWARDS)
    live.post(
        slash_command(
            "/barriers", "all", user_id=STEWARD, response_url=live.slack.response_url("all")
        )
    )
    resolve = button(card(live, barrier.id)["blocks"], "Resolve")
    modal = open_view(
        live,
        block_actions(resolve["action_id"], resolve["value"], user_id=STEWARD, channel_id=STEWARDS),
    )
    submit(
        live,
        modal,
        BarrierForm.RESOLVE,
        STEWARD,
        {"What did we do?": "Letters rewritten with tenants."},
    )
    wait_until(
        lambda: len(dms(live, ALICE)) == 5
    )  # thanks, raised, acknowledged, escalated, resolved
    live.slack.wait_for("webhook")

    # Alice heard everything, including that stewards can't see it was her...
    assert "Stewards can't see that it was you" in dms(live, ALICE)[1]
    assert "Letters rewritten with tenants." in dms(live, ALICE)[4]
    # ...and nothing anyone else received names her: not the cards, the pointer, the list,
    # the steward's modals, nor her check-in's byline.
    alice_marks = (ALICE, ALICE.lower(), f"User {ALICE}", "Eviction letters scare")
    for call in live.slack.calls():
        if call.method == "chat.postMessage" and call.params.get("channel") == ALICE:
            continue
        if call.method == "views.open" and call.json_field("view", {}).get("callback_id") in (
            View.CHECKIN,
            BarrierForm.ESCALATE,
        ):
            continue  # Alice's own forms, shown only to her
        dumped = json.dumps(call.params)
        for mark in alice_marks:
            assert mark not in dumped, (call.method, mark)
    assert "Someone who asked not to be named" in json.dumps(card(live, barrier.id)["blocks"])
    # The history and the audit log (which admins read) don't have her either.
    assert all(e.actor_id != alice_id for e in events(live, barrier.id))
    audit = json.dumps(
        [
            list(r)
            for r in live.rows(
                "SELECT actor, target, details FROM audit_events WHERE action LIKE 'escalation.%'"
            )
        ],
        default=str,
    )
    assert ALICE not in audit and f"member:{alice_id}" not in audit
    export = json.dumps(live.loop.services.escalations.export_records())
    for mark in alice_marks:
        assert mark not in export


# ------------------------------------------------------------------------- the register


def test_barriers_lists_open_mine_stale_and_all_with_links(live: Live) -> None:
    first = raise_barrier(live, user=BOB, title="Letters read like threats")
    second = raise_barrier(live, user=CAROL, title="No texts from our phones")
    resolve = button(card(live, second)["blocks"], "Resolve")
    modal = open_view(
        live,
        block_actions(resolve["action_id"], resolve["value"], user_id=STEWARD, channel_id=LEADS),
    )
    submit(
        live, modal, BarrierForm.RESOLVE, STEWARD, {"What did we do?": "Bought a texting service"}
    )
    wait_until(lambda: barrier_rows(live)[1].status == "resolved")

    def ask(user: str, text: str) -> str:
        before = len(live.slack.calls("webhook"))
        resp = live.post(
            slash_command(
                "/barriers",
                text,
                user_id=user,
                response_url=live.slack.response_url(text or "open"),
            )
        )
        assert resp.status_code == 200
        call = live.slack.wait_for("webhook", count=before + 1)[-1]
        assert call.params["response_type"] == "ephemeral"
        return json.dumps(call.params)

    opened = ask(ALICE, "")
    url = barrier_rows(live)[0].card_url
    assert f"<{url}|#{first} Letters read like threats>" in opened and "Open barriers (1)" in opened
    assert "No texts" not in opened
    assert "No texts from our phones" in ask(ALICE, "all") and "All barriers (2)" in ask(
        ALICE, "all"
    )
    mine = ask(CAROL, "mine")
    assert "No texts from our phones" in mine and "Letters" not in mine
    assert "No stale barriers" in ask(ALICE, "stale")
    live.post(slash_command("/barriers", "everything", user_id=ALICE))
    wait_until(lambda: len(ephemerals(live, ALICE)) == 1)
    assert "I don't know `/barriers everything`" in ephemerals(live, ALICE)[0]


def test_help_words_explain_the_commands(live: Live) -> None:
    assert "/barriers" in live.post(slash_command("/escalate", "help", user_id=ALICE)).text
    assert "/barriers mine" in live.post(slash_command("/barriers", "help", user_id=ALICE)).text
    assert views_opened(live) == 0


def test_no_ladder_means_a_clear_message(make_live: Any) -> None:
    from conftest import alliance_config

    live = make_live(alliance=alliance_config(escalation_ladder=[]))
    live.post(slash_command("/escalate", "", user_id=ALICE))
    wait_until(lambda: len(ephemerals(live, ALICE)) == 1)
    assert "no escalation ladder" in ephemerals(live, ALICE)[0]
    assert views_opened(live) == 0


def test_a_lone_surrogate_in_a_barrier_is_stored_as_a_replacement(live: Live) -> None:
    barrier_id = raise_barrier(live, title="Forms \ud800 lost", what="Since May\x00, \ud800")
    [(title, description)] = live.rows(
        "SELECT title, description FROM escalations WHERE id = :b", b=barrier_id
    )
    assert (title, description) == ("Forms \ufffd lost", "Since May\ufffd, \ufffd")
    assert "Forms \ufffd lost" in json.dumps(card(live, barrier_id)["blocks"], ensure_ascii=False)

"""The check-in loop end to end: signed HTTP into the real app, Slack answered by the fake API."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from conftest import ALICE, BOB, CAROL, DAN, Live
from slack_requests import (
    block_actions,
    message_im,
    slash_command,
    view_submission,
)
from slack_ui import button, fill, input_blocks, wait_until

from bot.slack.ids import Action, View


def send_prompts(live: Live) -> None:
    report = live.loop.services.prompts.send("weekly", now=True)
    assert report[0].due


def prompt_for(live: Live, user_id: str) -> dict[str, Any]:
    """The prompt DM the fake Slack received for a user."""
    calls = [c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == user_id]
    assert len(calls) == 1, f"{user_id} got {len(calls)} prompts"
    return {"blocks": calls[0].json_field("blocks"), "text": calls[0].params["text"]}


def opened_view(live: Live, count: int = 1) -> dict[str, Any]:
    call = live.slack.wait_for("views.open", count=count)[-1]
    return call.json_field("view")


def checkins(live: Live) -> list[Any]:
    return live.rows(
        "SELECT id, member_id, answers, visibility, source, prompt_id, redaction_count "
        "FROM checkins ORDER BY id"
    )


def answers_of(row: Any) -> dict[str, Any]:
    value = row.answers
    return json.loads(value) if isinstance(value, str) else value


# ------------------------------------------------------------------------- prompts


def test_prompt_is_sent_once_per_cycle_with_three_buttons(live: Live) -> None:
    send_prompts(live)
    for user in (ALICE, BOB, CAROL, DAN):
        prompt = prompt_for(live, user)
        for label in ("Share a learning", "Skip this week", "Pause prompts"):
            button(prompt["blocks"], label)
    assert live.scalar("SELECT count(*) FROM prompts WHERE status = 'sent'") == 4
    # Running again in the same cycle (a restart, a second cron) sends nothing more.
    report = live.loop.services.prompts.send("weekly", now=True)[0]
    assert (report.sent, report.already) == (0, 4)
    assert len(live.slack.calls("chat.postMessage")) == 4


def test_rate_limited_prompt_is_retried(live: Live) -> None:
    live.slack.queue(
        "chat.postMessage",
        {"ok": False, "error": "ratelimited"},
        status=429,
        headers={"Retry-After": "1"},
    )
    send_prompts(live)
    assert live.scalar("SELECT count(*) FROM prompts WHERE status = 'sent'") == 4
    assert len(live.slack.calls("chat.postMessage")) == 5


def test_unreachable_member_is_marked_failed_and_others_still_prompted(live: Live) -> None:
    live.slack.fail_when("chat.postMessage", lambda p: p.get("channel") == BOB, "user_not_found")
    live.slack.fail_when(
        "chat.postMessage", lambda p: p.get("channel") == CAROL, "account_inactive"
    )
    report = live.loop.services.prompts.send("weekly", now=True)[0]
    assert (report.sent, report.failed) == (2, 2)
    assert dict(report.errors) == {"user_not_found": 1, "account_inactive": 1}
    failed = live.rows(
        "SELECT m.platform_user_id, p.error, m.active FROM prompts p "
        "JOIN members m ON m.id = p.member_id WHERE p.status = 'failed' ORDER BY 1"
    )
    assert [(r[0], r[1], bool(r[2])) for r in failed] == [
        (BOB, "user_not_found", False),
        (CAROL, "account_inactive", False),
    ]
    prompt_for(live, ALICE)
    prompt_for(live, DAN)


# ------------------------------------------------------------------------- the modal


def test_share_a_learning_opens_modal_stores_and_thanks(live: Live) -> None:
    send_prompts(live)
    prompt = prompt_for(live, ALICE)
    share = button(prompt["blocks"], "Share a learning")
    posted = live.slack.calls("chat.postMessage")[0]
    resp = live.post(
        block_actions(
            share["action_id"],
            share["value"],
            user_id=ALICE,
            message_ts=posted.response["ts"] if hasattr(posted, "response") else None,
            channel_id=f"D{ALICE}",
        )
    )
    assert resp.status_code == 200
    view = opened_view(live)
    labels = set(input_blocks(view))
    assert {
        "What happened that you learned from?",
        "What helped?",
        "What got in the way?",
        "Themes",
        "Who can see this?",
    } <= labels
    assert view["submit"]["text"] == "Save learning"

    values = fill(
        view,
        {
            "What happened that you learned from?": (
                "Meeting at the food bank worked. NHS 943 476 5919"
            ),
            "What helped?": "Outreach came along",
            "Themes": ["Housing"],
            "Who can see this?": "The alliance, anonymously",
        },
    )
    resp = live.post(
        view_submission(
            View.CHECKIN, values, user_id=ALICE, private_metadata=view["private_metadata"]
        )
    )
    assert resp.status_code == 200
    assert resp.content in (b"", b"null")  # a plain ack closes the modal
    [row] = checkins(live)
    assert answers_of(row) == {
        "learned": "Meeting at the food bank worked. NHS [NHS number]",
        "helped": "Outreach came along",
    }
    assert (row.visibility, row.source, row.redaction_count) == ("anonymous", "modal", 1)
    assert live.scalar("SELECT status FROM prompts WHERE id = :i", i=row.prompt_id) == "answered"
    update = live.slack.wait_for("chat.update")[0]
    assert "Thank you" in update.params["text"]
    assert "We removed 1 NHS number before saving." in json.dumps(update.json_field("blocks"))
    assert (
        live.scalar("SELECT count(*) FROM checkins WHERE CAST(answers AS TEXT) LIKE '%943 476%'")
        == 0
    )


def test_checkin_command_prefills_and_confirms_by_dm(live: Live) -> None:
    resp = live.post(slash_command("/checkin", "Joint visits save time", user_id=CAROL))
    assert resp.status_code == 200
    view = opened_view(live)
    first = input_blocks(view)["What happened that you learned from?"]
    assert first["element"]["initial_value"] == "Joint visits save time"
    values = fill(view, {"What happened that you learned from?": "Joint visits save time"})
    live.post(
        view_submission(
            View.CHECKIN, values, user_id=CAROL, private_metadata=view["private_metadata"]
        )
    )
    [row] = checkins(live)
    assert row.visibility == "team" and row.prompt_id is None
    note = live.slack.wait_for("chat.postMessage")[0]
    assert note.params["channel"] == CAROL and "saved" in note.params["text"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [("   ", "needed"), ("x" * 3001, "3,000 characters")],
)
def test_bad_answers_get_inline_errors_and_nothing_is_stored(
    live: Live, answer: str, message: str
) -> None:
    live.post(slash_command("/checkin", user_id=ALICE))
    view = opened_view(live)
    values = fill(view, {"What happened that you learned from?": answer})
    resp = live.post(
        view_submission(
            View.CHECKIN, values, user_id=ALICE, private_metadata=view["private_metadata"]
        )
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["response_action"] == "errors"
    assert message in body["errors"]["q_learned"]
    assert checkins(live) == []


def test_emoji_and_right_to_left_text_round_trip(live: Live) -> None:
    live.post(slash_command("/checkin", user_id=DAN))
    view = opened_view(live)
    text = "Learned so much 🙏🏽 from the family — شكرا — תודה"
    live.post(
        view_submission(
            View.CHECKIN,
            fill(view, {"What happened that you learned from?": text}),
            user_id=DAN,
            private_metadata=view["private_metadata"],
        )
    )
    [row] = checkins(live)
    assert answers_of(row)["learned"] == text


def test_duplicate_submission_is_stored_once(live: Live) -> None:
    live.post(slash_command("/checkin", user_id=BOB))
    view = opened_view(live)
    req = view_submission(
        View.CHECKIN,
        fill(view, {"What happened that you learned from?": "Double click"}),
        user_id=BOB,
        private_metadata=view["private_metadata"],
    )
    assert live.post(req).status_code == 200
    assert live.post(req).status_code == 200
    assert len(checkins(live)) == 1


def test_unknown_user_is_told_how_to_join(live: Live) -> None:
    resp = live.post(slash_command("/checkin", user_id="U0STRANGER"))
    assert resp.status_code == 200
    note = live.slack.wait_for("chat.postEphemeral")[0]
    assert note.params["user"] == "U0STRANGER"
    assert "ask your LearnLoop admin" in note.params["text"]
    assert live.slack.calls("views.open") == []


# ------------------------------------------------------------------------- DM replies


def test_plain_reply_is_stored_once_despite_slack_retries(live: Live) -> None:
    send_prompts(live)
    event = message_im(
        "Texting works better than calling",
        user_id=ALICE,
        channel=f"D{ALICE}",
        event_id="Ev0REPLY1",
    )
    assert live.post(event).status_code == 200
    retry = message_im(
        "Texting works better than calling",
        user_id=ALICE,
        channel=f"D{ALICE}",
        event_id="Ev0REPLY1",
        retry_num=1,
    )
    assert live.post(retry).status_code == 200
    [row] = checkins(live)
    assert (row.visibility, row.source) == ("team", "dm_reply")
    assert answers_of(row) == {"learned": "Texting works better than calling"}
    assert live.scalar("SELECT status FROM prompts WHERE id = :i", i=row.prompt_id) == "answered"
    # 4 prompts + 1 answer: the retry is stored once and thanked once.
    confirmations = live.slack.wait_for("chat.postMessage", count=5)
    [reply] = [c for c in confirmations if c.params["channel"] == f"D{ALICE}"]
    button(reply.json_field("blocks"), "Add detail")


def test_add_detail_updates_the_same_checkin(live: Live) -> None:
    live.post(message_im("Short note", user_id=BOB, channel=f"D{BOB}", event_id="Ev0B1"))
    reply = live.slack.wait_for("chat.postMessage")[0]
    detail = button(reply.json_field("blocks"), "Add detail")
    live.post(
        block_actions(detail["action_id"], detail["value"], user_id=BOB, channel_id=f"D{BOB}")
    )
    view = opened_view(live)
    assert (
        input_blocks(view)["What happened that you learned from?"]["element"]["initial_value"]
        == "Short note"
    )
    live.post(
        view_submission(
            View.CHECKIN,
            fill(
                view,
                {
                    "What happened that you learned from?": "Short note, with more",
                    "What got in the way?": "Eligibility rules",
                    "Who can see this?": "The alliance, with my name",
                },
            ),
            user_id=BOB,
            private_metadata=view["private_metadata"],
        )
    )
    [row] = checkins(live)
    assert answers_of(row) == {
        "learned": "Short note, with more",
        "got_in_the_way": "Eligibility rules",
    }
    assert row.visibility == "alliance"


def test_bot_messages_and_edits_are_not_checkins(live: Live) -> None:
    live.post(message_im("I am a bot", user_id=ALICE, bot_id="B1", event_id="Ev0X1"))
    live.post(message_im("edited", user_id=ALICE, subtype="message_changed", event_id="Ev0X2"))
    time.sleep(0.2)
    assert checkins(live) == []


# ------------------------------------------------------------------------- skip and pause


def test_skip_and_pause_are_recorded(live: Live) -> None:
    send_prompts(live)
    skip = button(prompt_for(live, ALICE)["blocks"], "Skip this week")
    live.post(block_actions(skip["action_id"], skip["value"], user_id=ALICE))
    pause = button(prompt_for(live, BOB)["blocks"], "Pause prompts")
    live.post(block_actions(pause["action_id"], pause["value"], user_id=BOB))
    live.slack.wait_for("chat.update", count=2)
    statuses = dict(
        live.rows(
            "SELECT m.platform_user_id, p.status FROM prompts p "
            "JOIN members m ON m.id = p.member_id"
        )
    )
    assert statuses[ALICE] == "skipped" and statuses[BOB] == "skipped"
    assert live.scalar(
        "SELECT paused_until IS NOT NULL FROM members WHERE platform_user_id = :u", u=BOB
    )
    texts = [c.params["text"] for c in live.slack.calls("chat.update")]
    assert any("skipped" in t for t in texts) and any("paused until" in t for t in texts)


def test_pause_and_resume_commands(live: Live) -> None:
    resp = live.post(
        slash_command(
            "/learnloop", "pause 2w", user_id=DAN, response_url=live.slack.response_url("pause")
        )
    )
    assert resp.status_code == 200
    wait_until(
        lambda: live.scalar(
            "SELECT paused_until IS NOT NULL FROM members WHERE platform_user_id = :u", u=DAN
        )
    )
    report = live.loop.services.prompts.send("weekly", now=True)[0]
    assert report.paused == 1
    assert all(c.params["channel"] != DAN for c in live.slack.calls("chat.postMessage"))
    resp = live.post(slash_command("/learnloop", "pause someday", user_id=DAN))
    assert resp.status_code == 200
    note = live.slack.wait_for("chat.postEphemeral")[0]
    assert "couldn't understand" in note.params["text"]
    live.post(
        slash_command(
            "/learnloop", "resume", user_id=DAN, response_url=live.slack.response_url("resume")
        )
    )
    wait_until(
        lambda: (
            not live.scalar(
                "SELECT paused_until IS NOT NULL FROM members WHERE platform_user_id = :u", u=DAN
            )
        )
    )


def test_help_lists_the_commands(live: Live) -> None:
    resp = live.post(slash_command("/learnloop", "", user_id=ALICE))
    assert resp.status_code == 200
    assert "/checkin" in resp.text and "/learnloop pause" in resp.text


def test_action_ids_are_stable() -> None:
    assert Action.SHARE_LEARNING == "checkin_open"


def test_every_manifest_command_is_handled(live: Live) -> None:
    from bot.slack.manifest import manifest

    for entry in manifest()["features"]["slash_commands"]:
        resp = live.post(
            slash_command(
                entry["command"], "help", user_id=ALICE, response_url=live.slack.response_url()
            )
        )
        assert resp.status_code == 200, entry["command"]

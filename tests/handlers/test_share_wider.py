"""A plain reply shared wider in one click: signed button presses into the real app (Slack)."""

from __future__ import annotations

from conftest import ALICE, BOB, Live
from slack_requests import block_actions, message_im
from slack_ui import button

from bot.views.checkin import ReplySavedView, reply_saved_message


def _reply(live: Live, user: str, text: str, event_id: str) -> dict:
    live.post(message_im(text, user_id=user, channel=f"D{user}", event_id=event_id))
    [reply] = [
        c for c in live.slack.wait_for("chat.postMessage") if c.params["channel"] == f"D{user}"
    ]
    return reply


def _visibility(live: Live) -> str:
    return live.scalar("SELECT visibility FROM checkins ORDER BY id DESC LIMIT 1")


def test_share_with_the_alliance_changes_visibility_audits_and_updates(live: Live) -> None:
    reply = _reply(live, ALICE, "Texting works better than calling", "Ev0SHARE1")
    blocks = reply.json_field("blocks")
    share = button(blocks, "Share with the alliance")
    button(blocks, "Share with the alliance anonymously")  # both are offered
    assert _visibility(live) == "team"
    ts = "1700000000.000100"
    response = live.post(
        block_actions(
            share["action_id"], share["value"], user_id=ALICE, channel_id=f"D{ALICE}", message_ts=ts
        )
    )
    assert response.status_code == 200
    [update] = live.slack.wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (f"D{ALICE}", ts)
    assert "shared with the alliance, with your name" in update.params["text"]
    labels = str(update.json_field("blocks"))
    assert "Share with the alliance" not in labels and "Add detail" in labels
    assert _visibility(live) == "alliance"
    [audit] = live.rows(
        "SELECT actor, target FROM audit_events WHERE action = 'checkin.visibility_changed'"
    )
    assert audit.actor == f"slack:{ALICE}" and audit.target.startswith("checkin:")


def test_share_anonymously(live: Live) -> None:
    reply = _reply(live, ALICE, "A warm handover beat a referral form", "Ev0SHARE2")
    share = button(reply.json_field("blocks"), "Share with the alliance anonymously")
    live.post(block_actions(share["action_id"], share["value"], user_id=ALICE))
    [update] = live.slack.wait_for("chat.update")
    assert "anonymously" in update.params["text"]
    assert _visibility(live) == "anonymous"


def test_someone_elses_entry_is_not_changed(live: Live) -> None:
    reply = _reply(live, ALICE, "Joint visits save a week", "Ev0SHARE3")
    share = button(reply.json_field("blocks"), "Share with the alliance")
    # Bob presses a button carrying Alice's entry id: nothing changes, nothing is updated.
    assert (
        live.post(block_actions(share["action_id"], share["value"], user_id=BOB)).status_code == 200
    )
    assert _visibility(live) == "team"
    assert live.slack.calls("chat.update") == []
    assert (
        live.scalar("SELECT count(*) FROM audit_events WHERE action = 'checkin.visibility_changed'")
        == 0
    )


def test_a_forged_value_is_not_a_500(live: Live) -> None:
    response = live.post(block_actions("checkin_share_alliance", "not-a-number", user_id=ALICE))
    assert response.status_code == 200
    assert live.slack.calls("chat.update") == []


def test_shared_confirmation_offers_no_share_buttons() -> None:
    message = reply_saved_message(ReplySavedView(checkin_id=7, shared="anonymous"))
    labels = [b.label for block in message.blocks for b in getattr(block, "buttons", ())]
    assert labels == ["Add detail"]

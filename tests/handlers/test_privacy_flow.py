"""`/learnloop privacy` end to end — signed HTTP into the app, Slack answered by the fake.

Export arrives as a JSON file in the person's DM; delete asks first, removes their data, and a
tombstone stops a retried event from bringing them back until they press "Start again".
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from conftest import ALICE, BOB, Live
from slack_api import Call
from slack_requests import block_actions, message_im, slash_command, view_submission
from slack_ui import button, button_labels, fill, wait_until

from bot.slack.ids import View


def open_panel(live: Live, user: str, name: str) -> Call:
    """Type `/learnloop privacy` and return what came back (via the response_url)."""
    resp = live.post(
        slash_command(
            "/learnloop", "privacy", user_id=user, response_url=live.slack.response_url(name)
        )
    )
    assert resp.status_code == 200
    return answer(live, name)


def answer(live: Live, name: str) -> Call:
    """The latest message posted to the response_url called `name`."""
    wait_until(lambda: any(c.path.endswith(f"/{name}") for c in live.slack.calls("webhook")))
    return [c for c in live.slack.calls("webhook") if c.path.endswith(f"/{name}")][-1]


def blocks_of(call: Call) -> list[dict[str, Any]]:
    return call.json_field("blocks") or []


def shown_text(call: Call) -> str:
    return json.dumps(blocks_of(call), ensure_ascii=False) + str(call.params.get("text"))


def press(live: Live, panel: Call, label: str, user: str, name: str) -> Call:
    """Press a button on an ephemeral panel; return the panel as it was replaced."""
    element = button(blocks_of(panel), label)
    resp = live.post(
        block_actions(
            element["action_id"],
            element.get("value"),
            user_id=user,
            response_url=live.slack.response_url(name),
        )
    )
    assert resp.status_code == 200
    return answer(live, name)


def write_checkin(live: Live, user: str, learned: str, visibility: str) -> None:
    before = len(live.slack.calls("views.open"))
    live.post(slash_command("/checkin", user_id=user))
    view = live.slack.wait_for("views.open", count=before + 1)[-1]
    form = view.json_field("view")
    live.post(
        view_submission(
            View.CHECKIN,
            fill(
                form,
                {"What happened that you learned from?": learned, "Who can see this?": visibility},
            ),
            user_id=user,
            private_metadata=form["private_metadata"],
            view_id=f"V{uuid.uuid4().hex[:10].upper()}",  # each form Slack opens is a new view
        )
    )


def count_checkins(live: Live, user: str) -> int:
    return live.scalar(
        "SELECT count(*) FROM checkins c JOIN members m ON m.id = c.member_id "
        "WHERE m.platform_user_id = :u",
        u=user,
    )


def test_panel_says_what_is_held_and_offers_export_and_delete(live: Live) -> None:
    write_checkin(live, ALICE, "Food bank visits work", "The alliance, anonymously")
    wait_until(lambda: count_checkins(live, ALICE) == 1)
    panel = open_panel(live, ALICE, "panel")
    assert panel.params["response_type"] == "ephemeral"
    text = shown_text(panel)
    assert "1 learning" in text and "1 shared anonymously" in text
    assert "older than 24 months are deleted automatically" in text
    assert button_labels(blocks_of(panel)) == ["Export my data", "Delete my data"]


def test_export_my_data_sends_a_json_file_to_my_dm(live: Live) -> None:
    write_checkin(
        live, ALICE, "Met at the food bank, NHS 943 476 5919", "The alliance, anonymously"
    )
    write_checkin(live, BOB, "Bob's own learning", "Just my team")
    wait_until(lambda: count_checkins(live, ALICE) == 1 and count_checkins(live, BOB) == 1)
    panel = open_panel(live, ALICE, "panel")

    done = press(live, panel, "Export my data", ALICE, "export")

    assert "I've sent your data to our direct messages" in shown_text(done)
    assert done.params.get("replace_original") in (True, "true")
    opened = live.slack.last("conversations.open")
    assert opened.params["users"] == ALICE
    complete = live.slack.wait_for("files.completeUploadExternal")[0]
    assert complete.params["channel_id"] == f"D{ALICE}"
    [upload] = live.slack.uploads()
    doc = json.loads(upload.data)
    assert doc["subject"]["user_id"] == ALICE
    [entry] = doc["checkins"]  # her anonymous entry is hers; Bob's is not in it
    assert entry["answers"]["learned"] == "Met at the food bank, NHS [NHS number]"
    assert entry["visibility"] == "anonymous" and entry["byline"] == "You"
    assert "Bob's own learning" not in upload.data.decode()
    assert live.scalar("SELECT count(*) FROM audit_events WHERE action = 'privacy.exported'") == 1


def test_delete_asks_first_then_deletes_and_a_retried_event_cannot_bring_me_back(
    live: Live,
) -> None:
    # A plain reply (with its Slack event id) and a form entry.
    live.post(message_im("Texting works", user_id=ALICE, event_id="Ev0ALICE1"))
    write_checkin(live, ALICE, "Second learning", "The alliance, anonymously")
    write_checkin(live, BOB, "Bob stays", "Just my team")
    wait_until(lambda: count_checkins(live, ALICE) == 2 and count_checkins(live, BOB) == 1)
    with live.loop.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO escalations (title, description, raised_by_id, raiser_anonymous, "
            "agencies, level, status, version, created_at, updated_at) "
            "SELECT 'Full on Fridays', 'No beds at the weekend', id, false, '[]', 'agency', "
            "'open', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM members "
            f"WHERE platform_user_id = '{ALICE}'"
        )

    panel = open_panel(live, ALICE, "panel")
    confirm = press(live, panel, "Delete my data", ALICE, "confirm")
    text = shown_text(confirm)
    assert "permanently deletes your 2 learnings (including 1 shared anonymously)" in text
    assert "The 1 barrier you raised stays for the stewards, without your name" in text
    assert button_labels(blocks_of(confirm)) == [
        "Delete my 2 learnings and profile",
        "Keep my data",
        "Export my data first",
    ]
    kept = press(live, confirm, "Keep my data", ALICE, "kept")
    assert "Nothing was deleted" in shown_text(kept)
    assert count_checkins(live, ALICE) == 2

    confirm = press(live, panel, "Delete my data", ALICE, "confirm2")
    done = press(live, confirm, "Delete my 2 learnings and profile", ALICE, "deleted")

    assert "Your LearnLoop data is deleted" in shown_text(done)
    assert live.scalar("SELECT count(*) FROM members WHERE platform_user_id = :u", u=ALICE) == 0
    assert live.scalar("SELECT count(*) FROM checkins") == 1  # Bob's
    assert count_checkins(live, BOB) == 1
    assert live.scalar("SELECT raised_by_id FROM escalations") is None
    assert live.scalar("SELECT title FROM escalations") == "Full on Fridays"
    assert live.scalar("SELECT count(*) FROM tombstones") == 1

    # Slack retries the first reply's event after the delete: nothing is stored.
    retry = message_im("Texting works", user_id=ALICE, event_id="Ev0ALICE1", retry_num=1)
    assert live.post(retry).status_code == 200
    # She writes again: told what happened and how to opt back in; nothing is stored.
    before = len(live.slack.calls("chat.postMessage"))
    assert live.post(message_im("New thought", user_id=ALICE, event_id="Ev0ALICE2")).status_code
    notes = live.slack.wait_for("chat.postMessage", count=before + 1)
    assert "You deleted your LearnLoop data" in notes[-1].params["text"]
    assert "Start again" in notes[-1].params["text"]
    assert live.scalar("SELECT count(*) FROM members WHERE platform_user_id = :u", u=ALICE) == 0
    assert live.scalar("SELECT count(*) FROM checkins") == 1
    # /checkin doesn't open the form either.
    opened = len(live.slack.calls("views.open"))
    live.post(slash_command("/checkin", "Another", user_id=ALICE))
    note = live.slack.wait_for("chat.postEphemeral")[-1]
    assert "You deleted your LearnLoop data" in note.params["text"]
    assert len(live.slack.calls("views.open")) == opened

    # The panel now offers to start again, which makes a new, empty profile.
    panel = open_panel(live, ALICE, "after")
    assert button_labels(blocks_of(panel)) == ["Start again"]
    back = press(live, panel, "Start again", ALICE, "restart")
    assert "Welcome back" in shown_text(back)
    assert live.scalar("SELECT count(*) FROM members WHERE platform_user_id = :u", u=ALICE) == 1
    assert count_checkins(live, ALICE) == 0
    actions = [r[0] for r in live.rows("SELECT action FROM audit_events ORDER BY id")]
    assert actions == ["privacy.deleted", "privacy.restarted"]


def test_a_button_only_ever_acts_on_the_person_who_pressed_it(live: Live) -> None:
    write_checkin(live, ALICE, "Alice's learning", "Just my team")
    write_checkin(live, BOB, "Bob's learning", "Just my team")
    wait_until(lambda: count_checkins(live, ALICE) == 1 and count_checkins(live, BOB) == 1)
    alices_confirm = press(live, open_panel(live, ALICE, "a"), "Delete my data", ALICE, "a2")
    # Bob replays the confirm button from Alice's panel: it deletes Bob, never Alice.
    press(live, alices_confirm, "Delete my 1 learning and profile", BOB, "b")
    assert count_checkins(live, ALICE) == 1
    assert live.scalar("SELECT count(*) FROM members WHERE platform_user_id = :u", u=BOB) == 0
    # Someone outside the alliance can't export anything (and is told why).
    element = button(blocks_of(open_panel(live, ALICE, "c")), "Export my data")
    live.post(
        block_actions(
            element["action_id"], user_id="U0STRANGER", response_url=live.slack.response_url("x")
        )
    )
    note = live.slack.wait_for("chat.postEphemeral")[-1]
    assert note.params["user"] == "U0STRANGER" and "not set up as a member" in note.params["text"]
    assert live.slack.uploads() == []


def test_a_stranger_is_told_nothing_is_held(live: Live) -> None:
    panel = open_panel(live, "U0STRANGER", "s")
    assert "LearnLoop holds no data about you" in shown_text(panel)
    assert button_labels(blocks_of(panel)) == []


def test_help_mentions_privacy(live: Live) -> None:
    resp = live.post(slash_command("/learnloop", "help", user_id=ALICE))
    assert "/learnloop privacy" in resp.text

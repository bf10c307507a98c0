"""Authors control each entry from the App Home: edit (within the week, redacted again), change
who can see it, delete (after a confirmation), page through them; an edited DM reply edits its
entry. Through the live app with signed requests and the fake Slack, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from conftest import ALICE, BOB, Clock_, Live
from slack_requests import block_actions, message_changed_im, message_im, new_ts, view_submission
from slack_ui import button, button_labels, fill, visible_text, wait_until
from test_app_home import open_home, published, share

from bot.slack.ids import Action
from bot.slack.ids import View as ViewId

QUESTION = "What happened that you learned from?"
PHONE = "07700 900123"
MONDAY = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def home_blocks(live: Live, user: str) -> list[dict[str, Any]]:
    return published(live, user)[-1].json_field("view")["blocks"]


def home_view(live: Live, user: str) -> dict[str, Any]:
    return published(live, user)[-1].json_field("view")


def press(
    live: Live, user: str, element: dict[str, Any], view: dict[str, Any] | None = None
) -> None:
    """Press a Home tab button (the published Home tab it sits in, as Slack sends it)."""
    home = view if view is not None else home_view(live, user)
    request = block_actions(
        element["action_id"],
        element.get("value"),
        user_id=user,
        container_type="view",
        view={"type": "home", "private_metadata": home.get("private_metadata", "")},
    )
    assert live.post(request).status_code == 200


def press_for_modal(live: Live, user: str, label: str) -> dict[str, Any]:
    """Press the first Home button with this label; the modal it opened."""
    before = len(live.slack.calls("views.open"))
    press(live, user, button(home_blocks(live, user), label))
    return live.slack.wait_for("views.open", count=before + 1)[-1].json_field("view")


def submit(live: Live, user: str, modal: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Submit a modal as `user`; the ack's JSON ({} when it simply closed)."""
    response = live.post(
        view_submission(
            modal["callback_id"],
            values,
            user_id=user,
            private_metadata=modal.get("private_metadata", ""),
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def republished(live: Live, user: str, before: int) -> str:
    wait_until(lambda: len(published(live, user)) > before)
    return visible_text(home_blocks(live, user))


def audit(live: Live, action: str) -> list[Any]:
    return live.rows(
        "SELECT actor, target, details FROM audit_events WHERE action = :a ORDER BY id", a=action
    )


def details(row: Any) -> dict[str, Any]:
    return row.details if isinstance(row.details, dict) else json.loads(row.details)


def answer_of(live: Live, checkin_id: int) -> str:
    raw = live.scalar("SELECT answers FROM checkins WHERE id = :i", i=checkin_id)
    answers = raw if isinstance(raw, dict) else json.loads(raw)
    return answers["learned"]


# ------------------------------------------------------------------------------------ edit


def test_editing_an_entry_redacts_it_again_and_is_audited(live: Live) -> None:
    checkin_id = share(live, ALICE, "Calling the ward first saved a visit", "team", ["Housing"])
    open_home(live, ALICE)

    modal = press_for_modal(live, ALICE, "Edit")
    assert modal["title"]["text"] == "Edit your learning"
    assert modal["submit"]["text"] == "Save changes"
    (text_input,) = [b for b in modal["blocks"] if b.get("label", {}).get("text") == QUESTION]
    assert text_input["element"]["initial_value"] == "Calling the ward first saved a visit"

    posts_before = len(live.slack.calls("chat.postMessage"))
    before = len(published(live, ALICE))
    edited = f"Calling the ward first saved a visit; the ward's number is {PHONE}"
    values = fill(modal, {QUESTION: edited, "Who can see this?": "The alliance, with my name"})
    assert submit(live, ALICE, modal, values) == {}

    page = republished(live, ALICE, before)
    assert "Your changes are saved" in page
    assert "Digests already posted are not changed." in page
    assert "1 phone number" in page  # the author is told what was removed again
    stored = answer_of(live, checkin_id)
    assert PHONE not in stored and "[phone number]" in stored
    assert live.scalar("SELECT count(*) FROM checkins") == 1  # edited, not added
    # No thank-you for an edit: nothing new in the DM.
    assert len(live.slack.calls("chat.postMessage")) == posts_before

    (row,) = audit(live, "checkin.edited")
    assert row.actor == f"slack:{ALICE}" and row.target == f"checkin:{checkin_id}"
    assert details(row) == {"source": "modal", "redactions": 1}
    assert "ward" not in json.dumps(details(row))  # never the text
    # Sharing changed in the same form: recorded as such.
    (shared,) = audit(live, "checkin.visibility_changed")
    assert details(shared) == {"before": "team", "after": "alliance"}
    assert live.scalar("SELECT visibility FROM checkins WHERE id = :i", i=checkin_id) == (
        "alliance"
    )


def test_an_edit_meets_the_same_validation_as_a_check_in(live: Live) -> None:
    checkin_id = share(live, ALICE, "Joint visits work", "team", [])
    open_home(live, ALICE)
    modal = press_for_modal(live, ALICE, "Edit")
    answer = submit(live, ALICE, modal, fill(modal, {QUESTION: "   "}))
    assert answer["response_action"] == "errors"
    assert "this one is needed" in answer["errors"]["q_learned"]
    assert answer_of(live, checkin_id) == "Joint visits work"
    assert audit(live, "checkin.edited") == []


def test_the_edit_button_goes_after_seven_days_and_says_why(
    make_live: Callable[..., Live],
) -> None:
    clock = Clock_(MONDAY)
    live = make_live(clock=clock)
    old = share(live, ALICE, "An old learning about discharge", "team", [])
    clock.advance(days=6, hours=23)
    share(live, ALICE, "A fresh learning about rent", "team", [])
    text, blocks = open_home(live, ALICE)
    assert button_labels(blocks).count("Edit") == 2
    assert "You can edit it until 7 December 2026." in text

    clock.advance(hours=2)  # the first is now 7 days and 1 hour old
    text, blocks = open_home(live, ALICE)
    assert button_labels(blocks).count("Edit") == 1
    assert button_labels(blocks).count("Change who can see it") == 2
    assert (
        "Editing closed on 7 December 2026, 7 days after you saved it. You can still change "
        "who can see it, or delete it." in text
    )

    # A forged (or stale) Edit for the old entry opens nothing and says why.
    opened = len(live.slack.calls("views.open"))
    before = len(published(live, ALICE))
    press(live, ALICE, {"action_id": Action.ENTRY_EDIT.value, "value": str(old)})
    assert "only edit a learning in the 7 days after you saved it" in republished(
        live, ALICE, before
    )
    assert len(live.slack.calls("views.open")) == opened

    # A forged submission of the edit form is refused in the form, nothing changed.
    metadata = json.dumps({"checkin_id": old, "offset": 0})
    answer = submit(
        live,
        ALICE,
        {"callback_id": ViewId.ENTRY_EDIT.value, "private_metadata": metadata},
        {"q_learned": {"answer": {"type": "plain_text_input", "value": "Rewritten later"}}},
    )
    assert answer["response_action"] == "errors"
    assert "7 days" in answer["errors"]["q_learned"]
    assert answer_of(live, old) == "An old learning about discharge"
    assert audit(live, "checkin.edited") == []


# ------------------------------------------------------------------------------ visibility


def test_changing_who_can_see_an_entry(live: Live) -> None:
    checkin_id = share(live, ALICE, "Learning shared with the team", "team", [])
    open_home(live, ALICE)
    modal = press_for_modal(live, ALICE, "Change who can see it")
    assert modal["title"]["text"] == "Change who can see it"
    assert "Digests already posted are not changed." in visible_text(modal["blocks"])
    radio = next(b for b in modal["blocks"] if b.get("block_id") == "visibility")
    assert radio["element"]["initial_option"]["text"]["text"] == "Just my team"
    assert [o["text"]["text"] for o in radio["element"]["options"]] == [
        "Just my team",
        "The alliance, with my name",
        "The alliance, anonymously",
    ]

    before = len(published(live, ALICE))
    values = fill(modal, {"Who can see this?": "The alliance, anonymously"})
    assert submit(live, ALICE, modal, values) == {}
    page = republished(live, ALICE, before)
    assert "Saved: The alliance, anonymously. Digests already posted are not changed." in page
    assert "Who can see it: *The alliance, anonymously*" in page
    assert live.scalar("SELECT visibility FROM checkins WHERE id = :i", i=checkin_id) == (
        "anonymous"
    )
    (row,) = audit(live, "checkin.visibility_changed")
    assert row.target == f"checkin:{checkin_id}"
    assert details(row) == {"before": "team", "after": "anonymous"}


def test_visibility_can_change_after_the_edit_window(make_live: Callable[..., Live]) -> None:
    clock = Clock_(MONDAY)
    live = make_live(clock=clock)
    checkin_id = share(live, ALICE, "Shared with the alliance", "alliance", [])
    clock.advance(days=40)
    open_home(live, ALICE)
    modal = press_for_modal(live, ALICE, "Change who can see it")
    submit(live, ALICE, modal, fill(modal, {"Who can see this?": "Just my team"}))
    assert live.scalar("SELECT visibility FROM checkins WHERE id = :i", i=checkin_id) == "team"


# ---------------------------------------------------------------------------------- delete


def test_deleting_an_entry_asks_first_and_says_what_stays(live: Live) -> None:
    keep = share(live, ALICE, "A learning to keep", "team", [])
    gone = share(live, ALICE, "A learning to delete", "anonymous", [])
    open_home(live, ALICE)

    modal = press_for_modal(live, ALICE, "Delete")  # the newest first
    said = visible_text(modal["blocks"])
    assert modal["title"]["text"] == "Delete this learning?"
    assert modal["submit"]["text"] == "Delete this learning"
    assert modal["close"]["text"] == "Keep it"
    assert "permanently deletes your learning of" in said and "A learning to delete" in said
    assert "Digests already posted are not changed." in said
    assert "Your other learnings and your profile stay as they are." in said
    assert live.scalar("SELECT count(*) FROM checkins") == 2  # nothing until confirmed

    before = len(published(live, ALICE))
    assert submit(live, ALICE, modal, {}) == {}
    page = republished(live, ALICE, before)
    assert "The learning is deleted. Digests already posted are not changed." in page
    assert "A learning to delete" not in page and "A learning to keep" in page
    assert [r.id for r in live.rows("SELECT id FROM checkins")] == [keep]
    (row,) = audit(live, "checkin.deleted")
    assert row.target == f"checkin:{gone}"
    assert details(row) == {"barriers_unlinked": 0}
    # Nothing already posted is rewritten.
    assert live.slack.calls("chat.update") == [] and live.slack.calls("chat.delete") == []


# ------------------------------------------------------------------------ someone else's


def test_nobody_can_see_change_or_delete_another_persons_entry(live: Live) -> None:
    bobs = share(live, BOB, "Bob's learning about arrears", "team", ["Housing"])
    open_home(live, ALICE)
    opened = len(live.slack.calls("views.open"))

    for action_id in (Action.ENTRY_EDIT, Action.ENTRY_VISIBILITY, Action.ENTRY_DELETE):
        before = len(published(live, ALICE))
        press(live, ALICE, {"action_id": action_id.value, "value": str(bobs)})
        page = republished(live, ALICE, before)
        assert "That learning no longer exists (or isn't yours), so nothing was changed." in page
        assert "arrears" not in page
    assert len(live.slack.calls("views.open")) == opened

    metadata = json.dumps({"checkin_id": bobs, "offset": 0})
    edit = submit(
        live,
        ALICE,
        {"callback_id": ViewId.ENTRY_EDIT.value, "private_metadata": metadata},
        {"q_learned": {"answer": {"type": "plain_text_input", "value": "Hijacked"}}},
    )
    assert edit["response_action"] == "errors"
    visibility = submit(
        live,
        ALICE,
        {"callback_id": ViewId.ENTRY_VISIBILITY.value, "private_metadata": metadata},
        {
            "visibility": {
                "visibility": {
                    "type": "radio_buttons",
                    "selected_option": {"value": "anonymous"},
                }
            }
        },
    )
    assert visibility["response_action"] == "errors"
    submit(
        live, ALICE, {"callback_id": ViewId.ENTRY_DELETE.value, "private_metadata": metadata}, {}
    )

    assert answer_of(live, bobs) == "Bob's learning about arrears"
    assert live.scalar("SELECT visibility FROM checkins WHERE id = :i", i=bobs) == "team"
    assert live.scalar("SELECT count(*) FROM audit_events WHERE action LIKE 'checkin.%'") == 0


def test_show_older_pages_through_every_entry(live: Live) -> None:
    for n in range(1, 8):
        share(live, ALICE, f"Learning number {n}", "team", [])
    text, blocks = open_home(live, ALICE)
    assert "Learning number 7" in text and "Learning number 2" not in text
    assert "Show newer" not in button_labels(blocks)

    before = len(published(live, ALICE))
    press(live, ALICE, button(blocks, "Show older"))
    older = republished(live, ALICE, before)
    assert "Learning number 2" in older and "Learning number 1" in older
    assert "Learning number 3" not in older
    labels = button_labels(home_blocks(live, ALICE))
    assert "Show newer" in labels and "Show older" not in labels

    # A change made on the older page comes back to that page.
    modal = press_for_modal(live, ALICE, "Change who can see it")
    before = len(published(live, ALICE))
    submit(live, ALICE, modal, fill(modal, {"Who can see this?": "The alliance, with my name"}))
    assert "Learning number 1" in republished(live, ALICE, before)


# ------------------------------------------------------------------------- edited DM reply


def _reply(live: Live, user: str, text: str) -> tuple[str, int]:
    ts = new_ts()
    before = live.scalar("SELECT count(*) FROM checkins") or 0
    assert live.post(message_im(text, user_id=user, ts=ts)).status_code == 200
    wait_until(lambda: (live.scalar("SELECT count(*) FROM checkins") or 0) > before)
    checkin_id = live.scalar("SELECT max(id) FROM checkins")
    return ts, checkin_id


def _dms(live: Live, user: str) -> list[str]:
    return [
        c.params.get("text", "")
        for c in live.slack.calls("chat.postMessage")
        if c.params.get("channel") in (user, f"D{user}")
    ]


def test_editing_a_dm_reply_edits_its_entry_without_a_second_thanks(live: Live) -> None:
    ts, checkin_id = _reply(live, ALICE, "Ringing ahead helped the discharge")
    wait_until(lambda: len(_dms(live, ALICE)) == 1)  # the one "saved" answer
    edit = message_changed_im(
        ts,
        f"Ringing ahead helped the discharge, on {PHONE}",
        "Ringing ahead helped the discharge",
        user_id=ALICE,
    )
    assert live.post(edit).status_code == 200
    stored = answer_of(live, checkin_id)  # stored before the 200
    assert stored == "Ringing ahead helped the discharge, on [phone number]"
    wait_until(lambda: len(_dms(live, ALICE)) == 2)
    assert "1 phone number" in _dms(live, ALICE)[-1]
    assert "Thanks" not in _dms(live, ALICE)[-1]

    # Slack delivering the same edit again changes and audits nothing, and says nothing.
    assert live.post(edit).status_code == 200
    assert live.post(message_im("a later message", user_id=BOB)).status_code == 200
    wait_until(lambda: live.scalar("SELECT count(*) FROM checkins") == 2)
    assert len(_dms(live, ALICE)) == 2
    (row,) = audit(live, "checkin.edited")
    assert row.target == f"checkin:{checkin_id}"
    assert details(row) == {"source": "dm_edit", "redactions": 1}
    assert live.scalar("SELECT count(*) FROM checkins WHERE member_id IS NOT NULL") == 2


def test_a_plain_edit_is_silent_and_a_forged_editor_changes_nothing(
    live: Live,
) -> None:
    ts, checkin_id = _reply(live, ALICE, "Joint visits saved a week")
    wait_until(lambda: len(_dms(live, ALICE)) == 1)
    assert (
        live.post(
            message_changed_im(ts, "Joint visits saved two weeks", "x", user_id=ALICE)
        ).status_code
        == 200
    )
    assert answer_of(live, checkin_id) == "Joint visits saved two weeks"
    # BOB's client cannot edit ALICE's message; a forged event naming BOB finds no entry of his.
    assert (
        live.post(
            message_changed_im(ts, "Hijacked", "x", user_id=BOB, channel=f"D{ALICE}")
        ).status_code
        == 200
    )
    assert answer_of(live, checkin_id) == "Joint visits saved two weeks"
    assert len(audit(live, "checkin.edited")) == 1
    assert len(_dms(live, ALICE)) == 1


def test_editing_a_dm_reply_after_seven_days_says_why_it_changed_nothing(
    make_live: Callable[..., Live],
) -> None:
    clock = Clock_(MONDAY)
    live = make_live(clock=clock)
    ts, checkin_id = _reply(live, ALICE, "Learning from last week")
    wait_until(lambda: len(_dms(live, ALICE)) == 1)
    clock.advance(days=8)
    edit = message_changed_im(ts, "Rewritten much later", "Learning from last week", user_id=ALICE)
    assert live.post(edit).status_code == 200
    wait_until(lambda: len(_dms(live, ALICE)) == 2)
    assert "only edit a learning in the 7 days after you saved it" in _dms(live, ALICE)[-1]
    assert answer_of(live, checkin_id) == "Learning from last week"
    assert audit(live, "checkin.edited") == []


def test_add_detail_on_an_old_reply_is_refused_with_the_reason(
    make_live: Callable[..., Live],
) -> None:
    clock = Clock_(MONDAY)
    live = make_live(clock=clock)
    ts, checkin_id = _reply(live, ALICE, "A short note")
    wait_until(lambda: len(_dms(live, ALICE)) == 1)
    saved = next(
        c for c in live.slack.calls("chat.postMessage") if c.params.get("channel") == f"D{ALICE}"
    )
    detail = button(saved.json_field("blocks"), "Add detail")
    clock.advance(days=8)
    opened = len(live.slack.calls("views.open"))
    request = block_actions(
        detail["action_id"], detail["value"], user_id=ALICE, channel_id=f"D{ALICE}"
    )
    assert live.post(request).status_code == 200
    wait_until(
        lambda: any(
            "only edit a learning in the 7 days" in c.params.get("text", "")
            for c in live.slack.calls("chat.postEphemeral") + live.slack.calls("chat.postMessage")
        )
    )
    assert len(live.slack.calls("views.open")) == opened
    # Nor does a stale form submitted late change the entry.
    late = submit(
        live,
        ALICE,
        {
            "callback_id": ViewId.CHECKIN.value,
            "private_metadata": json.dumps({"checkin_id": checkin_id}),
        },
        {"q_learned": {"answer": {"type": "plain_text_input", "value": "Much later"}}},
    )
    assert late["response_action"] == "errors"
    assert answer_of(live, checkin_id) == "A short note"
    assert audit(live, "checkin.edited") == []


def test_deleting_an_entry_linked_to_a_barrier_keeps_the_barrier(live: Live) -> None:
    checkin_id = share(live, ALICE, "Discharge letters arrive after the person", "team", [])
    live.loop.services.escalations.raise_barrier(
        "slack",
        ALICE,
        title="Discharge letters arrive late",
        description="Letters reach housing after the person is home.",
        who_is_affected=None,
        agencies=["housing"],
        level="agency",
        anonymous=False,
        checkin_ids=[checkin_id],
    )
    open_home(live, ALICE)
    modal = press_for_modal(live, ALICE, "Delete")
    assert (
        "The barrier it was linked to stays open for the stewards, without this learning."
        in visible_text(modal["blocks"])
    )
    before = len(published(live, ALICE))
    submit(live, ALICE, modal, {})
    republished(live, ALICE, before)
    assert live.scalar("SELECT count(*) FROM checkins") == 0
    assert live.scalar("SELECT count(*) FROM escalations") == 1
    assert live.scalar("SELECT count(*) FROM escalation_links") == 0
    (row,) = audit(live, "checkin.deleted")
    assert details(row) == {"barriers_unlinked": 1}

"""Authors control each entry from Teams: `entries` lists them; Edit (a dialog, within 7 days,
redacted again), Change who can see it (a dialog) and Delete (a confirmation card).

Signed activities and invokes go into the live app; cards are read by their visible labels.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from conftest import Clock_
from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    JONI,
    MEGAN,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    teams_live_fixture,
)
from teams_ui import button, buttons, card_text, fill, inputs

NHS_NUMBER = "943 476 5919"
QUESTION = "What happened that you learned from?"
MONDAY = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
CARD = "application/vnd.microsoft.card.adaptive"


def reply(teams: TeamsLive, user: Any, text: str) -> int:
    """A plain reply, saved as a learning; its id."""
    teams.driver.post(teams.driver.message(user, text))
    return teams.scalar("SELECT max(id) FROM checkins")


def entries(teams: TeamsLive, user: Any, typed: str = "entries") -> dict[str, Any]:
    """Type `entries` to the bot; the card it answers with."""
    assert teams.driver.post(teams.driver.message(user, typed)).status_code == 200
    return teams.connector.last_send(user.chat_id).card


def entry_actions(card: dict[str, Any]) -> list[dict[str, dict[str, Any]]]:
    """Each entry's buttons by title, in the card's order (newest first)."""
    return [
        {a["title"]: a for a in item["actions"]}
        for container in card["body"]
        if container["type"] == "Container"
        for item in container["items"]
        if item["type"] == "ActionSet"
    ]


def press(teams: TeamsLive, user: Any, action: dict[str, Any]) -> dict[str, Any]:
    """Press an Action.Execute button; the invoke's answer."""
    return teams.driver.invoke(teams.driver.card_action(user, action))


def open_dialog(teams: TeamsLive, user: Any, action: dict[str, Any]) -> dict[str, Any]:
    """Press a button that opens a dialog; the task/fetch answer."""
    return teams.driver.invoke(teams.driver.task_fetch(user, action))


def dialog_card(body: dict[str, Any]) -> dict[str, Any]:
    task = body["task"]
    assert task["type"] == "continue", body
    return task["value"]["card"]["content"]


def answer_of(teams: TeamsLive, checkin_id: int) -> str:
    raw = teams.scalar("SELECT answers FROM checkins WHERE id = :i", i=checkin_id)
    return (raw if isinstance(raw, dict) else json.loads(raw))["learned"]


def audit(teams: TeamsLive, action: str) -> list[Any]:
    return teams.rows(
        "SELECT actor, target, details FROM audit_events WHERE action = :a ORDER BY id", a=action
    )


def details(row: Any) -> dict[str, Any]:
    return row.details if isinstance(row.details, dict) else json.loads(row.details)


def test_entries_lists_only_the_persons_own_with_who_can_see_each(teams_live: TeamsLive) -> None:
    teams = teams_live
    teams.install(MEGAN)
    teams.install(JONI)
    reply(teams, MEGAN, "Calling the ward first saved a visit.")
    reply(teams, MEGAN, "Joint visits with housing worked well.")
    reply(teams, JONI, "Joni's note about rent arrears.")

    card = entries(teams, MEGAN)
    said = card_text(card)
    assert "Joint visits with housing worked well." in said
    assert "Calling the ward first saved a visit." in said
    assert said.index("Joint visits") < said.index("Calling the ward")  # newest first
    assert "rent arrears" not in said
    assert "Who can see it: **Just my team** — people in NHS Community Team, with your name" in (
        said
    )
    assert "Digests already posted are not changed." in said
    assert [list(a) for a in entry_actions(card)] == [
        ["Edit", "Change who can see it", "Delete"],
        ["Edit", "Change who can see it", "Delete"],
    ]
    assert card_text(entries(teams, MEGAN, "my entries")) == said
    # "entries" followed by more words is a learning, not the command.
    before = teams.scalar("SELECT count(*) FROM checkins")
    teams.driver.post(teams.driver.message(MEGAN, "entries in the ward log were wrong"))
    assert teams.scalar("SELECT count(*) FROM checkins") == before + 1


def test_editing_from_teams_redacts_again_and_is_audited(teams_live: TeamsLive) -> None:
    teams = teams_live
    teams.install(MEGAN)
    checkin_id = reply(teams, MEGAN, "Discharge stalled over the weekend.")
    (actions,) = entry_actions(entries(teams, MEGAN))

    form = dialog_card(open_dialog(teams, MEGAN, actions["Edit"]))
    assert inputs(form)[QUESTION]["value"] == "Discharge stalled over the weekend."
    data = fill(
        form,
        {QUESTION: f"Discharge stalled over the weekend; NHS no {NHS_NUMBER}."},
        submit="Save changes",
    )
    assert teams.driver.invoke(teams.driver.task_submit(MEGAN, data)) == {}

    stored = answer_of(teams, checkin_id)
    assert NHS_NUMBER not in stored and "[NHS number]" in stored
    said = card_text(teams.connector.last_send(MEGAN.chat_id).card)
    assert "Your changes are saved" in said and "NHS number" in said
    assert "Digests already posted are not changed." in said
    (row,) = audit(teams, "checkin.edited")
    assert row.actor == f"teams:{MEGAN.aad}" and row.target == f"checkin:{checkin_id}"
    assert details(row) == {"source": "teams_card", "redactions": 1}


def test_changing_who_can_see_and_deleting_from_teams(teams_live: TeamsLive) -> None:
    teams = teams_live
    teams.install(MEGAN)
    keep = reply(teams, MEGAN, "A learning to keep.")
    gone = reply(teams, MEGAN, "A learning to delete.")
    newest, _ = entry_actions(entries(teams, MEGAN))

    form = dialog_card(open_dialog(teams, MEGAN, newest["Change who can see it"]))
    assert "Digests already posted are not changed." in card_text(form)
    data = fill(form, {"Who can see this?": "The alliance, anonymously"}, "Save who can see it")
    assert teams.driver.invoke(teams.driver.task_submit(MEGAN, data)) == {}
    assert teams.scalar("SELECT visibility FROM checkins WHERE id = :i", i=gone) == "anonymous"
    said = card_text(teams.connector.last_send(MEGAN.chat_id).card)
    assert "Saved: The alliance, anonymously. Digests already posted are not changed." in said

    confirm = press(teams, MEGAN, newest["Delete"])
    assert confirm["type"] == CARD
    asked = card_text(confirm["value"])
    assert "Delete this learning?" in asked and "A learning to delete." in asked
    assert "Digests already posted are not changed." in asked
    assert teams.scalar("SELECT count(*) FROM checkins") == 2  # not until confirmed

    kept = press(teams, MEGAN, button(confirm["value"], "Keep it"))
    assert "Nothing was deleted." in card_text(kept["value"])
    done = press(teams, MEGAN, button(confirm["value"], "Delete this learning"))
    said = card_text(done["value"])
    assert "The learning is deleted. Digests already posted are not changed." in said
    assert "A learning to delete." not in said and "A learning to keep." in said
    assert [r.id for r in teams.rows("SELECT id FROM checkins")] == [keep]
    assert [r.target for r in audit(teams, "checkin.deleted")] == [f"checkin:{gone}"]
    assert [details(r) for r in audit(teams, "checkin.visibility_changed")] == [
        {"before": "team", "after": "anonymous"}
    ]


def test_someone_elses_entry_id_changes_nothing_on_teams(teams_live: TeamsLive) -> None:
    teams = teams_live
    teams.install(MEGAN)
    teams.install(JONI)
    megans = reply(teams, MEGAN, "Megan's learning about the ward.")
    (actions,) = entry_actions(entries(teams, MEGAN))
    refused = "That learning no longer exists (or isn't yours), so nothing was changed."

    # JONI replays each of Megan's buttons: every one is refused, nothing is shown or changed.
    assert open_dialog(teams, JONI, actions["Edit"])["task"] == {
        "type": "message",
        "value": refused,
    }
    assert open_dialog(teams, JONI, actions["Change who can see it"])["task"]["value"] == refused
    assert press(teams, JONI, actions["Delete"])["value"] == refused
    forged = {"action": "entry.visibility.save", "checkin_id": megans, "visibility": "anonymous"}
    assert teams.driver.invoke(teams.driver.task_submit(JONI, forged))["task"]["value"] == refused
    edit = {"action": "entry.save", "checkin_id": megans, "q_learned": "Hijacked"}
    assert teams.driver.invoke(teams.driver.task_submit(JONI, edit))["task"]["value"] == refused
    delete = {"verb": "entry.delete_confirmed", "data": {"checkin_id": megans}}
    assert press(teams, JONI, delete)["value"] == refused

    assert answer_of(teams, megans) == "Megan's learning about the ward."
    assert teams.scalar("SELECT visibility FROM checkins WHERE id = :i", i=megans) == "team"
    assert teams.scalar("SELECT count(*) FROM audit_events WHERE action LIKE 'checkin.%'") == 0


def test_after_seven_days_teams_offers_no_edit_and_refuses_one(
    make_teams_live: Callable[..., TeamsLive],
) -> None:
    clock = Clock_(MONDAY)
    teams = make_teams_live(clock=clock)
    teams.install(MEGAN)
    checkin_id = reply(teams, MEGAN, "An older learning.")
    (fresh,) = entry_actions(entries(teams, MEGAN))
    clock.advance(days=8)

    card = entries(teams, MEGAN)
    (actions,) = entry_actions(card)
    assert list(actions) == ["Change who can see it", "Delete"]
    assert "Editing closed on 7 December 2026, 7 days after you saved it." in card_text(card)
    late = open_dialog(teams, MEGAN, fresh["Edit"])  # the button from last week's card
    assert "only edit a learning in the 7 days after you saved it" in late["task"]["value"]
    edit = {"action": "entry.save", "checkin_id": checkin_id, "q_learned": "Rewritten"}
    late = teams.driver.invoke(teams.driver.task_submit(MEGAN, edit))
    assert "7 days" in late["task"]["value"]
    assert answer_of(teams, checkin_id) == "An older learning."


def test_show_older_pages_through_every_entry_on_teams(teams_live: TeamsLive) -> None:
    teams = teams_live
    teams.install(MEGAN)
    for n in range(1, 7):
        reply(teams, MEGAN, f"Learning number {n}.")
    card = entries(teams, MEGAN)
    assert "Learning number 6." in card_text(card) and "Learning number 1." not in card_text(card)
    assert "Show newer" not in buttons(card)

    older = press(teams, MEGAN, button(card, "Show older"))["value"]
    assert "Learning number 1." in card_text(older)
    assert "Learning number 2." not in card_text(older)
    assert "Show older" not in buttons(older)
    newer = press(teams, MEGAN, button(older, "Show newer"))["value"]
    assert card_text(newer) == card_text(card)

"""The privacy panel on Teams: see, export (with Teams' file consent) and delete."""

from __future__ import annotations

import json

from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    JONI,
    MEGAN,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    teams_live_fixture,
)
from teams_ui import button, card_text

FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"


def press(teams: TeamsLive, user, card: dict, title: str) -> dict:
    """Press an Action.Execute button; the card Teams shows in its place."""
    answer = teams.driver.invoke(teams.driver.card_action(user, button(card, title)))
    assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
    return answer["value"]


def attachments(teams: TeamsLive, user, content_type: str) -> list[dict]:
    return [
        a
        for call in teams.connector.sends(user.chat_id)
        for a in call.body.get("attachments") or []
        if a.get("contentType") == content_type
    ]


def test_export_reaches_the_person_after_they_allow_it(teams_live: TeamsLive) -> None:
    teams = teams_live
    teams.install(MEGAN)
    teams.driver.post(teams.driver.message(MEGAN, "We learned to call the ward before visiting."))
    teams.driver.post(teams.driver.message(MEGAN, "privacy"))
    panel = teams.connector.last_send(MEGAN.chat_id).card
    assert "1 learning" in card_text(panel)

    exported = press(teams, MEGAN, panel, "Export my data")
    assert "press **Allow**" in card_text(exported)
    (consent,) = attachments(teams, MEGAN, FILE_CONSENT)
    assert consent["name"].endswith(".json")
    context = consent["content"]["acceptContext"]

    # Someone else replaying the consent gets nothing.
    upload = teams.connector.upload_url("joni")
    teams.driver.post(teams.driver.file_consent(JONI, context, upload))
    assert teams.connector.uploads == []

    teams.driver.post(teams.driver.file_consent(MEGAN, context, teams.connector.upload_url()))
    (path, content, headers) = teams.connector.uploads[0]
    exported_json = json.loads(content)
    assert "call the ward" in json.dumps(exported_json)
    assert headers["Content-Range"] == f"bytes 0-{len(content) - 1}/{len(content)}"
    assert attachments(teams, MEGAN, FILE_INFO)

    # The file is handed over once.
    teams.driver.post(teams.driver.file_consent(MEGAN, context, teams.connector.upload_url()))
    assert len(teams.connector.uploads) == 1
    assert "expired" in teams.connector.last_send(MEGAN.chat_id).text


def test_delete_removes_the_data_and_where_to_reach_them(teams_live: TeamsLive) -> None:
    teams = teams_live
    teams.install(MEGAN)
    teams.driver.post(teams.driver.message(MEGAN, "Joint visits helped a lot this week."))
    teams.driver.post(teams.driver.message(MEGAN, "privacy"))
    panel = teams.connector.last_send(MEGAN.chat_id).card

    confirm = press(teams, MEGAN, panel, "Delete my data")
    assert "Delete your LearnLoop data?" in card_text(confirm)
    done = press(teams, MEGAN, confirm, "Delete my 1 learning and profile")

    assert "Your LearnLoop data is deleted." in card_text(done)
    assert teams.scalar("SELECT count(*) FROM checkins") == 0
    assert (
        teams.scalar("SELECT count(*) FROM members WHERE platform_user_id = :u", u=MEGAN.aad) == 0
    )
    assert teams.scalar("SELECT count(*) FROM teams_conversations") == 0

"""A plain reply shared wider in one click, on Teams: signed activities into the live app."""

from __future__ import annotations

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


def saved_card(teams: TeamsLive) -> dict:
    teams.install(MEGAN)
    reply = teams.driver.message(MEGAN, "Texting works better than calling", "1700000099001")
    assert teams.driver.post(reply).status_code == 200
    [card] = [
        c.card
        for c in teams.connector.sends(MEGAN.chat_id)
        if c.cards and "Thank you — saved as a learning" in card_text(c.card)
    ]
    return card


def test_share_with_the_alliance_anonymously_updates_the_card(teams_live: TeamsLive) -> None:
    card = saved_card(teams_live)
    button(card, "Share with the alliance")  # both are offered
    pressed = teams_live.driver.invoke(
        teams_live.driver.card_action(MEGAN, button(card, "Share with the alliance anonymously"))
    )
    assert pressed["type"] == "application/vnd.microsoft.card.adaptive"
    said = card_text(pressed["value"])
    assert "shared with the alliance anonymously" in said
    assert "Share with the alliance" not in said
    assert teams_live.scalar("SELECT visibility FROM checkins") == "anonymous"
    assert (
        teams_live.scalar(
            "SELECT count(*) FROM audit_events WHERE action = 'checkin.visibility_changed'"
        )
        == 1
    )


def test_someone_else_pressing_it_changes_nothing(teams_live: TeamsLive) -> None:
    card = saved_card(teams_live)
    teams_live.install(JONI)
    answer = teams_live.driver.invoke(
        teams_live.driver.card_action(JONI, button(card, "Share with the alliance"))
    )
    assert "shared with the alliance" not in str(answer)
    assert teams_live.scalar("SELECT visibility FROM checkins") == "team"

"""Learning that flows back, on Teams: a manager's digest card and the practitioners' note.

Signed activities go into the live app; what Teams people receive is read back from the fake
Bot Connector. The NHS agency (Teams) has two members, under the threshold of three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from conftest import ALICE, BOB, Clock_
from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    JONI,
    MEGAN,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    mixed_alliance_data,
    teams_live_fixture,
)
from teams_ui import card_text

from bot.alliance import parse_alliance
from bot.domain.checkins import Source

THURSDAY = dt.datetime(2026, 12, 3, 15, 30, tzinfo=dt.UTC)
FRIDAY_NOTE = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)


def alliance() -> Any:
    data = mixed_alliance_data()
    data["agencies"][2]["managers"] = [JONI.aad]
    return parse_alliance(data)


def share(teams: TeamsLive, platform: str, user: str, text: str, visibility: str) -> None:
    teams.loop.services.checkins.submit(
        platform,
        user,
        answers={"learned": text},
        themes=[],
        visibility=visibility,
        source=Source.MODAL,
    )


def said_to(teams: TeamsLive, conversation: str) -> str:
    """Every card and text LearnLoop sent into a Teams conversation, as a person reads it."""
    parts = []
    for call in teams.connector.sends(conversation):
        parts.append(call.text)
        parts += [card_text(card) for card in call.cards]
    return "\n".join(parts)


def week(make_teams_live: Callable[..., TeamsLive]) -> TeamsLive:
    teams = make_teams_live(alliance=alliance(), clock=Clock_(THURSDAY))
    teams.install(MEGAN)
    teams.install(JONI)
    share(teams, "slack", ALICE, "Joint visits with the ward saved a week of waiting.", "alliance")
    share(teams, "slack", BOB, "Our letters still read like threats to tenants.", "team")
    share(teams, "teams", MEGAN.aad, "Asking where people sleep tonight changed it.", "anonymous")
    share(teams, "teams", JONI.aad, "The community bed list is a day out of date.", "team")
    teams.connector.clear()
    return teams


def test_a_teams_managers_digest_card_carries_the_alliance(
    make_teams_live: Callable[..., TeamsLive],
) -> None:
    teams = week(make_teams_live)
    digests = teams.loop.services.digests
    result = digests.send(digests.destination(f"manager:nhs:{JONI.aad}"))
    assert result.status == "posted", result
    said = said_to(teams, JONI.chat_id)
    assert "community bed list" in said  # its own agency's team entry, first
    assert "Across the alliance" in said
    assert said.index("community bed list") < said.index("Across the alliance")
    assert "Joint visits with the ward" in said  # Council Housing's, shared with the alliance
    assert "letters still read" not in said  # Council Housing's team-only entry
    # Two people in the NHS team: its anonymous entry is not quoted in its own outputs.
    assert "sleep tonight" not in said


def test_the_note_reaches_teams_and_digest_off_stops_it(
    make_teams_live: Callable[..., TeamsLive],
) -> None:
    teams = week(make_teams_live)
    driver, connector = teams.driver, teams.connector
    result = teams.loop.services.notes.send_due(FRIDAY_NOTE)
    assert result is not None and result.sent >= 2
    note = said_to(teams, MEGAN.chat_id)
    assert "What Test Alliance learned" in note
    assert "Joint visits with the ward" in note
    assert "sleep tonight" in note  # alliance-level: anonymous, and no agency with it
    assert "letters still read" not in note and "community bed list" not in note
    assert "**digest off**" in note

    driver.post(driver.message(MEGAN, "digest off"))
    assert "won't get the weekly alliance note" in connector.last_send(MEGAN.chat_id).text
    driver.post(driver.message(MEGAN, "digest"))
    assert "**digest on**" in connector.last_send(MEGAN.chat_id).text
    connector.clear()
    later = teams.loop.services.notes.send_due(FRIDAY_NOTE + dt.timedelta(days=7))
    assert later is not None and later.sent >= 1
    assert connector.sends(MEGAN.chat_id) == []
    assert connector.sends(JONI.chat_id)
    # "Digest …" in a longer sentence is a learning, not the command.
    before = teams.scalar("SELECT count(*) FROM checkins")
    driver.post(driver.message(MEGAN, "Digest of discharge letters took a whole morning"))
    assert teams.scalar("SELECT count(*) FROM checkins") == before + 1

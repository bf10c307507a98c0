"""`find …` typed to the bot in Teams: real signed activities into the live app, the answer read
from the fake connector by its visible text and button titles."""

from __future__ import annotations

import datetime as dt
from typing import Any

from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    JONI,
    MEGAN,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    teams_live_fixture,
)
from teams_ui import button, buttons, card_text

from bot.views.library import MORE_RESULTS
from storage.models import CheckinRow

START = dt.datetime(2026, 10, 5, 9, tzinfo=dt.UTC)


def seed(teams: TeamsLive, user: str, agency: str, said: str, visibility: str, days: int) -> None:
    with teams.loop.services.uow() as u:
        member = u.members.ensure("slack", user, agency)
        u.checkins.add(
            CheckinRow(
                member_id=member.id,
                agency_id=agency,
                question_set_id="hls-default",
                questions=[],
                answers={"learned": said},
                visibility=visibility,
                source="modal",
                created_at=START + dt.timedelta(days=days),
            ),
            [],
        )
        u.commit()


def typed(teams: TeamsLive, user: Any, text: str) -> dict[str, Any]:
    """Type `text` to the bot; the card it answers with."""
    assert teams.driver.post(teams.driver.message(user, text)).status_code == 200
    return teams.connector.last_send(user.chat_id).card


def test_find_on_teams_reads_what_the_asker_may_read_and_pages(teams_live: TeamsLive) -> None:
    teams = teams_live
    teams.install(MEGAN)
    teams.install(JONI)
    # Joni's plain reply is saved for her team (NHS Community Team), which Megan is in.
    assert teams.driver.post(teams.driver.message(JONI, "The pharmacy lost the script")).is_success
    seed(teams, "U0ALICE", "housing", "Pharmacy kept private to housing", "team", 1)
    for n in range(6):
        seed(teams, "U0CAROL", "hospital", f"Pharmacy lesson number {n}", "alliance", n)

    card = typed(teams, MEGAN, "find pharmacy")
    said = card_text(card)
    assert "Learnings matching" in said
    assert "The pharmacy lost the script" in said  # her own agency's, newest (saved today)
    assert "NHS Community Team" in said
    assert "private to housing" not in said
    assert "number 5" in said and "number 1" not in said
    assert MORE_RESULTS in buttons(card)

    more = teams.driver.invoke(teams.driver.card_action(MEGAN, button(card, MORE_RESULTS)))
    page = more["value"]
    assert "More learnings matching" in card_text(page)
    assert "number 1" in card_text(page) and "number 0" in card_text(page)
    assert MORE_RESULTS not in buttons(page)


def test_find_mistakes_on_teams_say_what_to_do(teams_live: TeamsLive) -> None:
    teams = teams_live
    teams.install(MEGAN)
    assert "Tell me what to look for" in card_text(typed(teams, MEGAN, "find"))
    assert "I don't know the theme" in card_text(typed(teams, MEGAN, 'find "x --theme Gardens'))
    assert "Nothing found for" in card_text(typed(teams, MEGAN, "find NEAR(* -"))


def test_a_long_message_opening_with_find_is_a_learning(teams_live: TeamsLive) -> None:
    teams = teams_live
    teams.install(MEGAN)
    before = teams.scalar("SELECT count(*) FROM checkins")
    teams.driver.post(
        teams.driver.message(
            MEGAN, "Find out who the GP is before discharge, it saves a whole day of calls"
        )
    )
    assert teams.scalar("SELECT count(*) FROM checkins") == before + 1

"""One alliance on Slack and Teams from one deployment: prompts, answers and the digest.

Housing and the hospital are on Slack, the NHS community team on Teams. Everyone is prompted on
their own platform, answers there, and the alliance digest — posted in a Slack channel and in a
Teams channel — covers both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from conftest import ALICE, BOB, CAROL, DAN, Clock_
from slack_requests import message_im
from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    JONI,
    MEGAN,
    STEWARDS_CHANNEL,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    mixed_alliance,
    teams_live_fixture,
)
from teams_ui import button, card_text, fill

from bot.domain.platforms import platform_of

THURSDAY = dt.datetime(2026, 12, 3, 15, 30, tzinfo=dt.UTC)


def alliance_with_digests() -> Any:
    """The mixed alliance with an alliance digest in a Slack channel and in a Teams channel."""
    return mixed_alliance(
        digests=[
            {"id": "alliance", "channel": "C0STEWARDS", "scope": "alliance"},
            {"id": "alliance-teams", "channel": STEWARDS_CHANNEL, "scope": "alliance"},
        ]
    )


def share_on_teams(teams: TeamsLive, learning: str, visibility: str) -> None:
    """Megan answers the prompt card's form."""
    prompt = teams.connector.last_send(MEGAN.chat_id).card
    driver = teams.driver
    opened = driver.invoke(driver.task_fetch(MEGAN, button(prompt, "Share a learning")))
    form = opened["task"]["value"]["card"]["content"]
    data = fill(
        form,
        {
            "What happened that you learned from?": learning,
            "Themes": ["Hospital discharge"],
            "Who can see this?": visibility,
        },
        submit="Save learning",
    )
    assert driver.invoke(driver.task_submit(MEGAN, data)) == {}


def test_prompts_go_to_each_person_on_their_own_platform(
    make_teams_live: Callable[..., TeamsLive],
) -> None:
    teams = make_teams_live(alliance=alliance_with_digests(), clock=Clock_(THURSDAY))
    teams.install(MEGAN)
    teams.install(JONI)
    teams.slack.reset()
    teams.connector.clear()

    reports = teams.loop.services.prompts.send(now=True)

    assert sum(r.sent for r in reports) == 6
    slack_dms = {c.params["channel"] for c in teams.slack.calls("chat.postMessage")}
    assert slack_dms == {ALICE, BOB, CAROL, DAN}
    assert all(platform_of(c) == "slack" for c in slack_dms)
    teams_chats = {c.conversation_id for c in teams.connector.sends()}
    assert teams_chats == {MEGAN.chat_id, JONI.chat_id}
    for call in teams.connector.sends():
        assert "What did we learn this week?" in card_text(call.card)


def test_answers_from_both_platforms_reach_one_alliance_digest(
    make_teams_live: Callable[..., TeamsLive],
) -> None:
    clock = Clock_(THURSDAY)
    teams = make_teams_live(alliance=alliance_with_digests(), clock=clock)
    teams.install(MEGAN)
    driver = teams.driver
    assert driver.post(driver.channel_install(MEGAN, STEWARDS_CHANNEL)).status_code == 200
    teams.loop.services.prompts.send(now=True)

    # Alice replies on Slack; Megan fills the card form on Teams.
    slack_reply = message_im(
        "Joint visits with the ward cut two days off discharge.", user_id=ALICE
    )
    assert teams.live.post(slack_reply).status_code == 200
    teams.slack.wait_for("chat.postMessage", count=5)
    share_on_teams(
        teams, "A shared care plan got someone home on Friday.", "The alliance, with my name"
    )
    assert teams.rows("SELECT agency_id, source FROM checkins ORDER BY id") == [
        ("housing", "dm_reply"),
        ("nhs", "teams_card"),
    ]

    clock.advance(days=1, hours=18)  # the digest's week is over
    digests = teams.loop.services.digests
    teams.connector.clear()
    for dest_id in ("alliance", "alliance-teams"):
        result = digests.send(digests.destination(dest_id))
        assert result.status == "posted", result

    # On Slack, in the stewards' channel.
    posted = [
        c for c in teams.slack.calls("chat.postMessage") if c.params["channel"] == "C0STEWARDS"
    ]
    assert posted, "no digest in the Slack channel"
    slack_text = str(posted[0].params.get("blocks"))
    assert "2 learnings" in slack_text or "learnings" in slack_text
    # On Teams, in the stewards' channel, from the same view-model.
    card = teams.connector.sends(STEWARDS_CHANNEL)[0].card
    said = card_text(card)
    assert "NHS Community Team" in said
    assert "shared care plan" in said  # Megan shared it with the alliance, with her name
    assert "Megan Bowen" in said
    assert teams.scalar("SELECT count(*) FROM digests WHERE status = 'posted'") == 2

"""'Raise as a barrier' from the stewards' digest on Teams: the card's button opens the dialog."""

from __future__ import annotations

from conftest import ALICE
from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    JONI,
    MEGAN,
    STEWARDS_CHANNEL,
    TEAMS_STEWARD,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    teams_live_fixture,
)
from teams_ui import button, fill, inputs

from bot.domain.checkins import Source
from bot.teams import render
from bot.views.digest import digest_message

SAID = [
    ("teams", MEGAN.aad, "No pharmacy will register people placed in TA out of area"),
    ("slack", ALICE, "Temporary accommodation out of area: no pharmacy would register him"),
]


def test_a_teams_steward_raises_a_recurring_barrier_from_the_digest(
    teams_live: TeamsLive,
) -> None:
    services = teams_live.loop.services
    for platform, user_id, barrier in SAID:
        services.checkins.submit(
            platform,
            user_id,
            answers={"learned": "Ringing ahead helps", "got_in_the_way": barrier},
            themes=[],
            visibility="alliance",
            source=Source.MODAL,
        )
    digests = services.digests
    view = digests.build(digests.destination("alliance"))
    [item] = view.recurring
    assert item.agencies == ("Council Housing", "NHS Community Team")
    card = render.card_dict(render.card(digest_message(view)))
    driver = teams_live.driver

    # Someone who is not a steward is told who may; nothing is raised.
    refused = driver.invoke(driver.task_fetch(JONI, button(card, "Raise as a barrier")))
    assert "Only system stewards" in str(refused)

    opened = driver.invoke(
        driver.task_fetch(TEAMS_STEWARD, button(card, "Raise as a barrier"), STEWARDS_CHANNEL)
    )
    form = opened["task"]["value"]["card"]["content"]
    assert "pharmacy" in inputs(form)["What gets in the way?"]["value"]
    data = fill(form, {"Title": "No pharmacy out of area"}, submit="Raise barrier")
    assert driver.invoke(driver.task_submit(TEAMS_STEWARD, data)) == {}
    links = teams_live.rows("SELECT checkin_id, linked_via FROM escalation_links")
    assert sorted(r.checkin_id for r in links) == sorted(item.checkin_ids)
    assert {r.linked_via for r in links} == {"recurring"}

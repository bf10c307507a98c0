"""Escalations across Slack and Teams: one barrier register, the same buttons and checks.

A Teams member raises a barrier whose card lives in a Slack channel; a Slack steward and a Teams
steward act on the same barrier; the raiser hears every change on Teams. A barrier whose ladder
channel is on Teams gets its card there, with the same buttons.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from conftest import ALICE, STEWARD
from slack_requests import block_actions
from slack_ui import button as slack_button
from slack_ui import wait_until
from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    JONI,
    MEGAN,
    STEWARDS_CHANNEL,
    TEAMS_STEWARD,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    mixed_alliance,
    teams_live_fixture,
)
from teams_ui import button, buttons, card_text, fill, inputs

from bot.domain.escalation import Action
from bot.views.barriers import BarrierAction

LEADS = "C0LEADS"


def barrier(teams: TeamsLive) -> Any:
    """The one barrier: status, level, version, where its card is."""
    return teams.rows("SELECT id, status, level, version, channel_id, message_ts FROM escalations")[
        0
    ]


def slack_card(teams: TeamsLive, channel: str, ts: str) -> list[dict[str, Any]]:
    """A Slack message's blocks as they are now (last update, else as posted)."""
    updates = [
        c
        for c in teams.slack.calls("chat.update")
        if c.params["channel"] == channel and c.params["ts"] == ts
    ]
    if updates:
        return updates[-1].json_field("blocks")
    return next(m for m in teams.slack.messages(channel) if m["ts"] == ts).get("blocks", [])


def teams_notices(teams: TeamsLive, user: Any) -> str:
    """Everything LearnLoop told a Teams user, as text."""
    return "\n".join(
        card_text(c.card) if c.cards else c.text for c in teams.connector.sends(user.chat_id)
    )


def raise_on_teams(teams: TeamsLive, user: Any) -> None:
    """`escalate …` typed on Teams, the form filled in and sent."""
    driver = teams.driver
    assert (
        driver.post(driver.message(user, "escalate Discharge letters arrive late")).status_code
        == 200
    )
    launcher = teams.connector.last_send(user.chat_id).card
    opened = driver.invoke(driver.task_fetch(user, button(launcher, "Raise a barrier")))
    form = opened["task"]["value"]["card"]["content"]
    assert inputs(form)["What gets in the way?"]["value"] == "Discharge letters arrive late"
    data = fill(
        form,
        {
            "Title": "Discharge letters arrive after people leave",
            "Agencies affected": ["NHS Community Team", "Council Housing"],
            "Show my name to stewards?": "Yes, show my name",
        },
        submit="Raise barrier",
    )
    assert driver.invoke(driver.task_submit(user, data)) == {}


def open_from_list(teams: TeamsLive, user: Any) -> dict[str, Any]:
    """`barriers`, then "Open #1": the barrier's card in the person's chat."""
    driver = teams.driver
    driver.post(driver.message(user, "barriers"))
    listing = teams.connector.last_send(user.chat_id).card
    assert "Discharge letters arrive after people leave" in card_text(listing)
    opened = driver.invoke(driver.card_action(user, button(listing, "Open #1")))
    return opened["value"]


def test_slack_and_teams_stewards_act_on_the_same_barrier(teams_live: TeamsLive) -> None:
    teams = teams_live
    for person in (MEGAN, JONI, TEAMS_STEWARD):
        teams.install(person)

    raise_on_teams(teams, MEGAN)

    row = barrier(teams)
    assert (row.status, row.level, row.channel_id) == ("open", "agency", LEADS)
    assert "is now with **Agency leadership**" in teams_notices(teams, MEGAN)

    # A Slack steward acknowledges on the card in Slack.
    blocks = slack_card(teams, LEADS, row.message_ts)
    ack = slack_button(blocks, "Acknowledge")
    resp = teams.live.post(
        block_actions(
            BarrierAction.ACKNOWLEDGE,
            ack["value"],
            user_id=STEWARD,
            channel_id=LEADS,
            message_ts=row.message_ts,
        )
    )
    assert resp.status_code == 200
    wait_until(lambda: barrier(teams).status == "acknowledged")
    wait_until(lambda: "was acknowledged" in teams_notices(teams, MEGAN))

    # A Teams steward opens the same barrier from `barriers` and moves it up.
    leads_ts = row.message_ts
    card = open_from_list(teams, TEAMS_STEWARD)
    assert "Acknowledged" in card_text(card)
    assert set(buttons(card)) >= {"Assign", "Resolve", "Close", "Escalate up to Steward group"}
    moved = teams.driver.invoke(
        teams.driver.card_action(TEAMS_STEWARD, button(card, "Escalate up to Steward group"))
    )
    assert "Steward group" in card_text(moved["value"])
    row = barrier(teams)
    assert (row.level, row.channel_id) == ("alliance", "C0STEWARDS")
    # The Slack card at the old level became a pointer; a new card is in the stewards' channel.
    assert "moved up to" in json.dumps(slack_card(teams, LEADS, leads_ts))
    assert "Discharge letters" in json.dumps(slack_card(teams, "C0STEWARDS", row.message_ts))
    assert "has gone up to **Steward group**" in teams_notices(teams, MEGAN)

    # Only stewards may act: Joni sees the card but is told who can, and nothing changes.
    before = barrier(teams)
    joni_card = open_from_list(teams, JONI)
    refused = teams.driver.invoke(teams.driver.task_fetch(JONI, button(joni_card, "Resolve")))
    assert (
        "Only system stewards or LearnLoop admins can resolve a barrier"
        in (refused["task"]["value"])
    )
    assert barrier(teams) == before

    # The Teams steward resolves it with what was done; Megan hears the outcome on Teams.
    card = open_from_list(teams, TEAMS_STEWARD)
    opened = teams.driver.invoke(teams.driver.task_fetch(TEAMS_STEWARD, button(card, "Resolve")))
    form = opened["task"]["value"]["card"]["content"]
    data = fill(form, {"What did we do?": "Wards now send letters on the day."}, submit="Resolve")
    assert teams.driver.invoke(teams.driver.task_submit(TEAMS_STEWARD, data)) == {}
    assert barrier(teams).status == "resolved"
    notices = teams_notices(teams, MEGAN)
    assert "is resolved" in notices and "Wards now send letters on the day." in notices
    actors = teams.rows(
        "SELECT m.platform FROM escalation_events e JOIN members m ON m.id = e.actor_id "
        "WHERE e.kind != 'raised' ORDER BY e.id"
    )
    assert [p for (p,) in actors] == ["slack", "teams", "teams"]


def test_a_card_pressed_on_an_old_version_is_refused_and_refreshed(teams_live: TeamsLive) -> None:
    teams = teams_live
    for person in (MEGAN, TEAMS_STEWARD):
        teams.install(person)
    raise_on_teams(teams, MEGAN)
    stale_card = open_from_list(teams, TEAMS_STEWARD)
    escalations = teams.loop.services.escalations
    # A Slack steward acknowledges first.
    escalations.publish(escalations.act("slack", STEWARD, barrier(teams).id, 1, Action.ACKNOWLEDGE))
    refused = teams.driver.invoke(
        teams.driver.card_action(TEAMS_STEWARD, button(stale_card, "Acknowledge"))
    )
    assert refused["type"] == "application/vnd.microsoft.activity.message"
    assert barrier(teams).status == "acknowledged"
    assert teams.scalar("SELECT count(*) FROM escalation_events WHERE kind = 'acknowledged'") == 1


def test_a_barrier_card_in_a_teams_channel(make_teams_live: Callable[..., TeamsLive]) -> None:
    ladder = [
        {"level": "agency", "name": "Agency leadership", "channel": STEWARDS_CHANNEL},
        {"level": "alliance", "name": "Steward group", "channel": "C0STEWARDS"},
    ]
    teams = make_teams_live(alliance=mixed_alliance(escalation_ladder=ladder))
    teams.install(TEAMS_STEWARD)
    driver = teams.driver
    assert driver.post(driver.channel_install(TEAMS_STEWARD, STEWARDS_CHANNEL)).status_code == 200
    services = teams.loop.services
    change = services.escalations.raise_barrier(
        "slack",
        ALICE,
        title="No step-down beds at weekends",
        description="People wait on wards over the weekend.",
        who_is_affected=None,
        agencies=["housing"],
        level="agency",
        anonymous=True,
        checkin_ids=[],
    )
    services.escalations.publish(change)

    posted = teams.connector.sends(STEWARDS_CHANNEL)[-1]
    card = posted.card
    said = card_text(card)
    assert "No step-down beds at weekends" in said
    assert "Someone who asked not to be named" in said
    assert "Alice" not in json.dumps(card)
    assert barrier(teams).channel_id.startswith("teams:")

    pressed = driver.invoke(
        driver.card_action(TEAMS_STEWARD, button(card, "Acknowledge"), channel_id=STEWARDS_CHANNEL)
    )
    assert pressed["type"] == "application/vnd.microsoft.activity.message"
    update = teams.connector.updates(STEWARDS_CHANNEL)[-1]
    assert update.activity_id == posted.activity_id
    assert "Acknowledged" in card_text(update.card)
    # The anonymous raiser on Slack still hears about it, on Slack.
    wait_until(
        lambda: any(
            "acknowledged" in json.dumps(c.json_field("blocks") or []) + c.params.get("text", "")
            for c in teams.slack.calls("chat.postMessage")
            if c.params["channel"] == ALICE
        )
    )

"""`admin add|remove|list` typed to the bot in Teams: real activities, the fake Bot Connector."""

from __future__ import annotations

from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    JONI,
    MEGAN,
    OUTSIDER,
    TEAMS_STEWARD,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    mixed_alliance_data,
)
from teams_requests import TeamsDriver, TeamsUser
from teams_ui import card_text

from bot.alliance import parse_alliance

ADMIN = TeamsUser("a0a0a0a0-1111-4222-8333-999999999999", "Ada Admin")


def start(make_teams_live: object) -> TeamsLive:
    data = mixed_alliance_data()
    data["roles"]["admins"] = [*data["roles"]["admins"], ADMIN.aad]
    live = make_teams_live(parse_alliance(data))  # type: ignore[operator]
    return live


def typed(driver: TeamsDriver, user: TeamsUser, text: str, mention: TeamsUser | None = None):
    activity = driver.message(user, text)
    if mention is not None:
        activity["entities"] = [
            *(activity.get("entities") or []),
            {
                "type": "mention",
                "mentioned": {"id": mention.teams_id, "name": mention.name},
                "text": f"<at>{mention.name}</at>",
            },
        ]
    response = driver.post(activity)
    assert response.status_code == 200, response.text


def test_an_admin_adds_a_mentioned_person_who_can_then_check_in(make_teams_live: object) -> None:
    live = start(make_teams_live)
    live.install(ADMIN)
    live.install(OUTSIDER)
    # The mention carries the Teams user id; the chat's roster gives the Entra object id.
    live.connector.set_roster(ADMIN.chat_id, [OUTSIDER.account(), ADMIN.account()])

    typed(live.driver, ADMIN, f"admin add <at>{OUTSIDER.name}</at> nhs", mention=OUTSIDER)

    said = live.connector.last_send(ADMIN.chat_id).text
    assert "is now a member of" in said and "NHS Community Team" in said
    agency = live.scalar(
        "SELECT agency_id FROM members WHERE platform_user_id = :u", u=OUTSIDER.aad
    )
    assert agency == "nhs"
    typed(live.driver, OUTSIDER, "checkin")
    assert "not set up as a member" not in live.connector.last_send(OUTSIDER.chat_id).text

    typed(live.driver, ADMIN, f"admin remove {OUTSIDER.aad}")
    assert "no longer in" in live.connector.last_send(ADMIN.chat_id).text


def test_admin_add_by_someone_who_is_not_an_admin_is_refused(make_teams_live: object) -> None:
    live = start(make_teams_live)
    live.install(MEGAN)
    typed(live.driver, MEGAN, f"admin add {TEAMS_STEWARD.aad} nhs")
    assert "Only LearnLoop admins" in live.connector.last_send(MEGAN.chat_id).text
    assert live.scalar("SELECT count(*) FROM agency_additions") == 0


def test_teams_members_by_address_are_looked_up_in_graph(make_teams_live: object) -> None:
    data = mixed_alliance_data()
    nhs = data["agencies"][-1]
    nhs["members"] = [MEGAN.aad, "joni@nhs.example", "gone@nhs.example"]
    data["roles"]["admins"] = [ADMIN.aad]
    live = make_teams_live(parse_alliance(data))  # type: ignore[operator]
    live.connector.graph_users["joni@nhs.example"] = JONI.aad
    live.install(ADMIN)

    cohort = live.loop.alliance.cohorts[0]
    members = live.loop.services.prompts.roster.cohort_members(cohort)

    assert {m.user_id for m in members if m.agency_id == "nhs"} == {MEGAN.aad, JONI.aad}
    asked = [c for c in live.connector.calls if c.kind == "graph_user"]
    assert {c.conversation_id for c in asked} == {"joni@nhs.example", "gone@nhs.example"}
    assert all((c.headers.get("Authorization") or "").startswith("Bearer ") for c in asked)
    told = card_text(live.connector.last_send(ADMIN.chat_id).card)
    assert "gone@nhs.example" in told and "NHS Community Team" in told

"""`admin add|remove|list` typed to the bot in Teams: real activities, the fake Bot Connector."""

from __future__ import annotations

import jwt
import pytest
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
from teams_requests import TENANT_ID, TeamsDriver, TeamsUser
from teams_ui import card_text

from bot.alliance import parse_alliance
from bot.settings import ConfigError

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


OTHER_TENANT = "0c0c0c0c-2222-4333-8444-555566667777"  # the county council's own tenant
COUNCIL_PERSON = TeamsUser("c0c0c0c0-3333-4444-8555-666677778888", "Cal Council")


def test_an_agency_on_another_tenant_is_looked_up_in_its_own_tenant(
    make_teams_live: object,
) -> None:
    """Two fake Graph tenants: the bot's and the council's. The council's addresses are asked of
    the council's tenant (a token issued there); the same address in the bot's tenant — another
    person — is never used, and an address only the bot's tenant knows is not found."""
    data = mixed_alliance_data()
    data["roles"]["admins"] = [ADMIN.aad]
    data["agencies"][-1]["members"] = [MEGAN.aad, "joni@nhs.example"]
    data["agencies"].append(
        {
            "id": "council",
            "name": "County Council",
            "platform": "teams",
            "tenant": OTHER_TENANT,
            "members": ["cal@council.example", "joni@nhs.example"],
        }
    )
    live = make_teams_live(parse_alliance(data))  # type: ignore[operator]
    # The bot's tenant has someone else under the council's address, and Joni under hers.
    live.connector.graph_tenants[TENANT_ID] = {
        "cal@council.example": OUTSIDER.aad,
        "joni@nhs.example": JONI.aad,
    }
    live.connector.graph_tenants[OTHER_TENANT] = {"cal@council.example": COUNCIL_PERSON.aad}
    live.install(ADMIN)

    cohort = live.loop.alliance.cohorts[0]
    members = live.loop.services.prompts.roster.cohort_members(cohort)

    by_agency: dict[str, set[str]] = {}
    for m in members:
        by_agency.setdefault(m.agency_id, set()).add(m.user_id)
    assert by_agency["council"] == {COUNCIL_PERSON.aad}  # not OUTSIDER, not Joni
    assert by_agency["nhs"] == {MEGAN.aad, JONI.aad}
    assert OUTSIDER.aad not in {m.user_id for m in members}
    # Each agency's addresses went to its own tenant, with a token issued there.
    asked = [c for c in live.connector.calls if c.kind == "graph_user"]
    tenants = {(c.conversation_id, _tid(c.headers)) for c in asked}
    assert tenants == {
        ("joni@nhs.example", TENANT_ID),
        ("cal@council.example", OTHER_TENANT),
        ("joni@nhs.example", OTHER_TENANT),
    }
    # Joni is not in the council's tenant: the admins are told, about the council's entry.
    told = card_text(live.connector.last_send(ADMIN.chat_id).card)
    assert "joni@nhs.example" in told and "County Council" in told


def _tid(headers: dict[str, str]) -> str | None:
    auth = next(v for k, v in headers.items() if k.lower() == "authorization")
    return jwt.decode(auth[7:], options={"verify_signature": False}).get("tid")


def test_check_config_validates_an_agencys_tenant() -> None:
    data = mixed_alliance_data()
    data["agencies"][-1]["tenant"] = "contoso.onmicrosoft.com"
    data["agencies"][0]["tenant"] = OTHER_TENANT  # a Slack agency
    with pytest.raises(ConfigError) as caught:
        parse_alliance(data)
    problems = caught.value.problems
    assert any(p.startswith(f"agencies.{len(data['agencies']) - 1}.tenant: ") for p in problems)
    assert "agencies.0.tenant: only a Teams agency has a tenant id" in problems

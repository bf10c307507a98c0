"""Teams settings, credentials, config checks, routing by platform, and a Teams-only deployment."""

from __future__ import annotations

import copy
import inspect
from typing import Any

import httpx
import pytest
from conftest import TEST_ALLIANCE, Live
from live_server import LiveServer
from microsoft_teams.api import (
    ClientCredentials,
    FederatedIdentityCredentials,
    ManagedIdentityCredentials,
)
from teams_auth import KeyService
from teams_connector import FakeBotConnector
from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    MEGAN,
    TeamsLive,
    bot_connector_fixture,
    bot_token,
    key_service_fixture,
    make_teams_live_fixture,
    mixed_alliance,
    teams_live_fixture,
)
from teams_requests import APP_ID, TENANT_ID, TeamsDriver

from bot.alliance import parse_alliance
from bot.app import build
from bot.domain.platforms import parse_teams_address, platform_of, teams_address
from bot.messenger_router import MessengerRouter
from bot.ports import MessageRef, Messenger, MessengerError
from bot.settings import ConfigError, Settings, load_settings
from bot.teams.app import teams_cloud, teams_options
from bot.teams.messenger import TeamsMessenger
from bot.views.message import Message
from bot.views.words import words
from bot.web.routes import create_web_app

# ----------------------------------------------------------------------- settings


def test_teams_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMS_CLIENT_ID", APP_ID)
    monkeypatch.setenv("TEAMS_TENANT_ID", TENANT_ID)
    monkeypatch.setenv("TEAMS_CLOUD", "us_gov")
    settings = load_settings(_env_file=None)
    assert settings.teams_enabled
    cloud = teams_cloud(settings)
    assert cloud.openid_metadata_url.startswith("https://login.botframework.azure.us/")


def test_a_bad_openid_metadata_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMS_OPENID_METADATA_URL", "https://example.org/keys.json")
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None)
    assert raised.value.problems[0].startswith("TEAMS_OPENID_METADATA_URL:")
    assert "/openidconfiguration" in raised.value.problems[0]


@pytest.mark.parametrize(
    ("env", "kind", "tenant"),
    [
        pytest.param(
            {"teams_client_secret": "s3cret", "teams_tenant_id": TENANT_ID},
            ClientCredentials,
            TENANT_ID,
            id="single-tenant",
        ),
        pytest.param({"teams_client_secret": "s3cret"}, ClientCredentials, None, id="multi-tenant"),
        pytest.param(
            {"teams_tenant_id": TENANT_ID}, ManagedIdentityCredentials, TENANT_ID, id="mi"
        ),
        pytest.param(
            {"teams_tenant_id": TENANT_ID, "teams_managed_identity_client_id": "system"},
            FederatedIdentityCredentials,
            TENANT_ID,
            id="federated-system-mi",
        ),
    ],
)
def test_credentials_follow_the_azure_bot_identity_type(
    env: dict[str, str], kind: type, tenant: str | None
) -> None:
    from bot.teams.app import build_teams_bot

    settings = Settings(_env_file=None, teams_client_id=APP_ID, **env)
    bot = build_teams_bot(settings)
    try:
        credentials = bot.app.credentials
        assert isinstance(credentials, kind)
        assert credentials.tenant_id == tenant
        # JWT validation is never switched off, whatever the environment says.
        assert teams_options(settings)["dangerously_allow_unauthenticated_requests"] is False
    finally:
        bot.close()


def test_teams_only_needs_no_slack_settings() -> None:
    Settings(_env_file=None, teams_client_id=APP_ID).require_platform()
    with pytest.raises(ConfigError) as raised:
        Settings(_env_file=None).require_platform()
    assert any("SLACK_BOT_TOKEN" in p for p in raised.value.problems)


# ------------------------------------------------------------------ alliance config


def alliance_with(agency: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(TEST_ALLIANCE)
    data["agencies"].append(agency)
    return data


def test_teams_members_are_entra_object_ids_or_addresses() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_alliance(
            alliance_with(
                {"id": "nhs", "name": "NHS", "platform": "teams", "members": ["megan.bowen"]}
            )
        )
    assert raised.value.problems[0].startswith("agencies.2.members.0:")
    assert "Entra object id" in raised.value.problems[0]
    # An e-mail address is looked up in Microsoft Graph (issue 16).
    by_address = {"id": "nhs", "name": "NHS", "platform": "teams", "members": ["megan@nhs.net"]}
    assert parse_alliance(alliance_with(by_address)).agency("nhs").member_emails == [
        "megan@nhs.net"
    ]


def test_ids_from_the_other_platform_are_named() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_alliance(
            alliance_with(
                {
                    "id": "nhs",
                    "name": "NHS",
                    "platform": "teams",
                    "members": [MEGAN.aad],
                    "channel": "C0NHS",
                    "usergroup": "S0NHS",
                }
            )
        )
    problems = "\n".join(raised.value.problems)
    assert "agencies.2.channel" in problems and "19:" in problems
    assert "agencies.2.usergroup" in problems
    with pytest.raises(ConfigError) as raised:
        parse_alliance(
            alliance_with({"id": "x", "name": "X", "platform": "slack", "members": [MEGAN.aad]})
        )
    assert "set platform: teams" in raised.value.problems[0]


# --------------------------------------------------------------------- routing


def test_platform_is_told_from_the_id() -> None:
    assert platform_of("U0ALICE") == "slack"
    assert platform_of("C0STEWARDS") == "slack"
    assert platform_of(MEGAN.aad) == "teams"
    assert platform_of("19:abc@thread.tacv2") == "teams"
    assert platform_of(teams_address(12)) == "teams"
    assert parse_teams_address("teams:12") == 12
    assert parse_teams_address("teams:x") is None


def protocol_methods() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(Messenger)
        if inspect.isfunction(member) and not name.startswith("_")
    }


def test_the_router_and_the_teams_messenger_implement_the_whole_port() -> None:
    for implementation in (MessengerRouter, TeamsMessenger):
        missing = protocol_methods() - set(dir(implementation))
        assert not missing, f"{implementation.__name__} lacks {sorted(missing)}"


HI = Message(summary=words("hi"))


class Recorder:
    """A messenger that records which calls reached it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def send(self, to: str, message: Any, *, paced: bool = False) -> None:
        self.calls.append(("send", to))

    def update(self, ref: MessageRef, message: Any) -> None:
        self.calls.append(("update", ref.channel))


def test_each_call_goes_to_the_platform_that_owns_the_address() -> None:
    slack, teams = Recorder(), Recorder()
    router = MessengerRouter(slack=slack, teams=teams)  # type: ignore[arg-type]
    router.send("U0ALICE", HI)
    router.send(MEGAN.aad, HI)
    router.update(MessageRef("teams:3", "170"), None)  # type: ignore[arg-type]
    router.update(MessageRef("D0ALICE", "1.2"), None)  # type: ignore[arg-type]
    assert slack.calls == [("send", "U0ALICE"), ("update", "D0ALICE")]
    assert teams.calls == [("send", MEGAN.aad), ("update", "teams:3")]
    with pytest.raises(MessengerError) as raised:
        MessengerRouter(slack=slack).send(MEGAN.aad, HI)  # type: ignore[arg-type]
    assert raised.value.code == "teams_not_configured"


# --------------------------------------------------------------- deployments


def test_without_teams_settings_api_messages_says_so(live: Live) -> None:
    response = live.http.post(live.server.url + "/api/messages", json={"type": "message"})
    assert response.status_code == 503
    assert live.loop.teams is None


def test_a_teams_only_deployment(
    database_url: str, key_service: KeyService, bot_connector: FakeBotConnector
) -> None:
    data = copy.deepcopy(TEST_ALLIANCE)
    data["agencies"] = [
        {"id": "nhs", "name": "NHS Community Team", "platform": "teams", "members": [MEGAN.aad]}
    ]
    data["roles"] = {"stewards": [], "admins": []}
    data["digests"], data["escalation_ladder"] = [], []
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        teams_client_id=APP_ID,
        teams_tenant_id=TENANT_ID,
        teams_openid_metadata_url=key_service.metadata_url,
    )
    settings.require_platform()
    loop = build(settings, alliance=parse_alliance(data), with_slack=False, teams_token=bot_token)
    server = LiveServer(create_web_app(loop)).start()
    driver = TeamsDriver(server.url, key_service, bot_connector.url)
    try:
        assert driver.post(driver.personal_install(MEGAN)).status_code == 200
        loop.services.prompts.send(now=True)
        assert "What did we learn" in str(bot_connector.last_send(MEGAN.chat_id).card)
        assert httpx.post(server.url + "/slack/events", content=b"{}").status_code == 503
    finally:
        driver.close()
        server.stop()
        assert loop.teams is not None
        loop.teams.close()
        loop.engine.dispose()

"""Pytest fixtures for Teams: a local key service, a fake Bot Connector and a live LearnLoop
serving Slack and Teams from one process.

Import the `*_fixture` functions into a test module to use them; they register under their
short names: `teams_live`, `make_teams_live`, `key_service`, `bot_connector`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from conftest import TEST_ALLIANCE, Live, test_settings
from live_server import LiveServer
from slack_api import FakeSlackAPI
from sqlalchemy import text
from teams_auth import KeyService
from teams_connector import FakeBotConnector
from teams_requests import APP_ID, TENANT_ID, TeamsDriver, TeamsUser

from bot.alliance import AllianceConfig, parse_alliance
from bot.app import build
from bot.ports import Clock, system_clock
from bot.settings import Settings
from bot.web.routes import create_web_app

MEGAN = TeamsUser("7faf8ab2-3d56-4244-b585-20c8a42ed2b8", "Megan Bowen")
JONI = TeamsUser("eddfa9d4-346e-4cce-a18f-fa6261ad776b", "Joni Sherman")
TEAMS_STEWARD = TeamsUser("5e1f0c3a-9d2b-4c7e-8f61-2a3b4c5d6e7f", "Sam Steward")
OUTSIDER = TeamsUser("0f0f0f0f-1111-4222-8333-444455556666", "Not Listed")
STEWARDS_CHANNEL = "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"
# The SDK reads the expiry of the token it is given, so it must be JWT-shaped.
BOT_TOKEN = jwt.encode(
    {"appid": APP_ID, "exp": int(time.time()) + 86_400},
    "not-a-real-key-only-a-test-stand-in",
    algorithm="HS256",
)


def mixed_alliance_data() -> dict[str, Any]:
    """The test alliance plus an NHS agency on Teams and a steward on each platform."""
    data = copy.deepcopy(TEST_ALLIANCE)
    data["agencies"].append(
        {
            "id": "nhs",
            "name": "NHS Community Team",
            "platform": "teams",
            "members": [MEGAN.aad, JONI.aad],
        }
    )
    data["roles"]["stewards"] = [*data["roles"]["stewards"], TEAMS_STEWARD.aad]
    return data


def mixed_alliance(**changes: Any) -> AllianceConfig:
    """The mixed Slack + Teams alliance, with top-level keys replaced."""
    data = mixed_alliance_data()
    data.update(changes)
    return parse_alliance(data)


def teams_settings(base: Settings, keys: KeyService) -> Settings:
    """Settings with a single-tenant Teams bot whose tokens are checked against `keys`."""
    return base.model_copy(
        update={
            "teams_client_id": APP_ID,
            "teams_tenant_id": TENANT_ID,
            "teams_openid_metadata_url": keys.metadata_url,
        }
    )


def bot_token(scope: str | list[str], tenant_id: str | None) -> str:
    """Stands in for the secret or managed identity: the token the bot sends to the connector,
    issued in the tenant asked for (its `tid`, which the fake Graph answers from)."""
    if tenant_id is None:
        return BOT_TOKEN
    return TENANT_TOKENS.setdefault(
        tenant_id,
        jwt.encode(
            {"appid": APP_ID, "tid": tenant_id, "exp": int(time.time()) + 86_400},
            "not-a-real-key-only-a-test-stand-in",
            algorithm="HS256",
        ),
    )


TENANT_TOKENS: dict[str, str] = {}


@dataclass
class TeamsLive:
    """LearnLoop live over HTTP with Slack on the fake Web API and Teams on the fake connector."""

    live: Live
    connector: FakeBotConnector
    keys: KeyService
    driver: TeamsDriver

    @property
    def loop(self) -> Any:
        """The running LearnLoop."""
        return self.live.loop

    @property
    def slack(self) -> FakeSlackAPI:
        """The fake Slack Web API."""
        return self.live.slack

    def scalar(self, sql: str, **params: Any) -> Any:
        """Read one value from the app's database."""
        with self.loop.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """Read rows from the app's database."""
        with self.loop.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def install(self, user: TeamsUser) -> None:
        """The person installs the app for themself (personal scope)."""
        response = self.driver.post(self.driver.personal_install(user))
        assert response.status_code == 200, response.text


@pytest.fixture(name="key_service")
def key_service_fixture() -> Iterator[KeyService]:
    """A local OpenID metadata + JWKS service that signs Bot Connector tokens."""
    keys = KeyService().start()
    yield keys
    keys.stop()


@pytest.fixture(name="bot_connector")
def bot_connector_fixture() -> Iterator[FakeBotConnector]:
    """A fake Bot Connector that records proactive sends and card updates."""
    connector = FakeBotConnector().start()
    yield connector
    connector.stop()


@pytest.fixture(name="make_teams_live")
def make_teams_live_fixture(
    database_url: str,
    fake_slack: FakeSlackAPI,
    key_service: KeyService,
    bot_connector: FakeBotConnector,
) -> Iterator[Callable[..., TeamsLive]]:
    """Start LearnLoop with Slack and Teams (optionally with another alliance or clock)."""
    started: list[TeamsLive] = []

    def start(alliance: AllianceConfig | None = None, clock: Clock = system_clock) -> TeamsLive:
        settings = teams_settings(test_settings(database_url, fake_slack.url), key_service)
        # The fake connector stands in for Microsoft Graph too (people by e-mail address).
        settings = settings.model_copy(update={"teams_graph_url": bot_connector.url})
        loop = build(
            settings, alliance=alliance or mixed_alliance(), clock=clock, teams_token=bot_token
        )
        server = LiveServer(create_web_app(loop)).start()
        live = Live(loop=loop, server=server, slack=fake_slack, http=httpx.Client(timeout=10))
        driver = TeamsDriver(server.url, key_service, bot_connector.url)
        teams = TeamsLive(live=live, connector=bot_connector, keys=key_service, driver=driver)
        started.append(teams)
        return teams

    yield start
    for teams in started:
        teams.driver.close()
        teams.live.http.close()
        teams.live.server.stop()
        if teams.loop.teams is not None:
            teams.loop.teams.close()
        teams.loop.engine.dispose()


@pytest.fixture(name="teams_live")
def teams_live_fixture(make_teams_live: Callable[..., TeamsLive]) -> TeamsLive:
    """LearnLoop with the mixed alliance, live over HTTP."""
    return make_teams_live()

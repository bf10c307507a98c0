"""Teams requests are only served with a valid Bot Connector token (JWT validation is always on)."""

from __future__ import annotations

import pytest
from teams_auth import new_key
from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    MEGAN,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    teams_live_fixture,
)


def test_a_valid_token_is_served(teams_live: TeamsLive) -> None:
    response = teams_live.driver.post(teams_live.driver.message(MEGAN, "help"))
    assert response.status_code == 200
    reply = teams_live.connector.last_send(MEGAN.chat_id)
    assert "checkin" in reply.text
    # The SDK fetched the signing keys from the local key service, as it would from Microsoft.
    assert any(path.endswith("/keys") for path in teams_live.keys.requests)


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param({"key": new_key()}, id="signed-with-another-key"),
        pytest.param({"audience": "some-other-bot"}, id="wrong-audience"),
        pytest.param({"expires_in": -3600}, id="expired"),
        pytest.param({"issuer": "https://evil.example.org"}, id="wrong-issuer"),
        pytest.param(
            {"claims": {"serviceurl": "https://smba.example.org/"}}, id="other-service-url"
        ),
    ],
)
def test_a_bad_token_is_refused_with_401(teams_live: TeamsLive, breakage: dict) -> None:
    activity = teams_live.driver.message(MEGAN, "help")
    response = teams_live.driver.post(activity, **breakage)
    assert response.status_code == 401
    assert teams_live.connector.calls == []


def test_a_missing_token_is_refused_with_401(teams_live: TeamsLive) -> None:
    response = teams_live.driver.post(teams_live.driver.message(MEGAN, "help"), token=None)
    assert response.status_code == 401
    assert teams_live.connector.calls == []


def test_a_token_that_is_not_a_jwt_is_refused_with_401(teams_live: TeamsLive) -> None:
    response = teams_live.driver.post(teams_live.driver.message(MEGAN, "help"), token="abc.def")
    assert response.status_code == 401

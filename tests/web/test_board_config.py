"""BOARD_SECRET_KEY is required once the alliance lists people or contributors."""

from __future__ import annotations

import pytest
from board_fixtures import PEOPLE
from conftest import alliance_config
from conftest import test_settings as settings_for

from bot.app import build
from bot.settings import ConfigError


@pytest.mark.parametrize(
    "listed",
    [{"people": PEOPLE}, {"contributors": [{"id": "lived-experience", "name": "Panel"}]}],
)
def test_start_up_fails_in_one_line_without_the_key(database_url: str, listed: dict) -> None:
    settings = settings_for(database_url, "http://127.0.0.1:9/api/")
    with pytest.raises(ConfigError) as refused:
        build(settings, alliance=alliance_config(**listed), with_slack=False, messenger=object())  # type: ignore[arg-type]
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith("BOARD_SECRET_KEY is not set")


def test_no_key_is_needed_without_people(database_url: str) -> None:
    settings = settings_for(database_url, "http://127.0.0.1:9/api/")
    loop = build(settings, alliance=alliance_config(), with_slack=False, messenger=object())  # type: ignore[arg-type]
    loop.engine.dispose()

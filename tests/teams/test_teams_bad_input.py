"""Teams: malformed activities with a valid token get 400 saying why (never 500), a token without
`exp` gets 401 however well it is signed, and odd text is stored as valid UTF-8."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    MEGAN,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    teams_live_fixture,
)
from teams_requests import TeamsDriver


def post_raw(driver: TeamsDriver, body: bytes, token: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return driver.http.post(driver.app_url + "/api/messages", content=body, headers=headers)


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1,2]", b"null", b"", b'{"type": "\xff"}'], ids=repr
)
def test_a_body_that_is_not_an_activity_is_400(teams_live: TeamsLive, body: bytes) -> None:
    driver = teams_live.driver
    response = post_raw(driver, body, driver.token())
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "malformed activity: the body is not a JSON object"
    # Without a valid token the same body says nothing but 401.
    assert post_raw(driver, body, None).status_code == 401
    assert post_raw(driver, body, driver.token(audience="another-bot")).status_code == 401


def without(activity: dict[str, Any], key: str) -> dict[str, Any]:
    broken = copy.deepcopy(activity)
    broken.pop(key)
    return broken


def with_(activity: dict[str, Any], **changes: Any) -> dict[str, Any]:
    broken = copy.deepcopy(activity)
    broken.update(changes)
    return broken


def broken_activities(driver: TeamsDriver) -> dict[str, dict[str, Any]]:
    message = driver.message(MEGAN, "help")
    card = driver.card_action(MEGAN, {"verb": "skip_week", "data": {}})
    task = driver.task_fetch(MEGAN, {"data": {}})
    extension = driver.extension_submit(MEGAN, "checkin", {})
    return {
        "no type": without(message, "type"),
        "no from": without(message, "from"),
        "no conversation": without(message, "conversation"),
        "no recipient": without(message, "recipient"),
        "no serviceUrl": without(message, "serviceUrl"),
        "from a string": with_(message, **{"from": "someone"}),
        "conversation without id": with_(message, conversation={"tenantId": "t"}),
        "text a number": with_(message, text=5),
        "an unknown type": with_(message, type="nonsense"),
        "card action, value {}": with_(card, value={}),
        "card action, value null": with_(card, value=None),
        "task/fetch without value": without(task, "value"),
        "extension submit, value {}": with_(extension, value={}),
        "invoke without a name": without(card, "name"),
    }


def test_an_activity_missing_what_it_needs_is_400(teams_live: TeamsLive) -> None:
    driver = teams_live.driver
    answers = {name: driver.post(activity) for name, activity in broken_activities(driver).items()}
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses == dict.fromkeys(answers, 400)
    for response in answers.values():
        assert response.json()["error"].startswith("malformed activity: ")
    assert teams_live.scalar("SELECT count(*) FROM checkins") == 0


def test_an_invoke_with_an_empty_value_gets_an_invoke_answer(teams_live: TeamsLive) -> None:
    # task/fetch with value {} is well formed, just out of date: the dialog says so.
    driver = teams_live.driver
    answer = driver.invoke(with_(driver.task_fetch(MEGAN, {"data": {}}), value={}))
    assert "out of date" in json.dumps(answer)


def test_a_token_without_exp_is_refused(teams_live: TeamsLive) -> None:
    driver = teams_live.driver
    response = driver.post(driver.message(MEGAN, "help"), without=("exp",))
    assert response.status_code == 401
    assert teams_live.connector.sends(MEGAN.chat_id) == []
    assert driver.post(driver.message(MEGAN, "help")).status_code == 200


def test_a_lone_surrogate_in_a_teams_reply_is_stored_as_a_replacement(
    teams_live: TeamsLive,
) -> None:
    teams_live.install(MEGAN)
    reply = teams_live.driver.message(MEGAN, "Half \ud800 a pair and \x00")
    assert teams_live.driver.post(reply).status_code == 200
    [(answers,)] = teams_live.rows("SELECT answers FROM checkins")
    stored = json.loads(answers) if isinstance(answers, str) else answers
    assert stored["learned"] == "Half \ufffd a pair and \ufffd"


def test_a_lone_surrogate_in_a_display_name_does_not_lose_the_install(
    teams_live: TeamsLive,
) -> None:
    install = teams_live.driver.personal_install(MEGAN)
    install["from"]["name"] = "Meg\ud800an\x00"
    assert teams_live.driver.post(install).status_code == 200
    assert teams_live.rows("SELECT conversation_id FROM teams_conversations") == [(MEGAN.chat_id,)]
    names = teams_live.rows(
        "SELECT display_name FROM members WHERE platform_user_id = :u", u=MEGAN.aad
    )
    assert names == [("Meg\ufffdan\ufffd",)]

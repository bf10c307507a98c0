"""Single-workspace mode: a signed request naming another workspace or app is refused (events
still get their 200 so Slack stops redelivering), nothing is stored, and it is counted."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from conftest import ALICE, Live
from slack_requests import (
    SIGNING_SECRET,
    SignedRequest,
    message_im,
    sign,
    slash_command,
    view_submission,
)

from bot.slack.ids import View

OTHER_TEAM, OTHER_APP = "T0OTHER", "A0OTHER"


def resigned(payload: dict[str, Any]) -> SignedRequest:
    body = json.dumps(payload).encode()
    return SignedRequest(body, sign(SIGNING_SECRET, body, int(time.time())), payload)


def checkin(text: str) -> dict[str, Any]:
    return {"q_learned": {"answer": {"type": "plain_text_input", "value": text}}}


def refused(live: Live, reason: str, kind: str) -> float:
    text = live.http.get(live.server.url + "/metrics").text
    line = f'learnloop_slack_foreign_requests_total{{kind="{kind}",reason="{reason}"}}'
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


def test_an_event_from_another_workspace_is_refused_and_counted(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="learnloop")
    resp = live.post(message_im("Not ours", user_id=ALICE, team_id=OTHER_TEAM, event_id="Ev0F1"))
    assert resp.status_code == 200  # so Slack does not redeliver it
    assert live.scalar("SELECT count(*) FROM checkins") == 0
    assert refused(live, "team", "event_callback") == 1.0
    lines = [r.getMessage() for r in caplog.records if "another workspace" in r.getMessage()]
    assert lines and all(ALICE not in line for line in lines)
    time.sleep(0.2)
    assert live.slack.calls("chat.postMessage") == []
    # Our own workspace's reply is stored as before.
    assert live.post(message_im("Ours", user_id=ALICE, event_id="Ev0F2")).status_code == 200
    assert live.scalar("SELECT count(*) FROM checkins") == 1


def test_an_event_for_another_app_is_refused_and_counted(live: Live) -> None:
    payload = message_im("Other app", user_id=ALICE, event_id="Ev0F3").payload
    resp = live.post(resigned({**payload, "api_app_id": OTHER_APP}))
    assert resp.status_code == 200
    assert live.scalar("SELECT count(*) FROM checkins") == 0
    assert refused(live, "app", "event_callback") == 1.0


def test_commands_and_submissions_from_another_workspace_get_403(live: Live) -> None:
    command = live.post(slash_command("/checkin", user_id=ALICE, team_id=OTHER_TEAM))
    assert command.status_code == 403
    assert "does not serve" in command.json()["error"]
    submitted = live.post(
        view_submission(View.CHECKIN, checkin("Not ours"), user_id=ALICE, team_id=OTHER_TEAM)
    )
    assert submitted.status_code == 403
    assert live.scalar("SELECT count(*) FROM checkins") == 0
    assert live.slack.calls("views.open") == []
    assert refused(live, "team", "slash_command") == 1.0
    assert refused(live, "team", "view_submission") == 1.0
    ours = live.post(view_submission(View.CHECKIN, checkin("Ours"), user_id=ALICE))
    assert ours.status_code == 200
    assert live.scalar("SELECT count(*) FROM checkins") == 1

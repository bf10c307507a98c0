"""The edge: forged, stale and malformed requests get 401/400 and change nothing;
a database outage loses nothing that was acknowledged."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import ALICE, BOB, Live
from slack_requests import (
    SIGNING_SECRET,
    SignedRequest,
    load_signature_vector,
    message_im,
    sign,
    slash_command,
    view_submission,
)
from sqlalchemy.engine import make_url

from bot.slack.ids import View
from bot.web.routes import slack_request_problem


def count_checkins(live: Live) -> int:
    return live.scalar("SELECT count(*) FROM checkins")


def tampered(req: SignedRequest, **headers: str) -> SignedRequest:
    return SignedRequest(body=req.body, headers={**req.headers, **headers}, payload=req.payload)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "not-a-number"},
        {"X-Slack-Request-Timestamp": "12a45"},
        {"X-Slack-Request-Timestamp": "9" * 40},
        {"X-Slack-Signature": "garbage"},
    ],
)
def test_forged_or_malformed_signatures_get_401(live: Live, headers: dict[str, str]) -> None:
    req = message_im("forged learning", user_id=ALICE, event_id="Ev0FORGED")
    resp = live.post(tampered(req, **headers))
    assert resp.status_code == 401
    time.sleep(0.1)
    assert count_checkins(live) == 0
    assert live.slack.calls() == []


def test_missing_signature_headers_get_401(live: Live) -> None:
    req = slash_command("/checkin", user_id=ALICE)
    headers = {
        k: v for k, v in req.headers.items() if not k.lower().startswith("x-slack-signature")
    }
    resp = live.http.post(live.server.url + "/slack/events", content=req.body, headers=headers)
    assert resp.status_code == 401
    assert live.slack.calls("views.open") == []


def test_replayed_request_is_refused(live: Live) -> None:
    old = int(time.time()) - 10 * 60
    resp = live.post(slash_command("/checkin", user_id=ALICE, timestamp=old))
    assert resp.status_code == 401
    assert live.slack.calls("views.open") == []


def test_documented_signature_vector() -> None:
    vector = load_signature_vector()
    secret = vector["signing_secret"]
    headers = {
        "x-slack-request-timestamp": vector["x_slack_request_timestamp"],
        "x-slack-signature": vector["expected_x_slack_signature"],
    }
    body = vector["raw_body"].encode()
    at_the_time = int(vector["x_slack_request_timestamp"]) + 30
    assert slack_request_problem(secret, headers, body, now=at_the_time) is None
    assert slack_request_problem(secret, headers, body, now=time.time()) == "stale timestamp"
    assert slack_request_problem(secret, headers, body + b"x", now=at_the_time) == "bad signature"


def test_signed_but_malformed_body_is_400_not_500(live: Live) -> None:
    for body in (b"payload=%7Bnot-json", b"\xff\xfe\xfa"):
        ts = str(int(time.time()))
        headers = sign(SIGNING_SECRET, body, ts)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        resp = live.http.post(live.server.url + "/slack/events", content=body, headers=headers)
        assert resp.status_code in (400, 401, 404), resp.status_code
        assert resp.status_code != 500


def test_healthz_reports_the_database(live: Live) -> None:
    resp = live.http.get(live.server.url + "/healthz")
    assert resp.status_code == 200 and resp.json()["database"] == "ok"


# ------------------------------------------------------------------------ outages


def break_sqlite(live: Live) -> tuple[Path, Path]:
    """Make the SQLite file unopenable: new connections fail as in a real outage."""
    path = Path(make_url(live.loop.engine.url).database or "")
    moved = path.with_suffix(".away")
    live.loop.engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.rename(moved)
    path.mkdir()  # a directory where the database should be: "unable to open database file"
    return path, moved


def mend_sqlite(path: Path, moved: Path) -> None:
    path.rmdir()
    moved.rename(path)


@pytest.fixture
def sqlite_live(live: Live, database_url: str) -> Live:
    if not database_url.startswith("sqlite"):
        pytest.skip("the outage is simulated on the SQLite file")
    return live


def test_modal_stays_open_with_a_message_when_the_database_is_down(sqlite_live: Live) -> None:
    live = sqlite_live
    view = {"private_metadata": json.dumps({"prompt_id": None})}
    values = {"q_learned": {"answer": {"type": "plain_text_input", "value": "Keep this safe"}}}
    path, moved = break_sqlite(live)
    try:
        resp = live.post(
            view_submission(
                View.CHECKIN, values, user_id=ALICE, private_metadata=view["private_metadata"]
            )
        )
        assert resp.status_code == 200
        body = resp.json()
        assert body["response_action"] == "errors"
        assert "nothing was saved" in body["errors"]["q_learned"]
        health = live.http.get(live.server.url + "/healthz")
        assert health.status_code == 503
    finally:
        mend_sqlite(path, moved)
    resp = live.post(
        view_submission(
            View.CHECKIN, values, user_id=ALICE, private_metadata=view["private_metadata"]
        )
    )
    assert resp.status_code == 200
    assert count_checkins(live) == 1


def test_dm_reply_during_outage_is_stored_when_slack_retries(sqlite_live: Live) -> None:
    live = sqlite_live
    path, moved = break_sqlite(live)
    try:
        first = live.post(message_im("Learned: ask early", user_id=BOB, event_id="Ev0OUT"))
        # Not acknowledged: Slack will deliver the same event again.
        assert first.status_code == 500
    finally:
        mend_sqlite(path, moved)
    retry = live.post(message_im("Learned: ask early", user_id=BOB, event_id="Ev0OUT", retry_num=1))
    assert retry.status_code == 200
    again = live.post(message_im("Learned: ask early", user_id=BOB, event_id="Ev0OUT", retry_num=2))
    assert again.status_code == 200
    assert count_checkins(live) == 1

"""Signed but malformed Slack bodies get a 400 saying why; a bad signature stays 401; never 500."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import ALICE, Live
from slack_requests import SIGNING_SECRET, load_sample, sign

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def view_submission_with(view: Any) -> bytes:
    return form(
        {"type": "view_submission", "user": {"id": ALICE}, "team": {"id": "T0001"}, "view": view}
    )


MALFORMED: dict[str, tuple[bytes, str]] = {
    "payload=[1,2]": (form([1, 2]), FORM),
    "payload=null": (b"payload=null", FORM),
    "payload={}": (form({}), FORM),
    "payload without type": (form({"user": {"id": ALICE}}), FORM),
    "payload type is a number": (form({"type": 7}), FORM),
    "view_submission without view": (
        form({"type": "view_submission", "user": {"id": ALICE}}),
        FORM,
    ),
    "view_submission, view a list": (view_submission_with([]), FORM),
    "view without type": (view_submission_with({"callback_id": "checkin_modal"}), FORM),
    "view state a string": (
        view_submission_with({"type": "modal", "callback_id": "checkin_modal", "state": "x"}),
        FORM,
    ),
    "view answer a number": (
        view_submission_with(
            {
                "type": "modal",
                "callback_id": "checkin_modal",
                "state": {"values": {"q_learned": {"answer": {"value": 5}}}},
            }
        ),
        FORM,
    ),
    "view id a number": (
        view_submission_with({"type": "modal", "callback_id": "checkin_modal", "id": 5}),
        FORM,
    ),
    "block_actions, actions a string": (
        form({"type": "block_actions", "user": {"id": ALICE}, "actions": "press"}),
        FORM,
    ),
    "block_actions, user a string": (
        form({"type": "block_actions", "user": ALICE, "actions": []}),
        FORM,
    ),
    "shortcut without callback_id": (form({"type": "shortcut", "user": {"id": ALICE}}), FORM),
    "JSON null": (b"null", JSON),
    "JSON []": (b"[]", JSON),
    "JSON [1,2]": (b"[1,2]", JSON),
    "JSON without type": (b'{"team_id": "T0001"}', JSON),
    "JSON not JSON": (b"{not json", JSON),
    "event_callback without event": (b'{"type": "event_callback", "team_id": "T0001"}', JSON),
    "event_callback, event a list": (b'{"type": "event_callback", "event": []}', JSON),
    "message event, text a number": (
        b'{"type": "event_callback", "event": {"type": "message", "channel_type": "im",'
        b' "user": "U0ALICE", "text": 5}}',
        JSON,
    ),
    "non-UTF-8 form": (b"\xff\xfe\xfa", FORM),
    "non-UTF-8 JSON": (b'{"type": "\xff"}', JSON),
    "wrong content type": (b'{"type": "event_callback"}', "text/plain"),
    "XML": (b"<payload/>", "application/xml"),
    "a form that is neither": (b"foo=bar", FORM),
    "empty body": (b"", JSON),
}


def post_signed(live: Live, body: bytes, content_type: str, secret: str = SIGNING_SECRET) -> Any:
    headers = sign(secret, body, str(int(time.time())))
    headers["Content-Type"] = content_type
    return live.http.post(live.server.url + "/slack/events", content=body, headers=headers)


@pytest.mark.parametrize("name", list(MALFORMED))
def test_signed_malformed_body_is_400_with_a_reason(live: Live, name: str) -> None:
    body, content_type = MALFORMED[name]
    resp = post_signed(live, body, content_type)
    assert resp.status_code == 400, (resp.status_code, resp.text)
    assert resp.json()["error"].startswith("malformed request: ")
    assert live.scalar("SELECT count(*) FROM checkins") == 0


@pytest.mark.parametrize("name", ["payload=[1,2]", "JSON null", "non-UTF-8 form"])
def test_badly_signed_malformed_body_is_still_401(live: Live, name: str) -> None:
    body, content_type = MALFORMED[name]
    assert post_signed(live, body, content_type, secret="not-the-secret").status_code == 401


def test_documented_samples_still_pass_the_shape_check(live: Live) -> None:
    # Slack's own samples (from tests/payloads) are well formed: none is refused as malformed.
    for sample in ("view_closed", "block_actions", "app_home_opened", "url_verification"):
        data = load_sample(sample)
        if sample in ("view_closed", "block_actions"):
            resp = post_signed(live, form(data), FORM)
        else:
            resp = post_signed(live, json.dumps(data).encode(), JSON)
        assert resp.status_code != 400, (sample, resp.text)
        assert resp.status_code < 500, (sample, resp.text)

"""Slack's unsigned `ssl_check` probe gets its 200; nothing else gets past the signature check."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from conftest import Live
from slack_requests import FORM_CONTENT_TYPE, SIGNING_SECRET, SignedRequest, load_sample, sign


def ssl_check_body() -> bytes:
    # The documented sample (token=random&ssl_check=1), encoded as Slack sends it.
    return urlencode(load_sample("ssl_check")).encode()


def unsigned(body: bytes, content_type: str = FORM_CONTENT_TYPE) -> SignedRequest:
    return SignedRequest(body=body, headers={"Content-Type": content_type})


def test_unsigned_ssl_check_is_answered_200(live: Live) -> None:
    resp = live.post(unsigned(ssl_check_body()))
    assert resp.status_code == 200
    assert resp.content == b""
    # A probe runs no listener and calls nothing.
    assert live.slack.calls("chat.postMessage") == []
    assert live.scalar("SELECT count(*) FROM checkins") == 0


def test_signed_ssl_check_is_answered_200(live: Live) -> None:
    body = ssl_check_body()
    resp = live.post(SignedRequest(body=body, headers=sign(SIGNING_SECRET, body, int(time.time()))))
    assert resp.status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # Anything more than the probe needs a signature.
        (b"token=random&ssl_check=1&command=%2Fcheckin&user_id=U0ALICE", FORM_CONTENT_TYPE),
        (b"ssl_check=1&ssl_check=1", FORM_CONTENT_TYPE),
        (b"token=random&ssl_check=0", FORM_CONTENT_TYPE),
        (b"token=random", FORM_CONTENT_TYPE),
        (json.dumps({"token": "random", "ssl_check": "1"}).encode(), "application/json"),
        (b"token=random&ssl_check=1", "text/plain"),
        (b"token=\xff&ssl_check=1", FORM_CONTENT_TYPE),
    ],
)
def test_other_unsigned_bodies_are_still_refused(
    live: Live, body: bytes, content_type: str
) -> None:
    assert live.post(unsigned(body, content_type)).status_code == 401


def test_ssl_check_with_a_bad_signature_is_refused(live: Live) -> None:
    body = ssl_check_body()
    headers = sign("not-the-secret", body, int(time.time()))
    assert live.post(SignedRequest(body=body, headers=headers)).status_code == 401

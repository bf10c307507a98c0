"""A PostgreSQL outage at check-in time: the app's connections go through a TCP proxy that the
test cuts, so open connections drop and new ones are refused, as when the database goes away.

The modal stays open with a message saying nothing was saved; a DM reply is not acknowledged
(5xx) so Slack redelivers it; after recovery the redelivery is stored once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import ALICE, BOB, Live, alliance_config
from conftest import test_settings as settings_for
from live_server import LiveServer
from slack_api import FakeSlackAPI
from slack_requests import message_im, view_submission
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from bot.app import build
from bot.slack.ids import View
from bot.web.routes import create_web_app


@pytest.fixture
def proxied(database_url: str, fake_slack: FakeSlackAPI) -> Iterator[tuple[Live, TcpProxy]]:
    """LearnLoop whose DATABASE_URL reaches PostgreSQL only through a proxy the test controls."""
    if not database_url.startswith("postgresql"):
        pytest.skip("this outage is of PostgreSQL; the SQLite one is in test_security_and_outages")
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    loop = build(settings_for(through, fake_slack.url), alliance=alliance_config())
    server = LiveServer(create_web_app(loop)).start()
    live = Live(loop=loop, server=server, slack=fake_slack, http=httpx.Client(timeout=30))
    yield live, proxy
    live.http.close()
    server.stop()
    loop.engine.dispose()
    proxy.close()


def learned(text: str) -> dict[str, Any]:
    return {"q_learned": {"answer": {"type": "plain_text_input", "value": text}}}


def stored(database_url: str) -> list[str]:
    """What PostgreSQL holds, read directly (not through the proxy)."""
    from storage.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT answers FROM checkins ORDER BY id").all()
    finally:
        engine.dispose()
    return [(json.loads(a) if isinstance(a, str) else a)["learned"] for (a,) in rows]


def test_modal_stays_open_with_a_message_while_postgresql_is_down(
    proxied: tuple[Live, TcpProxy], database_url: str
) -> None:
    live, proxy = proxied
    # A first check-in opens pooled connections, which the outage then drops mid-run.
    ok = live.post(view_submission(View.CHECKIN, learned("Before"), user_id=ALICE, view_id="V0A"))
    assert ok.status_code == 200
    proxy.cut()
    try:
        down = live.post(
            view_submission(View.CHECKIN, learned("During"), user_id=ALICE, view_id="V0B")
        )
        assert down.status_code == 200
        body = down.json()
        assert body["response_action"] == "errors"
        assert "nothing was saved" in body["errors"]["q_learned"]
        assert live.http.get(live.server.url + "/healthz").status_code == 503
    finally:
        proxy.mend()
    assert stored(database_url) == ["Before"]
    again = live.post(
        view_submission(View.CHECKIN, learned("During"), user_id=ALICE, view_id="V0B")
    )
    assert again.status_code == 200 and again.content in (b"", b"{}")
    assert stored(database_url) == ["Before", "During"]
    assert proxy.refused > 0  # the app really tried, and was refused, while it was down


def test_dm_reply_during_postgresql_outage_is_redelivered_and_stored_once(
    proxied: tuple[Live, TcpProxy], database_url: str
) -> None:
    live, proxy = proxied
    assert live.post(message_im("Warm up", user_id=BOB, event_id="Ev0PGWARM")).status_code == 200
    proxy.cut()
    try:
        first = live.post(message_im("Ask early", user_id=BOB, event_id="Ev0PGOUT"))
        # Not acknowledged: Slack delivers the same event again later.
        assert first.status_code >= 500
    finally:
        proxy.mend()
    for n in (1, 2):
        retry = message_im("Ask early", user_id=BOB, event_id="Ev0PGOUT", retry_num=n)
        assert live.post(retry).status_code == 200
    assert stored(database_url) == ["Warm up", "Ask early"]

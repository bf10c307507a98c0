"""DM replies that arrive together are committed together, and each is still acknowledged only
once its row is committed ("acked means stored").

The test holds the database's write lock itself (SQLite: `BEGIN IMMEDIATE` on the file;
PostgreSQL: `LOCK TABLE checkins IN EXCLUSIVE MODE`, which lets reads through), sends a burst
of signed DM replies into the real app over HTTP, and watches: no request is answered while
nothing can be committed; released, every request is answered 200 and every reply is stored
once (on SQLite in fewer transactions than replies; PostgreSQL commits each alone). Held past
the point of failure (SQLite's busy timeout; PostgreSQL's connection cut through a proxy),
every waiting request answers non-200, nothing is stored, and Slack's redeliveries store each
reply once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from conftest import ALICE, BOB, CAROL, DAN, Live, alliance_config
from conftest import test_settings as settings_for
from live_server import LiveServer
from slack_api import FakeSlackAPI
from slack_requests import SignedRequest, message_im
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from bot.app import build
from bot.web.routes import create_web_app
from storage.db import make_engine

PEOPLE = [ALICE, BOB, CAROL, DAN]
BURST = 12


class WriteLock:
    """The database's write lock, held by the test on its own connection."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._sqlite: sqlite3.Connection | None = None
        self._engine = None
        self._conn = None

    def take(self) -> WriteLock:
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            self._sqlite = sqlite3.connect(url.database or "", isolation_level=None)
            self._sqlite.execute("BEGIN IMMEDIATE")
        else:
            self._engine = make_engine(self.url)
            self._conn = self._engine.connect()
            self._conn.exec_driver_sql("LOCK TABLE checkins IN EXCLUSIVE MODE")
        return self

    def stored_meanwhile(self) -> int:
        """Check-ins committed by others, as seen from inside the lock-holding transaction."""
        if self._sqlite is not None:
            return int(self._sqlite.execute("SELECT count(*) FROM checkins").fetchone()[0])
        assert self._conn is not None
        return int(self._conn.exec_driver_sql("SELECT count(*) FROM checkins").scalar_one())

    def release(self) -> None:
        if self._sqlite is not None:
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
            self._sqlite = None
        if self._conn is not None:
            self._conn.rollback()
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def stored_keys(database_url: str) -> dict[str, int]:
    """How many check-ins each Slack event stored, read directly from the database."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT idempotency_key, count(*) FROM checkins "
                "WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key"
            ).all()
    finally:
        engine.dispose()
    return {key: count for key, count in rows}


def reply(n: int, retry_num: int | None = None) -> SignedRequest:
    return message_im(
        f"Burst reply {n}: rang the ward before discharge",
        user_id=PEOPLE[n % len(PEOPLE)],
        event_id=f"Ev0BURST{n:03d}",
        ts=f"1700000000.{n:06d}",
        retry_num=retry_num,
    )


@contextmanager
def burst(live: Live, retry_num: int | None = None) -> Iterator[list[Future[httpx.Response]]]:
    """Send BURST signed DM replies at once, each on its own connection."""

    def post(n: int) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            req = reply(n, retry_num)
            return client.post(
                live.server.url + "/slack/events",
                content=req.body,
                headers=req.headers,
            )

    with ThreadPoolExecutor(BURST) as pool:
        yield [pool.submit(post, n) for n in range(BURST)]


def expected_keys() -> dict[str, int]:
    return {f"slack:event:Ev0BURST{n:03d}": 1 for n in range(BURST)}


def test_a_burst_of_replies_is_acked_only_after_its_group_commit(
    live: Live, database_url: str
) -> None:
    # One reply first: the pool's connections are open before the lock is taken.
    warm = message_im("Warm up", user_id=ALICE, event_id="Ev0WARM")
    assert live.post(warm).status_code == 200
    replies = live.loop.services.checkins.replies
    before_tx, before_writes = replies.transactions, replies.writes
    lock = WriteLock(database_url).take()
    try:
        with burst(live) as answers:
            # Nothing can be committed while the test holds the lock, so nothing is answered
            # (on SQLite under its 5 s busy timeout, well inside Slack's 3 s once released).
            time.sleep(1.5)
            assert [f for f in answers if f.done()] == []
            assert lock.stored_meanwhile() == 1  # only the warm-up
            lock.release()
            statuses = [f.result().status_code for f in answers]
    finally:
        lock.release()
    assert statuses == [200] * BURST
    stored = stored_keys(database_url)
    assert {k: v for k, v in stored.items() if "BURST" in k} == expected_keys()
    assert replies.writes - before_writes == BURST
    if database_url.startswith("sqlite"):
        # Grouped: the burst took fewer transactions than it has replies.
        assert replies.transactions - before_tx < BURST
    else:
        # PostgreSQL has concurrent writers: each reply commits alone (storage/group_commit.py).
        assert replies.transactions - before_tx == BURST
    # Each reply is thanked once (after its ack); Slack's redeliveries store and thank nothing.
    thanks = len(live.slack.wait_for("chat.postMessage", count=1 + BURST))
    with burst(live, retry_num=1) as answers:
        assert [f.result().status_code for f in answers] == [200] * BURST
    assert stored_keys(database_url) == stored
    time.sleep(0.5)
    assert len(live.slack.calls("chat.postMessage")) == thanks == 1 + BURST


@pytest.fixture
def breakable(
    database_url: str, fake_slack: FakeSlackAPI
) -> Iterator[tuple[Live, Callable[[], None], Callable[[], None]]]:
    """LearnLoop, with a way to make its pending commits fail (and to mend that).

    PostgreSQL: the app reaches the database through a TCP proxy the test cuts. SQLite: the
    test's write lock is simply held past the app's busy timeout, which fails the commit.
    """
    proxy: TcpProxy | None = None
    url = database_url
    if not database_url.startswith("sqlite"):
        parsed = make_url(database_url)
        proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
        url = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    loop = build(settings_for(url, fake_slack.url), alliance=alliance_config())
    server = LiveServer(create_web_app(loop)).start()
    live = Live(loop=loop, server=server, slack=fake_slack, http=httpx.Client(timeout=60))

    def cut() -> None:
        if proxy is not None:
            proxy.cut()

    def mend() -> None:
        if proxy is not None:
            proxy.mend()

    yield live, cut, mend
    live.http.close()
    server.stop()
    loop.engine.dispose()
    if proxy is not None:
        proxy.close()


def test_a_failed_group_commit_fails_every_waiting_reply_and_the_retries_store_each_once(
    breakable: tuple[Live, Callable[[], None], Callable[[], None]], database_url: str
) -> None:
    live, cut, mend = breakable
    assert live.post(message_im("Warm up", user_id=ALICE, event_id="Ev0WARM")).status_code == 200
    lock = WriteLock(database_url).take()
    try:
        with burst(live) as answers:
            time.sleep(1.5)
            assert [f for f in answers if f.done()] == []
            # PostgreSQL: the connections drop mid-commit; SQLite: the lock outlasts the busy
            # timeout. Either way the commit fails under every waiting reply.
            cut()
            statuses = [f.result().status_code for f in answers]
    finally:
        lock.release()
        mend()
    # Not acknowledged, so Slack will deliver each again; and nothing half-stored.
    assert all(status >= 500 for status in statuses), statuses
    assert [k for k in stored_keys(database_url) if "BURST" in k] == []
    for retry_num in (1, 2):
        with burst(live, retry_num=retry_num) as answers:
            assert [f.result().status_code for f in answers] == [200] * BURST
        stored = stored_keys(database_url)
        assert {k: v for k, v in stored.items() if "BURST" in k} == expected_keys()

"""Shared fixtures: a database on each backend, the fake Slack Web API, and a live LearnLoop.

Database-backed tests run on SQLite always, and on PostgreSQL when
LEARNLOOP_TEST_POSTGRES_URL is set (CI sets it, and LEARNLOOP_REQUIRE_POSTGRES=1 so that a
PostgreSQL that cannot be reached fails the run instead of skipping it).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from live_server import LiveServer
from slack_api import FakeSlackAPI
from slack_fixtures import fake_slack  # noqa: F401 - re-exported fixture
from slack_requests import SIGNING_SECRET, SignedRequest
from smtp_server import smtp_server  # noqa: F401 - re-exported fixture (a real SMTP server)
from sqlalchemy import Engine, text

from bot.alliance import AllianceConfig, parse_alliance
from bot.app import LearnLoop, build
from bot.ports import Clock, system_clock
from bot.settings import Settings
from bot.web.routes import create_web_app
from storage.db import make_engine, migrate
from storage.models import Base

PG_URL = os.environ.get("LEARNLOOP_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("LEARNLOOP_REQUIRE_POSTGRES") == "1"

ALICE, BOB, CAROL, DAN = "U0ALICE", "U0BOB", "U0CAROL", "U0DAN"
STEWARD = "U0STEW1"

TEST_ALLIANCE: dict[str, Any] = {
    "alliance": {"name": "Test Alliance", "timezone": "Europe/London", "suppress_below": 3},
    "themes": ["Housing", "Hospital discharge", "Mental health"],
    "roles": {"stewards": [STEWARD], "admins": ["U0ADMIN"]},
    "agencies": [
        {"id": "housing", "name": "Council Housing", "members": [ALICE, BOB]},
        {"id": "hospital", "name": "Hospital Discharge", "members": [CAROL, DAN]},
    ],
    "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
    "digests": [{"id": "alliance", "channel": "C0STEWARDS", "scope": "alliance"}],
    "escalation_ladder": [
        {"level": "agency", "name": "Agency leadership", "channel": "C0LEADS"},
        {"level": "alliance", "name": "Steward group", "channel": "C0STEWARDS"},
    ],
}


def alliance_config(**changes: Any) -> AllianceConfig:
    """The test alliance, with top-level keys replaced."""
    data = copy.deepcopy(TEST_ALLIANCE)
    data.update(changes)
    return parse_alliance(data)


# ----------------------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once keeps the suite quick)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL database with a fresh schema, migrated from empty once per run."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("LEARNLOOP_REQUIRE_POSTGRES=1 but LEARNLOOP_TEST_POSTGRES_URL is unset")
        pytest.skip("PostgreSQL not configured (set LEARNLOOP_TEST_POSTGRES_URL)")
    engine = make_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # noqa: BLE001
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {PG_URL} unusable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    migrate(engine)
    engine.dispose()
    return PG_URL


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """An empty, migrated database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "learnloop.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test database."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


# ----------------------------------------------------------------------------- the app


class Clock_:
    """A settable clock for services (tests move it explicitly)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Live:
    """A running LearnLoop over real HTTP, wired to the fake Slack Web API."""

    loop: LearnLoop
    server: LiveServer
    slack: FakeSlackAPI
    http: httpx.Client

    def post(self, req: SignedRequest, path: str = "/slack/events") -> httpx.Response:
        """Send a signed request exactly as Slack would."""
        return self.http.post(self.server.url + path, content=req.body, headers=req.headers)

    def scalar(self, sql: str, **params: Any) -> Any:
        """Read one value from the app's database."""
        with self.loop.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """Read rows from the app's database."""
        with self.loop.engine.connect() as conn:
            return list(conn.execute(text(sql), params))


def test_settings(database_url: str, slack_url: str) -> Settings:
    """Settings as a deployment would have them, pointed at the fakes."""
    return Settings(
        _env_file=None,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_url,
        database_url=database_url,
    )


@pytest.fixture
def make_live(
    database_url: str,
    fake_slack: FakeSlackAPI,  # noqa: F811
) -> Iterator[Callable[..., Live]]:
    """Start LearnLoop (optionally with another alliance or clock) behind a live HTTP server."""
    started: list[Live] = []

    def start(alliance: AllianceConfig | None = None, clock: Clock = system_clock) -> Live:
        loop = build(
            test_settings(database_url, fake_slack.url),
            alliance=alliance or alliance_config(),
            clock=clock,
        )
        server = LiveServer(create_web_app(loop)).start()
        live = Live(loop=loop, server=server, slack=fake_slack, http=httpx.Client(timeout=10))
        started.append(live)
        return live

    yield start
    for live in started:
        live.http.close()
        live.server.stop()
        live.loop.engine.dispose()


@pytest.fixture
def live(make_live: Callable[..., Live]) -> Live:
    """LearnLoop with the test alliance, live over HTTP."""
    return make_live()


def yaml_dump(data: dict[str, Any]) -> str:
    """YAML text for an alliance dict (for CLI tests)."""
    return yaml.safe_dump(data, sort_keys=False)


# The Learning Board's live app (it builds on the names above, so it is imported last).
from board_fixtures import board_live  # noqa: E402, F401 - re-exported fixture

"""/readyz: Slack's answer cached and bounded in time; the schema compared with the code's head.

Probes are made over real HTTP with a client timeout of a few seconds, as an orchestrator's
probe would be: a probe that held on longer would fail with a timeout, not pass slowly.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from conftest import Live, alliance_config
from conftest import test_settings as settings_for
from live_server import LiveServer
from slack_api import FakeSlackAPI
from sqlalchemy import Engine, inspect, text
from worker_process import wait_for

from bot.app import build
from bot.readiness import SlackReadiness, auth_test_call
from bot.settings import ConfigError
from bot.web.routes import create_web_app
from storage.db import (
    MIGRATIONS,
    alembic_config,
    code_head,
    known_revisions,
    make_engine,
    migrate,
    schema_state,
)

PROBE_TIMEOUT = 3.0  # what an orchestrator would allow a probe; Slack is made slower than it


class FakeMonotonic:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def probe(live: Live) -> httpx.Response:
    return httpx.get(live.server.url + "/readyz", timeout=PROBE_TIMEOUT)


def with_clock(live: Live, clock: FakeMonotonic) -> SlackReadiness:
    readiness = SlackReadiness(auth_test_call("xoxb-test-token", live.slack.url), clock=clock)
    live.loop.slack_readiness = readiness
    return readiness


def test_probes_reuse_slacks_answer(live: Live) -> None:
    for _ in range(3):
        resp = probe(live)
        assert resp.status_code == 200
        assert resp.json() == {"status": "ready", "database": "ok", "schema": "ok", "slack": "ok"}
    assert len(live.slack.calls("auth.test")) == 1


def test_a_revoked_token_shows_once_the_answer_is_old(live: Live) -> None:
    clock = FakeMonotonic()
    with_clock(live, clock)
    assert probe(live).status_code == 200
    live.slack.queue("auth.test", {"ok": False, "error": "invalid_auth"})
    clock.now += 10
    assert probe(live).status_code == 200  # still Slack's answer of 10 s ago
    clock.now += 25
    resp = probe(live)
    assert resp.status_code == 503
    assert resp.json()["slack"] == "invalid_auth"
    assert len(live.slack.calls("auth.test")) == 2


def test_slow_slack_never_holds_a_probe(live: Live) -> None:
    clock = FakeMonotonic()
    readiness = with_clock(live, clock)
    live.slack.slow_down("auth.test", 6)
    resp = probe(live)  # would raise ReadTimeout if the probe waited for Slack
    assert resp.status_code == 503
    assert resp.json()["slack"] == "no answer yet"
    # The call in the background gives up on its own short timeout, without retrying.
    wait_for(lambda: readiness.answer().status != "no answer yet", 10, "auth.test to time out")
    assert probe(live).json()["slack"] == "timeout"
    assert len(live.slack.calls("auth.test")) == 1


def test_a_recent_answer_is_reported_while_slack_is_slow(live: Live) -> None:
    clock = FakeMonotonic()
    with_clock(live, clock)
    assert probe(live).status_code == 200
    clock.now += 40  # no longer fresh, so Slack is asked again; it is slow
    live.slack.slow_down("auth.test", 6)
    resp = probe(live)
    assert resp.status_code == 200
    assert resp.json()["slack"] == "ok"
    assert resp.json()["slack_checked_seconds_ago"] == 40


def test_slack_errors_are_not_retried(live: Live) -> None:
    clock = FakeMonotonic()
    with_clock(live, clock)
    live.slack.queue("auth.test", {"ok": False, "error": "internal_error"}, status=500)
    live.slack.queue("auth.test", {"ok": False, "error": "internal_error"}, status=500)
    resp = probe(live)
    assert resp.status_code == 503
    assert resp.json()["slack"] == "internal_error"
    assert len(live.slack.calls("auth.test")) == 1  # the client's 5xx retries are off


def test_unreachable_slack_is_reported_not_waited_for(live: Live) -> None:
    closed = FakeSlackAPI().start()
    url = closed.url
    closed.stop()  # nothing listens there any more
    live.loop.slack_readiness = SlackReadiness(auth_test_call("xoxb-test-token", url))
    resp = probe(live)
    assert resp.status_code == 503
    assert resp.json()["slack"] in {"unreachable", "no answer yet"}


# ----------------------------------------------------------------------------- the schema

PROBE_REVISION = '''"""a release after this one (tests only)

Revision ID: 9999probe
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "9999probe"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("schema_probe", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("schema_probe")
'''


@pytest.fixture
def next_release(tmp_path: Path) -> Path:
    """This code's migrations plus one more: what the next release of LearnLoop would ship."""
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "versions" / "9999_probe.py").write_text(PROBE_REVISION.format(head=code_head()))
    return folder


@pytest.fixture
def restore_schema(engine: Engine, next_release: Path) -> Iterator[None]:
    """Put the (shared PostgreSQL) test database back at this code's head afterwards."""
    yield
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS schema_probe"))
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": code_head()})


def test_schema_state_compares_the_revision_with_the_head(
    engine: Engine, next_release: Path, restore_schema: None
) -> None:
    head = code_head()
    assert schema_state(engine, head, known_revisions()).state == "current"
    ahead = schema_state(engine, code_head(next_release), known_revisions(next_release))
    assert (ahead.state, ahead.database, ahead.code) == ("behind", head, "9999probe")
    assert "run `learnloop migrate`" in ahead.problem() and not ahead.usable
    migrate(engine, migrations=next_release)
    older_code = schema_state(engine, head, known_revisions())
    assert older_code.state == "newer" and older_code.usable


def test_a_database_behind_the_code_is_refused_or_upgraded(
    database_url: str, fake_slack: FakeSlackAPI, next_release: Path, restore_schema: None
) -> None:
    settings = settings_for(database_url, fake_slack.url)
    if database_url.startswith("sqlite"):
        # The embedded database upgrades itself.
        loop = build(settings, alliance=alliance_config(), migrations=next_release)
        assert inspect(loop.engine).has_table("schema_probe")
        loop.engine.dispose()
        return
    with pytest.raises(ConfigError) as refused:
        build(settings, alliance=alliance_config(), migrations=next_release)
    (problem,) = refused.value.problems
    assert problem == (
        f"DATABASE_URL: the database schema is at revision {code_head()}, behind this "
        "LearnLoop's 9999probe: run `learnloop migrate`"
    )


def test_readyz_says_when_the_database_falls_behind(
    database_url: str,
    fake_slack: FakeSlackAPI,
    next_release: Path,
    restore_schema: None,
) -> None:
    engine = make_engine(database_url)
    migrate(engine, migrations=next_release)
    loop = build(
        settings_for(database_url, fake_slack.url),
        alliance=alliance_config(),
        migrations=next_release,
    )
    with LiveServer(create_web_app(loop)) as server:
        ready = httpx.get(server.url + "/readyz", timeout=PROBE_TIMEOUT)
        assert ready.status_code == 200 and ready.json()["schema"] == "ok"
        # Restored from a backup taken before the last migration:
        command.downgrade(alembic_config(engine, next_release), "-1")
        behind = httpx.get(server.url + "/readyz", timeout=PROBE_TIMEOUT)
    loop.engine.dispose()
    engine.dispose()
    assert behind.status_code == 503
    assert behind.json()["schema"] == "behind"
    assert "run `learnloop migrate`" in behind.json()["schema_problem"]


def test_serve_refuses_a_database_behind_the_code_in_one_line(
    database_url: str, fake_slack: FakeSlackAPI, next_release: Path, tmp_path: Path
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite upgrades itself (previous test)")
    config = tmp_path / "learnloop.yml"
    shutil.copy(Path(__file__).resolve().parents[2] / "bot" / "examples" / "alliance.yml", config)
    # The real CLI, run as the next release would be: with one more migration than the database.
    program = (
        "import sys, pathlib, storage.db as db; db.MIGRATIONS = pathlib.Path(sys.argv[1]); "
        "sys.argv = ['learnloop', 'serve', '--host', '127.0.0.1', '--port', '0']; "
        "from bot.cli import main; main()"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": fake_slack.url,
        "LEARNLOOP_CONFIG": str(config),
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "-c", program, str(next_release)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "behind this LearnLoop's 9999probe: run `learnloop migrate`" in lines[0]

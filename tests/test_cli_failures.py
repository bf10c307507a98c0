"""Every operator-facing failure is one line naming cause and fix, with the documented code.

Each case runs the installed `learnloop` as a subprocess, as an operator (or a cron job) would,
with nothing from the developer's environment but PATH.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
EXIT_FAILED = 1
EXIT_CONFIG = 2


def learnloop() -> list[str]:
    script = Path(sys.executable).with_name("learnloop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*learnloop(), *args],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def pilot(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "bot" / "examples" / "alliance.yml", tmp_path / "learnloop.yml")
    return tmp_path


SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "secret"}


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The failure's single line (nothing else on stderr: no traceback, no library logs)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def test_prompts_status_needs_no_slack_token(pilot: Path) -> None:
    # It only reads the database, so an operator can run it where no token is set.
    result = run(pilot, "prompts", "status", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    assert '"cohort": "weekly"' in result.stdout
    assert result.stderr == ""  # no Alembic INFO lines, no Bolt warnings


def test_migrate_to_a_database_that_does_not_exist(pilot: Path, postgres_url: str) -> None:
    missing = make_url(postgres_url).set(database="learnloop_no_such_database")
    url = missing.render_as_string(hide_password=False)
    result = run(pilot, "migrate", DATABASE_URL=url)
    assert result.returncode == EXIT_CONFIG
    line = one_error_line(result)
    assert "learnloop_no_such_database" in line and "does not exist" in line
    assert "createdb" in line  # the fix


def test_serve_with_postgresql_down(pilot: Path) -> None:
    url = f"postgresql+psycopg://learnloop:pw@127.0.0.1:{closed_port()}/learnloop"
    result = run(pilot, "serve", "--workers", "1", DATABASE_URL=url, **SLACK)
    assert result.returncode == EXIT_FAILED
    line = one_error_line(result)
    assert "cannot reach the database" in line and "Connection refused" in line
    assert "DATABASE_URL" in line and ":pw@" not in line  # the fix, never the password


def test_an_unsupported_database_url(pilot: Path) -> None:
    result = run(pilot, "migrate", DATABASE_URL="mysql://app:secret@db/learnloop")
    assert result.returncode == EXIT_CONFIG
    line = one_error_line(result)
    assert line.startswith("error: DATABASE_URL: mysql:// is not supported")
    assert "postgresql://" in line and "sqlite:///" in line
    assert "secret" not in line


def test_socket_when_slack_cannot_be_reached(pilot: Path) -> None:
    result = run(
        pilot,
        "socket",
        SLACK_APP_TOKEN="xapp-1",
        SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/",
        **SLACK,
    )
    assert result.returncode == EXIT_FAILED
    line = one_error_line(result)
    assert "cannot reach Slack at http://127.0.0.1:" in line and "network" in line


def test_verbose_shows_the_traceback_and_the_line(pilot: Path) -> None:
    url = f"postgresql+psycopg://learnloop@127.0.0.1:{closed_port()}/learnloop"
    result = run(pilot, "--verbose", "migrate", DATABASE_URL=url)
    assert result.returncode == EXIT_FAILED
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: cannot reach the database")


def test_migrate_prints_no_library_log_lines(pilot: Path) -> None:
    result = run(pilot, "migrate")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "upgraded from empty" in result.stdout
    assert result.stderr == ""  # Alembic's "Running upgrade …" only under --verbose

"""Running the real `learnloop worker` as a child process against the fake Slack Web API.

Shared by the process tests and bench/fanout.py. This module does not depend on pytest.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import yaml

if TYPE_CHECKING:
    from slack_api import FakeSlackAPI

CHANNEL = "C0EVERYONE"


def prompts_received(fake: FakeSlackAPI) -> Counter[str]:
    """Prompts really posted, per member."""
    return Counter(
        m["channel"][1:]
        for m in fake.messages()
        if (m.get("metadata") or {}).get("event_type") == "learnloop_prompt"
    )


def ledger(database_url: str, sql: str) -> int:
    """One number read from the ledger, on a connection of its own."""
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def due_now(zone: str = "Europe/London") -> dict[str, Any]:
    """A schedule whose slot is today, a minute ago (so the worker's first pass finds it due)."""
    now = dt.datetime.now(ZoneInfo(zone))
    slot = max(now - dt.timedelta(minutes=1), now.replace(hour=0, minute=0))
    return {"days": [now.strftime("%a").lower()], "time": slot.strftime("%H:%M")}


def channel_alliance(schedule: dict[str, Any] | None = None) -> dict[str, Any]:
    """One agency whose members are everyone in CHANNEL; one weekly cohort."""
    return {
        "alliance": {"name": "Process Test Alliance", "timezone": "Europe/London"},
        "agencies": [{"id": "everyone", "name": "Everyone", "channel": CHANNEL}],
        "cohorts": [{"id": "weekly", "schedule": schedule or due_now()}],
    }


def write_config(folder: Path, alliance: dict[str, Any]) -> Path:
    """The alliance file a worker reads."""
    path = folder / "alliance.yml"
    path.write_text(yaml.safe_dump(alliance, sort_keys=False))
    return path


def worker_env(database_url: str, slack_url: str, config: Path) -> dict[str, str]:
    """The environment of a deployed worker, pointed at the test database and fake Slack."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "LEARNLOOP_", "LOG_"))
    }
    env.update(
        SLACK_BOT_TOKEN="xoxb-process-test",
        SLACK_SIGNING_SECRET="process-test-secret",
        SLACK_API_URL=slack_url,
        DATABASE_URL=database_url,
        LEARNLOOP_CONFIG=str(config),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        # Any free port: several workers (and other test runs) share the machine.
        WORKER_METRICS_PORT="0",
    )
    return env


class WorkerProcess:
    """One `learnloop worker` child process, its log in a file."""

    def __init__(
        self,
        folder: Path,
        env: dict[str, str],
        name: str,
        tick_seconds: int = 1,
        worker_id: str | None = None,
    ):
        self.folder = folder
        self.worker_id = worker_id  # `--id`: its name in the ledger's leases (default: host:pid)
        self.env = env
        self.name = name
        self.tick_seconds = tick_seconds
        self.log_path = folder / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.peak_rss_kb = 0

    def start(self) -> WorkerProcess:
        """Start it (cwd is the test folder, so no stray .env is read)."""
        log = self.log_path.open("ab")
        command = ["worker", "--tick-seconds", str(self.tick_seconds)]
        if self.worker_id:
            command += ["--id", self.worker_id]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *command],
            cwd=self.folder,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self.proc is not None
        return self.proc.pid

    def sample_rss(self) -> int:
        """Read the child's peak resident set size so far (kB, from /proc), and remember it."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_kb = max(self.peak_rss_kb, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            pass
        return self.peak_rss_kb

    def kill(self) -> None:
        """SIGKILL: no chance to tidy up."""
        assert self.proc is not None
        self.sample_rss()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait for a graceful exit; returns the exit code."""
        assert self.proc is not None
        self.sample_rss()
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop_quietly(self) -> None:
        """Make sure it is gone (test clean-up)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        """What it logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for(predicate: Any, timeout: float, what: str, poll: float = 0.05) -> None:
    """Poll until predicate() is true, or fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(poll)

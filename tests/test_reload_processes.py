"""Reloading the alliance file in real processes: `serve --workers 2` and SIGHUP.

SIGHUP to `serve` validates the file once and passes the signal to each web worker; a broken
file is named in one log line and reaches no worker. The waits are generous because workers
start slowly on a busy machine; nothing here asserts how long anything took.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_api import FakeSlackAPI
from slack_requests import SignedRequest, slash_command
from worker_process import wait_for, worker_env, write_config

SECRET = "process-test-secret"  # worker_env's signing secret
START_SECONDS = 240
NEWBIE = "U0NEWBIE"
ALLIANCE: dict[str, Any] = {
    "alliance": {"name": "Reload Alliance", "timezone": "Europe/London"},
    "agencies": [{"id": "housing", "name": "Housing", "members": ["U0ALICE"]}],
    "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(parent: int) -> set[int]:
    """The worker processes of `serve` (not its multiprocessing helper)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(parent) and b"spawn_main" in cmdline:
            found.add(int(status.parent.name))
    return found


def log_entries(path: Path) -> list[dict[str, Any]]:
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries


def messages(path: Path, part: str) -> list[dict[str, Any]]:
    return [e for e in log_entries(path) if part in str(e.get("message", e.get("event", "")))]


@pytest.fixture
def serve(
    tmp_path: Path,
) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path, str, FakeSlackAPI]]:
    slack = FakeSlackAPI().start()
    config = write_config(tmp_path, ALLIANCE)
    env = worker_env(f"sqlite:///{tmp_path / 'learnloop.db'}", slack.url, config)
    env["LOG_FORMAT"] = "json"
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--workers", "2"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
            try:
                healthy = httpx.get(url + "/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False
            return healthy and len(children(proc.pid)) == 2

        wait_for(up, START_SECONDS, "two workers answering", poll=0.5)
        yield proc, config, log_path, url, slack
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        slack.stop()


def post(url: str, req: SignedRequest) -> httpx.Response:
    with httpx.Client(timeout=120) as http:  # a new connection: the kernel picks a worker
        return http.post(url + "/slack/events", content=req.body, headers=req.headers)


def test_sighup_to_serve_reloads_every_worker_and_a_broken_file_reaches_none(
    serve: tuple[subprocess.Popen[bytes], Path, Path, str, FakeSlackAPI],
) -> None:
    proc, config, log_path, url, slack = serve
    broken = {**ALLIANCE, "alliance": {**ALLIANCE["alliance"], "timezone": "Mars/Olympus"}}
    write_config(config.parent, broken)
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: messages(log_path, "not reloaded"), 60, "the broken file's log line")
    (line,) = messages(log_path, "not reloaded")
    assert "alliance.timezone" in line["message"] and "1 problem" in line["message"]
    assert proc.poll() is None, "serve kept running"

    grown = {**ALLIANCE, "agencies": [{**ALLIANCE["agencies"][0], "members": ["U0ALICE", NEWBIE]}]}
    write_config(config.parent, grown)
    proc.send_signal(signal.SIGHUP)

    # Both workers are asked; on a loaded machine uvicorn's supervisor may meanwhile replace a
    # worker that missed its health ping, and the replacement reads the new file as it starts
    # (no "reloaded" line). What must hold is what people see: below, whichever worker answers
    # knows the person added to the file.
    wait_for(
        lambda: len(messages(log_path, "reloaded: version")) >= 1, 120, "the workers to reload"
    )
    assert len(messages(log_path, "not reloaded")) == 1, "the broken file was never re-read"
    assert messages(log_path, "asked 2 web workers to reload")
    # Whichever worker answers, the person added to the file can check in.
    for _ in range(6):
        assert (
            post(url, slash_command("/checkin", user_id=NEWBIE, signing_secret=SECRET)).status_code
            == 200
        )
    wait_for(lambda: len(slack.calls("views.open")) == 6, 120, "six check-in forms")
    assert not [c for c in slack.calls("chat.postEphemeral") if c.params.get("user") == NEWBIE]


def test_sighup_to_the_worker_prompts_people_new_to_the_file(tmp_path: Path) -> None:
    from worker_process import WorkerProcess, due_now

    slack = FakeSlackAPI().start()
    slack.set_user_email("new.starter@housing.example", NEWBIE)
    alliance = {**ALLIANCE, "cohorts": [{"id": "weekly", "schedule": due_now()}]}
    config = write_config(tmp_path, alliance)
    env = worker_env(f"sqlite:///{tmp_path / 'learnloop.db'}", slack.url, config)
    worker = WorkerProcess(tmp_path, env, "worker").start()
    try:

        def prompted(user: str) -> bool:
            assert worker.proc is not None and worker.proc.poll() is None, worker.log()[-3000:]
            return any(c.params.get("channel") == user for c in slack.calls("chat.postMessage"))

        wait_for(lambda: prompted("U0ALICE"), START_SECONDS, "the first prompt", poll=0.2)
        members = ["U0ALICE", "new.starter@housing.example"]
        grown = {**alliance, "agencies": [{**ALLIANCE["agencies"][0], "members": members}]}
        write_config(tmp_path, grown)
        assert worker.proc is not None
        worker.proc.send_signal(signal.SIGHUP)

        wait_for(lambda: prompted(NEWBIE), 120, "the prompt to the person added", poll=0.2)
        assert "reloaded: version" in worker.log()
        assert worker.proc.poll() is None
        # Her prompts only: on a Friday after 09:00 the weekly alliance note is due too.
        to_alice = [
            c for c in slack.calls("chat.postMessage") if c.params.get("channel") == "U0ALICE"
        ]
        prompts = [c for c in to_alice if "Share a learning" in str(c.params.get("blocks", ""))]
        texts = [str(c.params.get("text", ""))[:80] for c in to_alice]
        assert len(prompts) == 1, f"Alice got {len(prompts)} prompts, not one: {texts}"
    finally:
        worker.stop_quietly()
        slack.stop()

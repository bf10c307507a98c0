"""Every `learnloop` command the quick start documents runs, as a real subprocess.

The commands are read out of docs/quickstart.md and the README's "Try it" block, so a command
added to the guide without a test here fails `test_every_documented_command_is_run`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet
from slack_api import FakeSlackAPI

ROOT = Path(__file__).resolve().parents[1]
RUN = {"check-config", "demo", "manifest", "migrate", "prompts send", "socket", "serve"}


def learnloop() -> list[str]:
    """The installed `learnloop` script (the module when the script is not on disk)."""
    script = Path(sys.executable).with_name("learnloop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def documented_commands() -> set[str]:
    """`learnloop …` subcommands in the quick start's and README's shell blocks."""
    found = set()
    for doc in (ROOT / "docs" / "quickstart.md", ROOT / "README.md"):
        for block in re.findall(r"```bash\n(.*?)```", doc.read_text(), flags=re.S):
            for match in re.finditer(r"\blearnloop ([a-z-]+)(?: ([a-z-]+))?", block):
                sub, rest = match.group(1), match.group(2)
                found.add(f"{sub} {rest}" if sub == "prompts" and rest else sub)
    return found


def run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*learnloop(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def pilot(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working directory set up as step 4 says: learnloop.yml and a .env from the example."""
    shutil.copy(ROOT / "bot" / "examples" / "alliance.yml", tmp_path / "learnloop.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    # Nothing from the developer's own environment: only what the guide sets.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LOG_LEVEL": "WARNING"}
    return tmp_path, env


def test_every_documented_command_is_run() -> None:
    assert documented_commands() <= RUN, documented_commands() - RUN


def test_check_config_passes_on_the_example_and_names_a_bad_field(
    pilot: tuple[Path, dict[str, str]],
) -> None:
    cwd, env = pilot
    ok = run(["check-config"], cwd, env)
    assert ok.returncode == 0, ok.stderr
    assert "learnloop.yml is valid" in ok.stdout

    data = yaml.safe_load((cwd / "learnloop.yml").read_text())
    data["cohorts"][0]["schedule"]["time"] = "25:99"
    (cwd / "broken.yml").write_text(yaml.safe_dump(data))
    bad = run(["check-config", "broken.yml"], cwd, env)
    assert bad.returncode == 2
    assert "cohorts.0.schedule.time" in bad.stderr


def test_demo_runs_in_an_empty_directory(pilot: tuple[Path, dict[str, str]]) -> None:
    cwd, env = pilot
    (cwd / ".env").unlink()
    result = run(["demo"], cwd, env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Check-ins by agency" in result.stdout
    assert (cwd / "learnloop-demo.db").exists()


def test_manifest_prints_what_the_guide_says_to_paste(pilot: tuple[Path, dict[str, str]]) -> None:
    cwd, env = pilot
    result = run(["manifest"], cwd, env)
    assert result.returncode == 0
    assert yaml.safe_load(result.stdout) == yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_migrate_creates_the_database_then_finds_it_current(
    pilot: tuple[Path, dict[str, str]],
) -> None:
    cwd, env = pilot
    first = run(["migrate"], cwd, env)
    assert first.returncode == 0, first.stderr
    assert "upgraded from empty" in first.stdout
    again = run(["migrate"], cwd, env)
    assert again.returncode == 0 and "up to date" in again.stdout
    assert (cwd / "learnloop.db").exists()


def test_prompts_send_reaches_slack_with_the_env_file(
    pilot: tuple[Path, dict[str, str]], fake_slack: FakeSlackAPI
) -> None:
    cwd, env = pilot
    env = {**env, "SLACK_API_URL": fake_slack.url}
    result = run(["prompts", "send", "--now", "--json"], cwd, env)
    assert result.returncode == 0, result.stderr[-2000:]
    reports = json.loads(result.stdout)
    sent = sum(r["sent"] for r in reports)
    assert sent > 0 and sent == len(fake_slack.calls("chat.postMessage"))
    # The token from .env (step 4) is what Slack received.
    assert {c.token for c in fake_slack.calls("chat.postMessage")} == {"xoxb-your-bot-token"}


def test_socket_names_what_is_missing(pilot: tuple[Path, dict[str, str]]) -> None:
    cwd, env = pilot
    (cwd / ".env").write_text("SLACK_BOT_TOKEN=xoxb-1\nSLACK_SIGNING_SECRET=s\n")
    result = run(["socket"], cwd, env)
    assert result.returncode == 2
    assert "SLACK_APP_TOKEN" in result.stderr


def test_serve_answers_health_and_refuses_oauth_without_a_key(
    pilot: tuple[Path, dict[str, str]], fake_slack: FakeSlackAPI
) -> None:
    cwd, env = pilot
    env = {**env, "SLACK_API_URL": fake_slack.url}
    refused = run(["serve"], cwd, {**env, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"})
    assert refused.returncode == 2
    assert "LEARNLOOP_ENCRYPTION_KEY" in refused.stderr

    port = _free_port()
    key = Fernet.generate_key().decode()
    process = subprocess.Popen(
        [*learnloop(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=cwd,
        env={**env, "LEARNLOOP_ENCRYPTION_KEY": key, "LOG_LEVEL": "INFO"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/healthz")
        assert health.status_code == 200
        assert "X-Request-ID" in health.headers
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(line["logger"].startswith("uvicorn") for line in lines), stderr[-2000:]
    assert "xoxb-your-bot-token" not in stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)

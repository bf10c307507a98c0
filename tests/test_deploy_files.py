"""Deployment files name only commands that exist, and the README gives the two commands."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml
from typer.testing import CliRunner

from bot.cli import app

ROOT = Path(__file__).resolve().parents[1]


def assert_is_learnloop_command(argv: list[str]) -> None:
    assert argv[0] == "learnloop", argv
    result = CliRunner().invoke(app, [*argv[1:], "--help"])
    assert result.exit_code == 0, (argv, result.output)


def test_procfile_processes_exist() -> None:
    entries = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert {"web", "release"} <= set(entries)
    for command in entries.values():
        assert_is_learnloop_command(shlex.split(command))


def test_compose_services_run_learnloop_commands() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    commands = [s["command"] for s in compose["services"].values() if "command" in s]
    assert len(commands) >= 3
    for command in commands:
        assert_is_learnloop_command(command)


def test_dockerfile_default_command_exists() -> None:
    cmd = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    )
    assert_is_learnloop_command(yaml.safe_load(cmd[3:].strip()))


def test_readme_gives_the_try_and_test_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "learnloop demo" in readme
    assert "\npytest\n" in readme

"""Deployment files name only commands that exist, and the README gives the two commands."""

from __future__ import annotations

import fnmatch
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import Live
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings

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


# ------------------------------------------------------------- the image, without Docker


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in dockerfile_instructions():
        if word == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(rest)))
    return env


def test_the_container_runs_as_a_non_root_user_it_creates() -> None:
    instructions = dockerfile_instructions()
    users = [rest for word, rest in instructions if word == "USER"]
    assert users, "the image runs as root"
    user = users[-1]
    assert user not in {"root", "0"} and not user.startswith("0:")
    created = [i for i, (w, r) in enumerate(instructions) if w == "RUN" and "useradd" in r]
    assert created and f" {user}" in instructions[created[0]][1]
    assert created[0] < instructions.index(("USER", user))


def test_the_default_sqlite_database_is_in_a_directory_the_user_owns() -> None:
    from sqlalchemy.engine import make_url

    instructions = dockerfile_instructions()
    user = [rest for word, rest in instructions if word == "USER"][-1]
    url = make_url(dockerfile_env()["DATABASE_URL"])
    assert url.get_backend_name() == "sqlite" and url.database
    folder = str(Path(url.database).parent)
    assert folder.startswith("/") and folder not in {"/", "/app"}
    run_lines = " && ".join(rest for word, rest in instructions if word == "RUN")
    assert f"mkdir -p {folder}" in run_lines
    assert re.search(rf"chown {user}(:{user})? {re.escape(folder)}\b", run_lines), run_lines
    assert ("VOLUME", f'["{folder}"]') in instructions


def healthcheck_program(argv: list[str]) -> str:
    assert argv[:2] == ["python", "-c"], argv
    return argv[2]


def run_probe(program: str, env: dict[str, str]) -> int:
    """Run a healthcheck's python program as the container would (our interpreter)."""
    result = subprocess.run(
        [sys.executable, "-c", program],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        timeout=30,
    )
    return result.returncode


def test_the_image_healthcheck_asks_the_web_process(live: Live) -> None:
    [check] = [rest for word, rest in dockerfile_instructions() if word == "HEALTHCHECK"]
    argv = shlex.split(check.split(" CMD ", 1)[1])
    program = healthcheck_program(argv)
    assert "/healthz" in program
    assert run_probe(program, {"PORT": str(live.server.port)}) == 0
    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        nobody = str(free.getsockname()[1])
    assert run_probe(program, {"PORT": nobody}) != 0


def test_compose_gives_the_worker_its_own_healthcheck() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    worker = services["worker"]["healthcheck"]
    assert worker["test"][0] == "CMD"
    program = healthcheck_program(worker["test"][1:])
    assert "WORKER_METRICS_PORT" in program and "/healthz" in program
    assert dockerfile_env()["WORKER_METRICS_PORT"] == str(
        Settings(_env_file=None).worker_metrics_port
    )
    # The one-off migration must not be judged by the web process's check.
    assert services["migrate"]["healthcheck"] == {"disable": True}
    assert "healthcheck" not in services["web"]  # the image's own, which asks /healthz


def test_compose_header_copies_the_example_alliance_file_first() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    header = [
        line.lstrip("# ").strip()
        for line in (ROOT / "compose.yaml").read_text().splitlines()
        if line.startswith("#")
    ]
    steps = [line.split("  #", 1)[0].strip() for line in header]
    copy = "cp bot/examples/alliance.yml learnloop.yml"
    assert copy in steps and "cp .env.example .env" in steps
    assert steps.index(copy) < steps.index("docker compose up --build")
    mounts = compose["services"]["web"]["volumes"]
    assert "./learnloop.yml:/config/learnloop.yml:ro" in mounts


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, closely enough: a pattern matches the path or one of its parents."""
    parts = Path(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(candidate, pattern.removeprefix("**/"))
        or fnmatch.fnmatch(candidate, pattern)
        or fnmatch.fnmatch(Path(candidate).name, pattern.removeprefix("**/"))
        for pattern in patterns
        for candidate in candidates
    )


def test_dockerignore_keeps_secrets_and_junk_out_but_not_what_the_image_needs() -> None:
    patterns = dockerignore_patterns()
    for path in (".env", ".venv/bin/python", ".git/config", "learnloop.db", "learnloop.yml"):
        assert ignored(path, patterns), path
    copied = []
    for word, rest in dockerfile_instructions():
        if word == "COPY":
            *sources, _destination = shlex.split(rest)
            copied.extend(sources)
    assert "constraints.txt" in copied and "bot" in copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not ignored(source, patterns), f"{source} is copied but .dockerignore drops it"

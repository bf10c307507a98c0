"""`learnloop export`, `purge` and `audit`, run as a deployer would run them."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import time_machine
from conftest import ALICE, BOB, TEST_ALLIANCE, Clock_, alliance_config, yaml_dump
from typer.testing import CliRunner

from bot.app import build
from bot.cli import app
from bot.domain.checkins import Source
from bot.settings import Settings

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


class SilentMessenger:
    """Seeding check-ins sends nothing."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected message: {name}")


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for the CLI: the test database and an alliance file."""
    config = tmp_path / "alliance.yml"
    config.write_text(yaml_dump(TEST_ALLIANCE), encoding="utf-8")
    return {"DATABASE_URL": database_url, "LEARNLOOP_CONFIG": str(config)}


def seed(database_url: str, entries: list[tuple[str, str, str, dt.datetime]]) -> None:
    """Store (user, learned, visibility, when) check-ins through the real service."""
    clock = Clock_(NOW)
    loop = build(
        Settings(_env_file=None, database_url=database_url),
        alliance=alliance_config(),
        clock=clock,
        messenger=SilentMessenger(),  # type: ignore[arg-type]
        with_slack=False,
    )
    for user, learned, visibility, when in entries:
        clock.now = when
        loop.services.checkins.submit(
            "slack",
            user,
            answers={"learned": learned},
            themes=[],
            visibility=visibility,
            source=Source.MODAL,
        )
    loop.engine.dispose()


def run(env: dict[str, str], *args: str) -> Any:
    result = CliRunner().invoke(app, list(args), env=env)
    return result


def audit_lines(env: dict[str, str]) -> list[dict[str, Any]]:
    result = run(env, "audit", "--json", "--actor", "test reader")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_export_member_prints_their_data_and_is_audited(
    cli: dict[str, str], database_url: str
) -> None:
    seed(
        database_url,
        [(ALICE, "Mine, anonymously", "anonymous", NOW), (BOB, "Bob's", "team", NOW)],
    )
    result = run(cli, "export", "--member", ALICE)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["subject"]["user_id"] == ALICE
    assert [c["answers"]["learned"] for c in doc["checkins"]] == ["Mine, anonymously"]
    [event] = audit_lines(cli)  # (reading the log is recorded after it is read)
    assert event["action"] == "privacy.exported"
    assert event["actor"] == f"cli:{getpass.getuser()}"


def test_export_agency_to_a_private_file_with_a_named_actor(
    cli: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    seed(database_url, [(ALICE, "Anonymous one", "anonymous", NOW)])
    out = tmp_path / "housing.json"
    result = run(cli, "export", "--agency", "housing", "--out", str(out), "--actor", "dpo SAR-14")
    assert result.exit_code == 0, result.output
    assert "1 check-in(s)" in result.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    doc = json.loads(out.read_text(encoding="utf-8"))
    [entry] = doc["checkins"]
    assert entry["byline"] == "Anonymous" and "author" not in entry
    assert ALICE in {m["user_id"] for m in doc["members"]}
    assert audit_lines(cli)[0]["actor"] == "dpo SAR-14"
    assert audit_lines(cli)[0]["target"] == "agency:housing"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "exactly one of --member"),
        (("--member", ALICE, "--agency", "housing"), "exactly one of --member"),
        (("--member", "U0NOBODY"), "not set up as a member"),
        (("--agency", "nowhere"), "no agency 'nowhere'"),
    ],
)
def test_export_mistakes_say_what_to_do(
    cli: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = run(cli, "export", *args)
    assert result.exit_code == 2
    assert message in result.stderr.replace("\n", " ")


def test_purge_with_a_controlled_clock(cli: dict[str, str], database_url: str) -> None:
    seed(
        database_url,
        [
            (ALICE, "Three years ago", "team", NOW - dt.timedelta(days=3 * 365)),
            (BOB, "Twenty-five months ago", "team", dt.datetime(2024, 11, 1, tzinfo=UTC)),
            (ALICE, "Last year", "team", NOW - dt.timedelta(days=365)),
        ],
    )
    with time_machine.travel(NOW, tick=False):
        preview = run(cli, "purge", "--dry-run")
        assert preview.exit_code == 0, preview.output
        assert "Would delete 2 check-in(s)" in preview.stdout
        assert "cutoff 2024-12-01 10:00 UTC" in preview.stdout
        done = run(cli, "purge", "--actor", "ops")
        assert done.exit_code == 0, done.output
        assert "Deleted 2 check-in(s)" in done.stdout
        again = run(cli, "purge")
        assert "Deleted 0 check-in(s)" in again.stdout
    doc = json.loads(run(cli, "export", "--member", ALICE).stdout)
    assert [c["answers"]["learned"] for c in doc["checkins"]] == ["Last year"]
    actions = [(e["actor"], e["action"], e["details"].get("checkins")) for e in audit_lines(cli)]
    user = f"cli:{getpass.getuser()}"
    assert [a for a in actions if a[1].startswith("retention.")] == [
        (user, "retention.previewed", 2),
        ("ops", "retention.purged", 2),
        (user, "retention.purged", 0),
    ]
    assert (user, "privacy.exported", 1) in actions


def test_audit_since_and_table(cli: dict[str, str], database_url: str) -> None:
    seed(database_url, [(ALICE, "x", "team", NOW)])
    run(cli, "export", "--member", ALICE, "--actor", "early")
    tomorrow = (dt.datetime.now(UTC) + dt.timedelta(days=2)).date().isoformat()
    result = run(cli, "audit", "--since", tomorrow)
    assert result.exit_code == 0 and "No audit events in that period." in result.stdout
    table = run(cli, "audit")
    assert "privacy.exported" in table.stdout and "early" in table.stdout
    bad = run(cli, "audit", "--since", "last tuesday")
    assert bad.exit_code == 2 and "write a date like 2026-11-01" in bad.stderr
    # Every run of `audit` is itself in the log.
    # (the refused `--since` read nothing, so it is not recorded)
    assert [e["action"] for e in audit_lines(cli)].count("audit.viewed") == 2


def test_erase_on_someones_behalf(cli: dict[str, str], database_url: str) -> None:
    seed(database_url, [(ALICE, "Gone soon", "team", NOW), (BOB, "Stays", "team", NOW)])
    refused = run(cli, "erase", "--member", ALICE)  # no answer to the confirmation: aborted
    assert refused.exit_code == 1 and "Permanently delete U0ALICE's 1 check-in(s)" in refused.output
    assert json.loads(run(cli, "export", "--member", ALICE).stdout)["checkins"]
    done = run(cli, "erase", "--member", ALICE, "--yes", "--actor", "dpo ERASE-3")
    assert done.exit_code == 0, done.output
    assert "Erased U0ALICE: 1 check-in(s)" in done.stdout
    gone = run(cli, "export", "--member", ALICE)
    assert gone.exit_code == 2 and "U0ALICE deleted their data" in gone.stderr
    assert run(cli, "export", "--member", BOB).exit_code == 0
    erased = [e for e in audit_lines(cli) if e["action"] == "privacy.deleted"]
    assert [(e["actor"], e["details"]["checkins"]) for e in erased] == [("dpo ERASE-3", 1)]
    assert run(cli, "erase", "--member", "U0NOBODY", "--yes").exit_code == 2


def test_dpo_commands_answer_as_to_an_operator(cli: dict[str, str], database_url: str) -> None:
    # The words are for whoever runs the command, not the person the data is about.
    seed(database_url, [(ALICE, "Gone soon", "team", NOW)])
    unknown = run(cli, "export", "--member", "U0NOBODY")
    assert unknown.exit_code == 2
    said = unknown.stderr.strip()
    assert said == (
        "error: U0NOBODY is not set up as a member on slack: LearnLoop holds nothing about "
        "them. Check the id (a Teams member needs --platform teams)"
    )
    assert "ask your LearnLoop admin" not in unknown.stderr
    first = run(cli, "erase", "--member", ALICE, "--yes")
    assert first.exit_code == 0, first.output
    twice = run(cli, "erase", "--member", ALICE, "--yes")
    assert twice.exit_code == 0, twice.output
    assert (
        "U0ALICE is already erased on " in twice.stdout and "Nothing more to delete" in twice.stdout
    )
    assert "Start again*" not in twice.output and "/learnloop" not in twice.output
    assert [e["action"] for e in audit_lines(cli)].count("privacy.deleted") == 1

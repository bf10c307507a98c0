"""Settings and alliance configuration: every problem named by its field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.alliance import DEFAULT_QUESTION_SET, load_alliance, parse_alliance
from bot.cli import app
from bot.settings import EXAMPLE_CONFIG, ConfigError, load_settings


def example() -> dict:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text())


def problems_of(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_alliance(data)
    return info.value.problems


def test_example_config_is_valid() -> None:
    config = load_alliance(EXAMPLE_CONFIG)
    assert config.alliance.name == "Somerset Learning Alliance"
    assert config.cohort("weekly").schedule.time == dt.time(15, 0)
    assert config.question_set_for(config.cohort("weekly")) is DEFAULT_QUESTION_SET
    assert config.roles_of("U0STEW1") == {"practitioner", "steward"}
    assert config.roles_of("U0MGR1") == {"practitioner", "manager"}


def test_pattern_terms_take_lists_of_words_and_name_a_blank_one() -> None:
    data = example()
    data["pattern_terms"] = {"temporary accommodation": ["Holly House"]}
    assert parse_alliance(data).pattern_terms == {"temporary accommodation": ["Holly House"]}
    data["pattern_terms"] = {"temporary accommodation": ["Holly House", ""]}
    (problem,) = problems_of(data)
    assert problem.startswith("pattern_terms.temporary accommodation.1:")


def test_every_problem_is_reported_with_its_path() -> None:
    data = example()
    data["alliance"]["timezone"] = "Europe/Londn"
    data["cohorts"][0]["schedule"]["time"] = "25:99"
    data["agencies"][1]["id"] = "Hospital Team"
    problems = problems_of(data)
    assert any(
        p.startswith("alliance.timezone: unknown time zone 'Europe/Londn'") for p in problems
    )
    assert any(p.startswith("cohorts.0.schedule.time: bad time '25:99'") for p in problems)
    assert any(p.startswith("agencies.1.id:") for p in problems)
    assert len(problems) == 3


def test_reference_problems_are_all_reported() -> None:
    data = example()
    data["cohorts"][0]["agencies"] = ["housing", "police"]
    data["agencies"].append(dict(data["agencies"][0]))
    data["digests"][1]["scope"] = "agency:nowhere"
    data["cohorts"][0]["question_set"] = "missing"
    problems = problems_of(data)
    assert "cohorts.0.agencies.1: unknown agency 'police'" in problems
    assert "agencies: duplicate id 'housing' (2 times)" in problems
    assert "digests.1.scope: unknown agency 'nowhere'" in problems
    assert "cohorts.0.question_set: unknown question set 'missing'" in problems


def test_question_set_rules() -> None:
    data = example()
    data["question_sets"] = [
        {
            "id": "discharge",
            "questions": [
                {"id": "a", "label": "A?", "required": True, "barrier": True},
                {"id": "b", "label": "B?", "barrier": True},
                {"id": "c", "label": "C?", "kind": "single_choice", "choices": []},
            ],
        }
    ]
    problems = problems_of(data)
    assert any("question_sets.0.questions.2" in p and "choices" in p for p in problems)
    data["question_sets"][0]["questions"].pop()
    assert problems_of(data) == ["question_sets.0: more than one question is marked barrier: true"]


def test_unquoted_yaml_time_is_understood() -> None:
    text = EXAMPLE_CONFIG.read_text().replace('time: "15:00"', "time: 15:00")
    config = parse_alliance(yaml.safe_load(text))
    assert config.cohorts[0].schedule.time == dt.time(15, 0)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LEARNLOOP_CONFIG: no alliance file"):
        load_alliance(tmp_path / "none.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("alliance: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_alliance(bad)


def test_malformed_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith("PORT:")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    settings = load_settings()
    assert settings.port == 8080
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_missing_slack_secret_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    settings = load_settings(slack_bot_token="xoxb-test", _env_file=None)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        settings.require_slack()


def test_check_config_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["check-config", str(EXAMPLE_CONFIG)])
    assert ok.exit_code == 0, ok.output
    assert "is valid" in ok.output
    data = example()
    data["cohorts"][0]["agencies"] = ["nowhere"]
    data["alliance"]["timezone"] = "Mars/Olympus"
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["check-config", str(broken)])
    assert result.exit_code == 2
    assert "alliance.timezone" in result.output


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for args in (
        ["serve"],
        ["socket"],
        ["migrate"],
        ["check-config"],
        ["prompts", "send"],
        ["demo"],
    ):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_check_config_names_every_problem_in_one_pass(tmp_path: Path) -> None:
    # A field error used to hide the cross-references until it was fixed: all come at once.
    data = example()
    data["alliance"]["timezone"] = "Mars/Olympus"  # a field error
    data["agencies"].append({**data["agencies"][0]})  # a duplicate id
    data["cohorts"][0]["agencies"] = [data["agencies"][0]["id"], "nowhere"]  # unknown agency
    data["cohorts"][0]["question_set"] = "short"
    data["question_sets"] = [
        {
            "id": "short",
            "questions": [
                {"id": "learned", "label": "What did you learn?", "kind": "long_text"},
                {"id": "learned", "label": "Again?", "kind": "short_text"},  # duplicate
            ],
        }
    ]
    data["digests"][0]["scope"] = "agency:ghost"  # unknown agency in a digest
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["check-config", str(broken)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == f"{broken}: 6 problems"
    assert [line.strip().split(":", 1)[0] for line in lines[1:]] == [
        "alliance.timezone",
        "agencies",
        "question_sets.0.questions",
        "question_sets.0",
        "cohorts.0.agencies.1",
        "digests.0.scope",
    ]
    assert "  agencies: duplicate id 'housing' (2 times)" in lines
    assert "  cohorts.0.agencies.1: unknown agency 'nowhere'" in lines


def test_check_config_does_not_report_a_broken_field_twice() -> None:
    data = example()
    data["alliance"]["timezone"] = "Mars/Olympus"
    data["agencies"][1]["members"] = "U0ONE"  # not a list: its field error is enough
    assert [p.split(":", 1)[0] for p in problems_of(data)] == [
        "alliance.timezone",
        "agencies.1.members",
    ]

"""How many web worker processes `learnloop serve` starts: --workers, WEB_CONCURRENCY, cores."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.serve import cpu_quota, default_workers, worker_count
from bot.settings import ConfigError, Settings, load_settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)


def test_the_option_beats_the_environment_which_beats_the_cores() -> None:
    assert worker_count(3, settings(web_concurrency=5)) == 3
    assert worker_count(None, settings(web_concurrency=5)) == 5
    assert worker_count(None, settings()) == default_workers() >= 1


def test_web_concurrency_must_be_a_positive_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "0")
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    assert info.value.problems[0].startswith("WEB_CONCURRENCY:")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert load_settings(_env_file=None).web_concurrency == 3


@pytest.mark.parametrize(
    ("cpu_max", "cores"),
    [("200000 100000\n", 2), ("150000 100000\n", 2), ("50000 100000\n", 1), ("max 100000\n", None)],
)
def test_a_containers_cpu_quota_caps_the_default(
    tmp_path: Path, cpu_max: str, cores: int | None
) -> None:
    path = tmp_path / "cpu.max"
    path.write_text(cpu_max)
    assert cpu_quota(path) == cores


def test_no_cgroup_file_means_no_quota(tmp_path: Path) -> None:
    assert cpu_quota(tmp_path / "missing") is None
    (tmp_path / "garbled").write_text("lots\n")
    assert cpu_quota(tmp_path / "garbled") is None

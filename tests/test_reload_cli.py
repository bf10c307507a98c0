"""`learnloop reload`: validates first, then asks every running process (through the database)."""

from __future__ import annotations

import copy
from pathlib import Path

from conftest import TEST_ALLIANCE, yaml_dump
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli.main import app
from storage.db import make_engine


def test_reload_validates_then_bumps_the_counter_every_process_polls(
    tmp_path: Path, database_url: str
) -> None:
    config = tmp_path / "alliance.yml"
    env = {"DATABASE_URL": database_url, "LEARNLOOP_CONFIG": str(config)}
    broken = copy.deepcopy(TEST_ALLIANCE)
    broken["cohorts"][0]["agencies"] = ["nowhere"]
    config.write_text(yaml_dump(broken))
    runner = CliRunner()

    refused = runner.invoke(app, ["reload"], env=env)
    assert refused.exit_code == 2
    assert "cohorts.0.agencies.0: unknown agency 'nowhere'" in refused.output

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            before = conn.execute(text("SELECT count(*) FROM config_reloads")).scalar()
        assert before == 0, "a refused file asks no process to reload"
        grown = copy.deepcopy(TEST_ALLIANCE)
        grown["agencies"][0]["members"].append("U0NEWBIE")
        config.write_text(yaml_dump(grown))
        for expected in (1, 2):
            done = runner.invoke(app, ["reload"], env=env)
            assert done.exit_code == 0, done.output
            assert f"reload {expected}" in done.output
        with engine.connect() as conn:
            assert conn.execute(text("SELECT generation FROM config_reloads")).scalar() == 2
            stored = conn.execute(
                text("SELECT agency_id FROM members WHERE platform_user_id = 'U0NEWBIE'")
            ).scalar()
        assert stored == "housing"
    finally:
        engine.dispose()

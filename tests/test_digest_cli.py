"""`learnloop demo`, `digest preview|send` and `report` as a deployer runs them."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from slack_api import FakeSlackAPI
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.demo_digest import CHART_FILE, REPORT_FILE
from bot.settings import EXAMPLE_CONFIG


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A demo database (two weeks) and what `learnloop demo` printed."""
    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(
        app, ["demo", "--database", f"sqlite:///{folder / 'demo.db'}", "--weeks", "2"]
    )
    assert result.exit_code == 0, result.output
    return folder, result.output


def env(folder: Path, **extra: str) -> dict[str, str]:
    return {
        "LEARNLOOP_CONFIG": str(EXAMPLE_CONFIG),
        "DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        **extra,
    }


def test_demo_ends_with_the_digest_its_chart_and_a_report(demo_db: tuple[Path, str]) -> None:
    folder, output = demo_db
    tail = output[output.index("The digest for #alliance") :]
    assert "What Somerset Learning Alliance learned" in tail
    # The terminal says what the chat platforms say (it used to put this in brackets).
    assert "Who took part — counts per agency, never per person" in tail
    # The demo's week is small: no agency's theme count reaches 3, so no bar may be drawn.
    assert "no theme count reaches 3" in tail and not (folder / CHART_FILE).exists()
    page = (folder / REPORT_FILE).read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page
    assert "U0HOUS" not in page and "U0HOSP" not in page  # no member ids in the pack


def test_the_demo_digest_and_pack_show_a_cross_agency_pattern(demo_db: tuple[Path, str]) -> None:
    folder, output = demo_db
    tail = output[output.index("The digest for #alliance") :]
    patterns = tail[tail.index("Shared patterns") : tail.index("In their words")]
    assert "Learning seen in Open Door Outreach (charity) and Somerset Council Housing" in " ".join(
        patterns.split()
    )
    assert "About: methadone script" in patterns
    page = (folder / REPORT_FILE).read_text(encoding="utf-8")
    assert "<p><em>About: methadone script" in page


def test_the_demo_digest_hears_a_barrier_nobody_raised(demo_db: tuple[Path, str]) -> None:
    _, output = demo_db
    tail = output[output.index("The digest for #alliance") :]
    section = " ".join(
        tail[tail.index("Barriers we keep meeting") : tail.index("Counts are")].split()
    )
    # The barrier the demo walked up the ladder is linked; another recurring one is not.
    assert "Raised as a barrier: Nobody moves the script" in section
    items = section.split(" — came up ")
    assert len(items) >= 3  # the heading's sentence, then at least two barriers
    unraised = [item for item in items[1:] if "Raised as a barrier" not in item.split("“")[0]]
    assert unraised, section


def test_preview_prints_text_and_block_kit(demo_db: tuple[Path, str]) -> None:
    folder, _ = demo_db
    result = CliRunner().invoke(
        app, ["digest", "preview", "--destination", "housing"], env=env(folder)
    )
    assert result.exit_code == 0, result.output
    assert "What Somerset Council Housing learned" in result.output
    payload = json.loads(result.output[result.output.index("[\n") :])
    assert payload[0]["blocks"][0]["type"] == "header"
    everyone = CliRunner().invoke(app, ["digest", "preview", "--week", "2026-W47"], env=env(folder))
    assert everyone.exit_code == 0, everyone.output
    # Every destination: the two channels and each agency's managers by DM.
    for dest in ("alliance", "housing", "manager:housing:U0MGR1", "manager:outreach:U0MGR3"):
        assert f"{dest} → " in everyone.output


def test_mistakes_say_what_to_do(demo_db: tuple[Path, str]) -> None:
    folder, _ = demo_db
    runner = CliRunner()
    week = runner.invoke(app, ["digest", "preview", "--week", "47"], env=env(folder))
    assert week.exit_code == 2 and "2026-W47" in week.output
    dest = runner.invoke(app, ["digest", "preview", "--destination", "nope"], env=env(folder))
    assert dest.exit_code == 2 and "known: alliance, housing" in dest.output
    backwards = runner.invoke(
        app, ["report", "--from", "2026-12-31", "--to", "2026-10-01"], env=env(folder)
    )
    assert backwards.exit_code == 2 and "before it starts" in backwards.output


def test_report_writes_a_self_contained_page(demo_db: tuple[Path, str], tmp_path: Path) -> None:
    folder, _ = demo_db
    out = tmp_path / "packs" / "report.html"
    result = CliRunner().invoke(
        app,
        ["report", "--from", "2020-01-01", "--to", "2030-12-31", "--out", str(out)],
        env=env(folder),
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    # Both charts: over the whole range the demo's shared-pattern agencies reach 3 on a theme.
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 2
    assert 'alt="Bar chart of learnings per week' in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch: self-contained
    # The assurance section: barrier ageing and time to resolution per level, themes per week.
    assert "Barrier ageing" in page and "Time to resolution" in page
    assert "Themes over time" in page
    agency = CliRunner().invoke(
        app,
        ["report", "--from", "2026-01-01", "--to", "2026-12-31", "--out", str(out)]
        + ["--scope", "agency:hospital"],
        env=env(folder),
    )
    assert agency.exit_code == 0, agency.output
    assert "Musgrove Park Discharge Team (agency digest)" in out.read_text(encoding="utf-8")


def test_send_posts_once_however_often_it_runs(
    demo_db: tuple[Path, str], fake_slack: FakeSlackAPI
) -> None:
    folder, _ = demo_db
    settings = env(
        folder,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=fake_slack.url,
    )
    runner = CliRunner()
    first = runner.invoke(
        app, ["digest", "send", "--destination", "alliance", "--week", "2026-W40"], env=settings
    )
    assert first.exit_code == 0, first.output
    assert "posted" in first.output
    again = runner.invoke(
        app, ["digest", "send", "--destination", "alliance", "--week", "2026-W40"], env=settings
    )
    assert again.exit_code == 0 and "already" in again.output
    posts = [c for c in fake_slack.calls("chat.postMessage") if c.params["channel"] == "C0STEWARDS"]
    assert len(posts) == 1


def test_send_waits_out_a_429_and_says_what_happens_when_it_still_fails(
    demo_db: tuple[Path, str], fake_slack: FakeSlackAPI
) -> None:
    folder, _ = demo_db
    settings = env(
        folder,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=fake_slack.url,
        LEARNLOOP_DIGEST_RETRY_SECONDS="2",
    )
    command = ["digest", "send", "--destination", "alliance", "--week", "2026-W41"]
    runner = CliRunner()
    # One 429 with Retry-After is waited out within the run: posted, exit 0.
    fake_slack.queue(
        "chat.postMessage", {"ok": False, "error": "ratelimited"}, 429, {"Retry-After": "1"}
    )
    waited = runner.invoke(app, command, env=settings)
    assert waited.exit_code == 0, waited.output
    assert "posted" in waited.output
    steward = [
        c for c in fake_slack.calls("chat.postMessage") if c.params["channel"] == "C0STEWARDS"
    ]
    assert len(steward) == 2 and len(fake_slack.messages("C0STEWARDS")) == 1

    # Slack refusing for longer than the wait: exit 1, and the output says what happens next.
    later = ["digest", "send", "--destination", "alliance", "--week", "2026-W42"]
    fake_slack.fail_when("chat.postMessage", lambda p: True, "ratelimited", status=429)
    refused = runner.invoke(app, later, env=settings)
    assert refused.exit_code == 1, refused.output
    said = " ".join(refused.output.split())
    assert "alliance 2026-W42: not fully posted" in said
    assert "waited up to 2 s in this run" in said and "0 of 1 messages are posted" in said
    assert "run `learnloop digest send --destination alliance --week 2026-W42` again" in said
    fake_slack.clear_faults()
    again = runner.invoke(app, later, env=settings)
    assert again.exit_code == 0 and "posted" in again.output
    assert len(fake_slack.messages("C0STEWARDS")) == 2  # W41 and W42, each once


def test_ids_are_printed_literally(demo_db: tuple[Path, str]) -> None:
    # Rich used to read ":hospital:" as an emoji: the printed id could not be pasted back.
    folder, _ = demo_db
    runner = CliRunner()
    everyone = runner.invoke(app, ["digest", "preview", "--week", "2026-W47"], env=env(folder))
    assert everyone.exit_code == 0, everyone.output
    assert "manager:hospital:U0MGR2 → " in everyone.output and "🏥" not in everyone.output
    again = runner.invoke(
        app,
        ["digest", "preview", "--week", "2026-W47", "--destination", "manager:hospital:U0MGR2"],
        env=env(folder),
    )
    assert again.exit_code == 0, again.output


def test_tables_fit_80_columns_without_cutting_a_word(demo_db: tuple[Path, str]) -> None:
    folder, _ = demo_db
    runner = CliRunner()
    status = runner.invoke(app, ["prompts", "status"], env=env(folder, COLUMNS="80"))
    assert status.exit_code == 0, status.output
    actor = ["--actor", "jane.smith, data protection officer, SAR-2026-014"]
    exported = runner.invoke(app, ["barriers", "export", "--format", "json"], env=env(folder))
    assert exported.exit_code == 0, exported.output
    assert runner.invoke(app, ["audit", *actor], env=env(folder)).exit_code == 0
    audit = runner.invoke(app, ["audit", *actor], env=env(folder, COLUMNS="80"))
    assert audit.exit_code == 0, audit.output
    for output in (status.output, audit.output):
        assert "…" not in output
        assert max(len(line) for line in output.splitlines()) <= 80
    header = status.output.splitlines()[1].split()
    assert header == [
        "cohort",
        "cycle",
        "due",
        "waiting",
        "sent",
        "answered",
        "skipped",
        "expired",
        "failed",
        "reminded",
    ]
    assert "barriers.exported" in audit.output and "audit.viewed" in audit.output
    assert "SAR-2026-014" in audit.output  # a long cell wraps, whole


def test_send_json_has_the_results_and_the_next_step(
    demo_db: tuple[Path, str], fake_slack: FakeSlackAPI
) -> None:
    folder, _ = demo_db
    settings = env(
        folder,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=fake_slack.url,
    )
    command = ["digest", "send", "--destination", "alliance", "--week", "2026-W39", "--json"]
    result = CliRunner().invoke(app, command, env=settings)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "destination": "alliance",
            "week": "2026-W39",
            "result": "posted",
            "detail": "",
            "next_step": None,
        }
    ]


def test_the_pack_starts_at_the_first_week_with_data(
    demo_db: tuple[Path, str], tmp_path: Path
) -> None:
    folder, _ = demo_db
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        app,
        ["report", "--from", "2026-01-01", "--to", dt.date.today().isoformat(), "--out", str(out)],
        env=env(folder),
    )
    assert result.exit_code == 0, result.output
    assert "1 shared patterns" not in result.output  # counted in the right number
    page = out.read_text(encoding="utf-8")
    weeks = re.search(r'alt="Bar chart of learnings per week; [^:]*: ([^"]*)"', page)
    assert weeks is not None
    # The demo's two weeks: last week's Thursday, then this week (no empty weeks before).
    today = dt.datetime.now(ZoneInfo("Europe/London")).date()
    first = today - dt.timedelta(days=(today.weekday() - 3) % 7, weeks=1)
    assert weeks.group(1).startswith(f"{first:%G-W%V} ")
    meta = re.search(r'<p class="meta">([^<]*)</p>', page)
    assert meta is not None and meta.group(1).count("Somerset Learning Alliance") == 1


def test_demo_shows_the_prompt_and_form_a_practitioner_sees(demo_db: tuple[Path, str]) -> None:
    _, output = demo_db
    seen = output[output.index("sees: the weekly prompt in a DM") : output.index("prompts sent")]
    # The prompt's words and its buttons, as the check-in views write them for every platform.
    assert "What did we learn this week?" in seen
    for button in ("Share a learning", "Nothing this week", "Skip this week", "Pause prompts"):
        assert f"[ {button} ]" in seen
    # The form behind "Share a learning": its questions, themes and who can see the entry.
    form = seen[seen.index("the form:") :]
    for label in ("What happened that you learned from?", "Themes (optional)", "Who can see this?"):
        assert label in form
    assert "( ) The alliance, anonymously" in form and "[ Save learning ]" in form


def test_demo_walks_a_barrier_up_the_ladder_telling_the_raiser(demo_db: tuple[Path, str]) -> None:
    _, output = demo_db
    walk = output[output.index("A barrier from U0HOUS") : output.index("Check-ins by agency")]
    # One row per step; what the raiser was told may wrap onto the lines below its row.
    steps = {"raised", "escalated", "resolved"}
    # A step's row starts at the left edge; a wrapped line of a cell starts indented.
    lines = [line.split() for line in walk.splitlines()[3:] if line[:1].strip()]
    rows = [cells for cells in lines if cells[0] in steps]
    assert [row[0] for row in rows] == ["raised", "escalated", "escalated", "resolved"]
    for level in ("Agency leadership (agency)", "System Optimisation Group (alliance)"):
        assert level in walk
    assert walk.count("Somerset Board (board)") == 2  # escalated there, then resolved there
    # The raiser heard of every step (the column is "—" when nobody was told).
    assert all(row[-1] != "—" for row in rows), walk
    # The resolved barrier, with its outcome, is in the digest's "you said, we did".
    digest = output[output.index("The digest for #alliance") :]
    assert "Housing now tells the recovery service" in " ".join(digest.split())


def test_demo_has_a_teams_agency_in_the_same_digest(demo_db: tuple[Path, str]) -> None:
    folder, output = demo_db
    assert "platform: teams" in (folder / "learnloop-demo.yml").read_text(encoding="utf-8")
    digest = output[output.index("The digest for #alliance") :]
    took_part = digest[digest.index("Who took part") : digest.index("Themes across")]
    assert "Somerset Probation Delivery Unit" in took_part


def test_demo_ledger_calls_unanswered_prompts_unanswered(demo_db: tuple[Path, str]) -> None:
    _, output = demo_db
    [ledger] = [line for line in output.splitlines() if line.startswith("Prompt ledger:")]
    assert "delivered, not answered" in ledger
    assert ", sent " not in ledger and not ledger.startswith("Prompt ledger: sent")


def test_the_commands_the_demo_prints_work_as_printed(
    demo_db: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, output = demo_db
    block = output[output.index("Next: try the operator's commands") :].splitlines()[1:]
    [export] = [line.strip() for line in block if line.strip().startswith("export ")]
    settings = dict(part.split("=", 1) for part in shlex.split(export)[1:])
    assert set(settings) == {"DATABASE_URL", "LEARNLOOP_CONFIG"}
    commands = [shlex.split(line)[1:] for line in block if line.strip().startswith("learnloop ")]
    assert len(commands) >= 5
    monkeypatch.chdir(tmp_path)  # anywhere: the settings name the demo's files in full
    for command in commands:
        result = CliRunner().invoke(
            app, command, env={**settings, "SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": ""}
        )
        assert result.exit_code == 0, (command, result.output[-2000:])
    assert (tmp_path / "report.html").exists()

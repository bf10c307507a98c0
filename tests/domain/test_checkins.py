"""Check-in validation and redaction rules (pure domain)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.checkins import MAX_ANSWER_CHARS, QuestionSpec, Visibility, prepare_checkin
from bot.domain.cycles import cycle_for, is_due
from bot.domain.errors import ValidationFailed
from bot.domain.pause import BadPause, pause_until

QUESTIONS = [
    QuestionSpec(id="learned", label="What happened?", required=True),
    QuestionSpec(id="helped", label="What helped?"),
    QuestionSpec(id="route", label="Where next?", choices=("Home", "Hostel")),
]
THEMES = ["Housing", "Mental health"]


def test_valid_checkin_is_redacted_and_normalised() -> None:
    draft = prepare_checkin(
        QUESTIONS,
        {"learned": "  Met at BA1 1AA, call 07700 900123.  ", "helped": "", "route": "Hostel"},
        ["housing", "Housing"],
        "anonymous",
        THEMES,
    )
    assert draft.answers == {
        "learned": "Met at [postcode], call [phone number].",
        "route": "Hostel",
    }
    assert draft.themes == ["Housing"]
    assert draft.visibility is Visibility.ANONYMOUS
    assert draft.redaction_count == 2
    assert "1 postcode" in draft.redaction_summary and "1 phone number" in draft.redaction_summary


@pytest.mark.parametrize("learned", ["", "   ", None])
def test_required_answer_missing(learned: str | None) -> None:
    with pytest.raises(ValidationFailed) as info:
        prepare_checkin(QUESTIONS, {"learned": learned}, [], "team", THEMES)
    assert set(info.value.errors) == {"learned"}


def test_too_long_unknown_theme_bad_choice_and_visibility_all_reported() -> None:
    with pytest.raises(ValidationFailed) as info:
        prepare_checkin(
            QUESTIONS,
            {"learned": "x" * (MAX_ANSWER_CHARS + 1), "route": "Moon"},
            ["Astrology"],
            "everyone",
            THEMES,
        )
    assert set(info.value.errors) == {"learned", "route", "themes", "visibility"}
    assert "3,000 characters" in info.value.errors["learned"]


def test_emoji_and_right_to_left_text_survive() -> None:
    text = "Learned a lot 🙏🏽 — شكرا لكم — תודה"
    draft = prepare_checkin(QUESTIONS, {"learned": text}, [], "team", THEMES)
    assert draft.answers["learned"] == text
    assert draft.redaction_count == 0


def test_exactly_the_limit_is_accepted() -> None:
    draft = prepare_checkin(QUESTIONS, {"learned": "y" * MAX_ANSWER_CHARS}, [], "team", THEMES)
    assert len(draft.answers["learned"]) == MAX_ANSWER_CHARS


def test_cycles_are_iso_weeks_and_fortnights() -> None:
    assert cycle_for("weekly", dt.date(2026, 11, 26)).key == "weekly:2026-W48"
    # ISO week 53 of 2026 runs into January 2027.
    assert cycle_for("weekly", dt.date(2027, 1, 1)).key == "weekly:2026-W53"
    assert cycle_for("f", dt.date(2026, 11, 26), "fortnightly").key == "f:2026-W47"
    assert cycle_for("f", dt.date(2026, 11, 19), "fortnightly").key == "f:2026-W47"


def test_due_once_the_slot_has_come() -> None:
    zone = ZoneInfo("Europe/London")
    thursday_14 = dt.datetime(2026, 11, 26, 14, 59, tzinfo=zone)
    assert not is_due(["thu"], dt.time(15), thursday_14)
    assert is_due(["thu"], dt.time(15), thursday_14 + dt.timedelta(minutes=1))
    assert is_due(["mon"], dt.time(15), thursday_14)
    assert not is_due(["fri"], dt.time(9), thursday_14)


def test_pause_lengths() -> None:
    zone = ZoneInfo("Europe/London")
    now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    assert pause_until("", now, zone) == now + dt.timedelta(weeks=4)
    assert pause_until("2w", now, zone) == now + dt.timedelta(weeks=2)
    assert pause_until("10 days", now, zone) == now + dt.timedelta(days=10)
    assert pause_until("until 2026-12-31", now, zone) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    for bad in ("forever", "until 31/12/2026", "until 2025-01-01", "500w"):
        with pytest.raises(BadPause):
            pause_until(bad, now, zone)


def test_domain_imports_no_platform_or_database() -> None:
    banned = (
        "slack_",
        "slack_bolt",
        "sqlalchemy",
        "microsoft_teams",
        "fastapi",
        "storage",
        "handlers",
    )
    domain = Path(__file__).resolve().parents[2] / "bot" / "domain"
    for path in domain.glob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")):
                module = stripped.split()[1]
                assert not module.startswith(banned), f"{path.name}: {stripped}"

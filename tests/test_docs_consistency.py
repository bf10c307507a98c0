"""The guides agree with each other and with the code on who receives which digest."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from conftest import TEST_ALLIANCE, alliance_config

from bot.services.digests import DEFAULT_SCHEDULE, DigestService

ROOT = Path(__file__).resolve().parents[1]
GUIDES = ("admin.md", "digest.md", "design.md")
MARKER = "<!-- Who receives which digest:"


def recipients_table(guide: str) -> list[str]:
    """The lines of the 'who receives which digest' table in a guide (indentation removed)."""
    lines = [line.strip() for line in (ROOT / "docs" / guide).read_text().splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    table = []
    for line in lines[start + 1 :]:
        if not line.startswith("|"):
            break
        table.append(line)
    return table


def test_every_guide_has_the_same_digest_table() -> None:
    tables = {guide: recipients_table(guide) for guide in GUIDES}
    assert len(tables["digest.md"]) >= 6
    assert tables["admin.md"] == tables["digest.md"] == tables["design.md"]


def test_the_digest_table_matches_the_destinations_the_code_builds() -> None:
    rows = {line.split("|")[1].strip(): line for line in recipients_table("digest.md")[2:]}
    config = alliance_config(
        agencies=[
            {**TEST_ALLIANCE["agencies"][0], "managers": ["U0MGR1"]},
            {**TEST_ALLIANCE["agencies"][1], "managers": ["U0MGR2"]},
        ],
        digests=[
            {
                "id": "alliance",
                "channel": "C0STEWARDS",
                "scope": "alliance",
                "schedule": {"days": ["fri"], "time": "09:00"},
            },
            {"id": "housing", "channel": "C0HOUSING", "scope": "agency:housing"},
            {"id": "board", "email": ["a@board.example", "b@board.example"], "scope": "alliance"},
        ],
    )
    destinations = DigestService(None, config, None, None).destinations()  # type: ignore[arg-type]
    by_id = {d.id: d for d in destinations}

    assert "scope: alliance" in rows["a steward channel"]
    assert by_id["alliance"].kind == "channel" and by_id["alliance"].agency_id is None
    assert "scope: agency:<id>" in rows["an agency channel"]
    assert by_id["housing"].kind == "channel" and by_id["housing"].agency_id == "housing"
    assert by_id["housing"].schedule is None
    assert "only by `learnloop digest send`" in rows["a steward channel"]

    manager_row = rows["each manager of an agency"]
    assert "`manager:<agency>:<user id>`" in manager_row and "direct message" in manager_row
    manager = by_id["manager:housing:U0MGR1"]
    assert manager.kind == "dm" and manager.channel == "U0MGR1"
    assert manager.agency_id == "housing"
    # No housing digest has a schedule, so the first scheduled entry's (Friday 09:00) applies.
    assert manager.schedule == by_id["alliance"].schedule
    assert "else Friday 09:00" in manager_row
    unscheduled = alliance_config(
        agencies=[{**TEST_ALLIANCE["agencies"][0], "managers": ["U0MGR1"]}], digests=[]
    )
    [alone] = DigestService(None, unscheduled, None, None).destinations()  # type: ignore[arg-type]
    assert alone.schedule == DEFAULT_SCHEDULE
    assert DEFAULT_SCHEDULE.time == dt.time(9, 0) and [d.value for d in DEFAULT_SCHEDULE.days] == [
        "fri"
    ]

    # Stewards get no digest of their own (no DM to anyone in roles:).
    assert "no digest of their own" in rows["system stewards and admins"]
    stewards = set(TEST_ALLIANCE["roles"]["stewards"]) | set(TEST_ALLIANCE["roles"]["admins"])
    assert not {d.channel for d in destinations} & stewards
    email_row = rows["each address of an e-mail entry"]
    assert "`<entry>:<address>`" in email_row and "once per address" in email_row
    assert [(d.id, d.kind, d.channel) for d in destinations if d.entry == "board"] == [
        ("board:a@board.example", "email", "a@board.example"),
        ("board:b@board.example", "email", "b@board.example"),
    ]
    # The practitioners' weekly alliance note: at the alliance digest's slot, else Friday 09:00.
    note_row = rows["every practitioner (member of an agency)"]
    assert "`/learnloop digest off`" in note_row and "else Friday 09:00" in note_row
    assert DigestService(None, unscheduled, None, None).note_destination().schedule == (  # type: ignore[arg-type]
        DEFAULT_SCHEDULE
    )
    assert set(rows) == {
        "a steward channel",
        "an agency channel",
        "each manager of an agency",
        "each address of an e-mail entry",
        "every practitioner (member of an agency)",
        "system stewards and admins",
    }


def test_the_admin_guide_says_how_to_find_channel_and_user_group_ids() -> None:
    guide = (ROOT / "docs" / "admin.md").read_text()
    section = guide.split("## Finding the ids the file needs", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"a channel \| `C0…`", section) and "Channel ID" in section
    assert re.search(r"a user group \| `S0…`", section) and "usergroups.list" in section
    # The manifest asks for the scope that call needs.
    assert "usergroups:read" in (ROOT / "manifest.yml").read_text()

"""Barrier cards, lists and DMs stay inside Slack's Block Kit limits, whatever people type."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.escalation import Action
from bot.slack.escalation_blocks import (
    ANONYMOUS_RAISER,
    barrier_card,
    barrier_list,
    barrier_notice,
    stale_barriers,
)
from bot.views import (
    BarrierCardView,
    BarrierLine,
    BarrierListView,
    BarrierNoticeView,
    StaleBarriersView,
)

TEXT = st.text(min_size=1, max_size=3000)
WHEN = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)


def _card(**changes: object) -> BarrierCardView:
    base: dict[str, object] = {
        "barrier_id": 12,
        "version": 3,
        "title": "Letters read like threats",
        "description": "People stop opening them",
        "status": "open",
        "status_label": "Open",
        "level_name": "Agency leadership",
        "raised_on": WHEN.date(),
        "actions": [a.value for a in Action],
        "next_level_name": "Steward group",
    }
    base.update(changes)
    return BarrierCardView(**base)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(title=st.text(min_size=1, max_size=200), description=TEXT, who=TEXT, outcome=TEXT)
def test_a_card_is_valid_block_kit_for_any_text(
    title: str, description: str, who: str, outcome: str
) -> None:
    text, blocks = barrier_card(
        _card(
            title=title,
            description=description,
            who_is_affected=who,
            outcome=outcome,
            agency_names=["Council Housing"] * 40,
            status="resolved",
        )
    )
    assert len(blocks) <= 50 and text
    for block in blocks:
        for key in ("text", "fields"):
            parts = block.get(key)
            for part in parts if isinstance(parts, list) else [parts] if parts else []:
                assert len(part["text"]) <= 3000


def test_user_text_cannot_ping_or_fake_links() -> None:
    _, blocks = barrier_card(_card(title="x", description="<!channel> <https://evil|click>"))
    dumped = json.dumps(blocks)
    assert "<!channel>" not in dumped and "&lt;!channel&gt;" in dumped


def test_an_anonymous_card_says_so_and_a_named_one_names() -> None:
    assert ANONYMOUS_RAISER in json.dumps(barrier_card(_card())[1])
    assert "<@U0BOB>" in json.dumps(barrier_card(_card(raised_by_user_id="U0BOB"))[1])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=200), min_size=0, max_size=300))
def test_lists_fit_one_message(titles: list[str]) -> None:
    lines = [
        BarrierLine(
            barrier_id=i,
            title=t,
            status_label="Open",
            level_name="Agency leadership",
            days_since_change=i,
            card_url=f"https://test.slack.com/archives/C0LEADS/p{i}",
        )
        for i, t in enumerate(titles)
    ]
    for _, blocks in (
        barrier_list(BarrierListView("Open barriers", lines, len(lines), "None")),
        stale_barriers(StaleBarriersView("Agency leadership", 14, lines)),
    ):
        assert 1 <= len(blocks) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


@given(
    kind=st.sampled_from(
        ["raised", "acknowledged", "assigned", "escalated", "resolved", "closed", "assigned_to_you"]
    ),
    note=TEXT,
)
def test_every_notice_renders(kind: str, note: str) -> None:
    text, blocks = barrier_notice(
        BarrierNoticeView(
            barrier_id=1,
            title="Letters",
            kind=kind,
            level_name="Steward group",
            actor_user_id="U0STEW1",
            owner_user_id="U0CAROL",
            note=note,
        )
    )
    assert text and len(blocks) == 1 and len(blocks[0]["text"]["text"]) <= 3000


def test_teams_people_are_not_rendered_as_slack_mentions() -> None:
    from bot.slack.escalation_blocks import _mention

    assert _mention("U0STEW1") == "<@U0STEW1>"
    assert _mention("2b1f7c4e-9a0d-4c55-8b1e-3f2a6d7e8c90") == "a colleague on Teams"
    assert _mention(None) == ""

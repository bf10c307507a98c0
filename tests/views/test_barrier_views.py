"""The barrier register's messages: written once, the same words on Slack and Teams, and inside
each platform's limits whatever people type."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_ui import visible_text
from teams_ui import card_text

from bot.domain.escalation import Action
from bot.slack import render as slack
from bot.teams import render as teams
from bot.views.barriers import (
    ANONYMOUS_RAISER,
    BarrierCardView,
    BarrierChangeView,
    BarrierLine,
    BarrierListView,
    BarrierNoticeView,
    BarrierPointerView,
    BarrierRef,
    EscalateFormView,
    StaleBarriersView,
    barrier_card,
    barrier_list,
    barrier_notice,
    barrier_pointer,
    barriers_usage,
    escalate_form,
    escalate_usage,
    person,
    raise_launcher,
    stale_barriers,
    steward_form,
    unknown_filter,
)
from bot.views.message import Form, Message, Paragraph
from bot.views.words import Words, words

TEXT = st.text(min_size=1, max_size=3000)
WHEN = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
TEAMS_ID = "2b1f7c4e-9a0d-4c55-8b1e-3f2a6d7e8c90"
NOTICE_KINDS = [
    "raised",
    "acknowledged",
    "assigned",
    "escalated",
    "resolved",
    "closed",
    "assigned_to_you",
]


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


def _line(i: int, title: str = "Letters read like threats", **changes: Any) -> BarrierLine:
    base: dict[str, Any] = {
        "barrier_id": i,
        "title": title,
        "status_label": "Open",
        "level_name": "Agency leadership",
        "days_since_change": i,
        "card_url": f"https://test.slack.com/archives/C0LEADS/p{i}",
    }
    return BarrierLine(**{**base, **changes})


def slack_blocks(message: Message) -> list[dict[str, Any]]:
    return slack.message(message)[1]


# ------------------------------------------------------------------------- Slack's limits


@settings(max_examples=60, deadline=None)
@given(title=st.text(min_size=1, max_size=200), description=TEXT, who=TEXT, outcome=TEXT)
def test_a_card_is_valid_block_kit_for_any_text(
    title: str, description: str, who: str, outcome: str
) -> None:
    text, blocks = slack.message(
        barrier_card(
            _card(
                title=title,
                description=description,
                who_is_affected=who,
                outcome=outcome,
                agency_names=["Council Housing"] * 40,
                status="resolved",
            )
        )
    )
    assert len(blocks) <= 50 and text
    for block in blocks:
        for key in ("text", "fields"):
            parts = block.get(key)
            for part in parts if isinstance(parts, list) else [parts] if parts else []:
                assert len(part["text"]) <= 3000


def test_user_text_cannot_ping_or_fake_links() -> None:
    blocks = slack_blocks(
        barrier_card(_card(title="x", description="<!channel> <https://evil|click>"))
    )
    dumped = json.dumps(blocks)
    assert "<!channel>" not in dumped and "&lt;!channel&gt;" in dumped


def test_an_anonymous_card_says_so_and_a_named_one_names() -> None:
    assert ANONYMOUS_RAISER in json.dumps(slack_blocks(barrier_card(_card())))
    assert "<@U0BOB>" in json.dumps(slack_blocks(barrier_card(_card(raised_by_user_id="U0BOB"))))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=200), min_size=0, max_size=300))
def test_lists_fit_one_message(titles: list[str]) -> None:
    lines = [_line(i, t) for i, t in enumerate(titles)]
    for message in (
        barrier_list(BarrierListView("Open barriers", lines, len(lines), "None")),
        stale_barriers(StaleBarriersView("Agency leadership", 14, lines)),
    ):
        blocks = slack_blocks(message)
        assert 1 <= len(blocks) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
        card = teams.card_dict(teams.card(message))
        assert len(json.dumps(card).encode()) < 28_000


@given(kind=st.sampled_from(NOTICE_KINDS), note=TEXT)
def test_every_notice_renders(kind: str, note: str) -> None:
    text, blocks = slack.message(
        barrier_notice(
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
    )
    assert text and len(blocks) == 1 and len(blocks[0]["text"]["text"]) <= 3000


def test_teams_people_are_not_rendered_as_slack_mentions() -> None:
    assert slack.mrkdwn(words(person("U0STEW1"))) == "<@U0STEW1>"
    assert slack.mrkdwn(words(person(TEAMS_ID))) == "a colleague on Teams"
    # Nobody at all is never a mention: the card says so in words.
    assert "Nobody yet" in visible_text(slack_blocks(barrier_card(_card(owner_user_id=None))))


def test_a_pointer_links_the_channel_on_slack_and_names_it_on_teams() -> None:
    pointer = barrier_pointer(
        BarrierPointerView(12, "Letters", "Steward group", "C0STEWARDS", WHEN, "U0STEW1")
    )
    text, _ = slack.message(pointer)
    assert "moved up to Steward group" in text and "<#C0STEWARDS>" in text
    said = card_text(teams.card_dict(teams.card(pointer)))
    assert "that level's channel" in said and "C0STEWARDS" not in said


# ------------------------------------------------------------------------- one set of words


def _spans(message: Message | Form) -> list[str]:
    """Every plain-text span the view wrote, long enough to be a phrase of its own."""
    found: list[str] = []

    def add(text: Words | None) -> None:
        for part in text.parts if text is not None else ():
            if isinstance(part, str):
                found.extend(p.strip() for p in part.split("\n") if len(p.strip()) > 3)

    if isinstance(message, Message):
        add(message.summary)
        items: tuple[Any, ...] = message.blocks
    else:
        items = message.items
    for item in items:
        if isinstance(item, Paragraph):
            add(item.text)
        for value in getattr(item, "items", ()) if not isinstance(item, Paragraph) else ():
            add(value[1] if isinstance(value, tuple) else value)
        for button in getattr(item, "buttons", ()):
            found.append(button.label)
        if hasattr(item, "label"):
            found.append(item.label)
            add(item.hint)
    return found


def _slack_said(message: Message | Form) -> str:
    if isinstance(message, Message):
        text, blocks = slack.message(message)
        said = text + "\n" + visible_text(blocks) + json.dumps(blocks, ensure_ascii=False)
    else:
        said = json.dumps(slack.modal(message), ensure_ascii=False)
    return said.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _teams_said(message: Message | Form) -> str:
    card = message and (
        teams.card(message) if isinstance(message, Message) else teams.form_card(message)
    )
    said = json.dumps(teams.card_dict(card), ensure_ascii=False)
    return re.sub(r"\\\\(.)", r"\1", said)


def _every_message() -> list[Message | Form]:
    change = BarrierChangeView("escalated", WHEN, "U0STEW1", "Steward group")
    card = _card(
        who_is_affected="People leaving hospital",
        outcome="Wards send letters on the day",
        status="resolved",
        linked_checkins=2,
        last_change=change,
        note="Please invite LearnLoop there",
        agency_names=["Council Housing", "NHS"],
        owner_user_id="U0CAROL",
    )
    notices = [
        barrier_notice(
            BarrierNoticeView(
                barrier_id=1,
                title="Letters",
                kind=kind,
                level_name="Steward group",
                anonymous=True,
                actor_user_id="U0STEW1",
                owner_user_id="U0CAROL",
                note="Start with the ward manager",
                redaction_summary="I removed 1 phone number.",
            )
        )
        for kind in NOTICE_KINDS
    ]
    lines = [_line(1), _line(2, card_url=None, channel="C0LEADS", owner_user_id="U0CAROL")]
    ref = BarrierRef(4, 2, "No beds at weekends")
    form = EscalateFormView(
        levels=[("agency", "Agency leadership")],
        agencies=[("housing", "Council Housing")],
        recent_checkins=[(11, "1 Dec: Ask early")],
    )
    return [
        barrier_card(card),
        barrier_pointer(BarrierPointerView(12, "Letters", "Steward group", "C0S", WHEN, "U0S")),
        *notices,
        barrier_list(BarrierListView("Open barriers", lines, 90, "None"), open_buttons=True),
        barrier_list(BarrierListView("Open barriers", [], 0, words("No open barriers."))),
        stale_barriers(StaleBarriersView("Agency leadership", 14, lines), open_buttons=True),
        raise_launcher("Letters"),
        Message(escalate_usage(), (Paragraph(escalate_usage()),)),
        Message(barriers_usage(), (Paragraph(unknown_filter("everything")),)),
        escalate_form(form),
        *(steward_form(action, ref) for action in (Action.ASSIGN, Action.RESOLVE, Action.CLOSE)),
    ]


def test_each_builder_says_the_same_words_on_slack_and_teams() -> None:
    for message in _every_message():
        spans = _spans(message)
        assert spans, message
        slack_said, teams_said = _slack_said(message), _teams_said(message)
        for span in spans:
            assert span in slack_said, (span, slack_said[:400])
            assert span in teams_said, (span, teams_said[:400])


def test_commands_are_spelled_by_each_platform_in_barrier_texts() -> None:
    assert "`/barriers mine`" in slack.mrkdwn(barriers_usage())
    assert "**barriers mine**" in teams.markdown(barriers_usage())
    assert "/barriers" not in teams.markdown(escalate_usage())
    notice = barrier_notice(BarrierNoticeView(1, "Letters", "acknowledged", "Steward group"))
    assert "`/barriers mine` lists every barrier" in json.dumps(slack_blocks(notice))
    teams_said = card_text(teams.card_dict(teams.card(notice)))
    assert "**barriers mine** lists every barrier" in teams_said

"""Adaptive Cards rendered from the same view-models as Slack: valid, typed, and leak nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from digest_outputs import digest_card_dicts
from hypothesis import given, settings
from hypothesis import strategies as st
from teams_ui import card_text, fill, inputs

from bot.alliance import DEFAULT_QUESTION_SET, Question, QuestionKind, QuestionSet
from bot.domain.suppression import suppress
from bot.teams import render
from bot.teams.render import MAX_CARD_BYTES, card_dict
from bot.teams.render import escape as escape_markdown
from bot.views.barriers import (
    BarrierCardView,
    EscalateFormView,
    barrier_card,
    blank_escalate_form,
    escalate_form,
    read_escalate_form,
)
from bot.views.checkin import CheckinForm, PromptState, PromptView, prompt_message, read_checkin
from bot.views.digest import DigestView, Quote

ACTION_TYPES = {"Action.Submit", "Action.Execute", "Action.OpenUrl"}
INPUT_TYPES = {"Input.Text", "Input.ChoiceSet"}
ELEMENT_TYPES = {"TextBlock", "FactSet", "Container", "ActionSet", *INPUT_TYPES}


def check_card(card: dict[str, Any]) -> None:
    """What Teams needs of a card: 1.5, known element types, titled actions, unique input ids."""
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    ids: list[str] = []

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            assert element["type"] in ELEMENT_TYPES, element["type"]
            if element["type"] in INPUT_TYPES:
                assert element.get("id") and element.get("label"), element
                ids.append(element["id"])
            if element["type"] == "TextBlock":
                assert element["wrap"] is True and element["text"]
            walk(element.get("items") or [])

    walk(card["body"])
    assert len(ids) == len(set(ids)), ids
    for action in card.get("actions") or []:
        assert action["type"] in ACTION_TYPES and action["title"]
        if action["type"] == "Action.Execute":
            assert action["verb"]
    assert len(json.dumps(card).encode()) < 28_000


def prompt_card(view: PromptView) -> Any:
    return render.card(prompt_message(view))


def checkin_form(qset: QuestionSet, themes: list[str], state: dict[str, Any]) -> Any:
    return render.form_card(CheckinForm.build(qset, themes).form(json.dumps(state)))


def read_checkin_form(
    data: dict[str, Any], qset: QuestionSet, themes: list[str]
) -> tuple[dict[str, Any], list[str], str]:
    return read_checkin(qset, themes, data)


def test_prompt_card_in_every_state() -> None:
    for state in PromptState:
        view = PromptView(7, "Test Alliance", "What did we learn this week?", state=state)
        card = card_dict(prompt_card(view))
        check_card(card)
        if state is PromptState.OPEN:
            titles = [a["title"] for a in card["actions"]]
            # The same four buttons as on Slack.
            assert titles == [
                "Share a learning",
                "Nothing this week",
                "Skip this week",
                "Pause prompts",
            ]
            share = card["actions"][0]
            # "Share a learning" opens a dialog (task/fetch) linked to this prompt.
            assert share["data"]["msteams"]["type"] == "task/fetch"
            assert (share["data"]["dialog_id"], share["data"]["value"]) == ("checkin_open", "7")
        else:
            assert "actions" not in card


def test_the_form_asks_the_question_set_and_reads_back_what_was_chosen() -> None:
    qset = QuestionSet(
        id="discharge",
        questions=[
            Question(id="learned", label="What did you learn?", required=True),
            Question(
                id="route",
                label="Where did the person go next?",
                kind=QuestionKind.SINGLE_CHOICE,
                choices=["Home", "Hostel, temporary", "Still on the ward"],
            ),
            Question(
                id="who",
                label="Who helped?",
                kind=QuestionKind.MULTIPLE_CHOICE,
                choices=["GP", "Housing, council", "Family"],
            ),
        ],
    )
    themes = ["Housing", "Money, benefits and debt"]
    card = card_dict(checkin_form(qset, themes, {"prompt_id": 3}))
    check_card(card)
    assert list(inputs(card)) == [
        "What did you learn?",
        "Where did the person go next?",
        "Who helped?",
        "Themes",
        "Who can see this?",
    ]
    data = fill(
        card,
        {
            "What did you learn?": "Ask early.",
            "Where did the person go next?": "Hostel, temporary",
            "Who helped?": ["GP", "Housing, council"],
            "Themes": ["Money, benefits and debt"],
            "Who can see this?": "The alliance, anonymously",
        },
        submit="Save learning",
    )
    answers, chosen, visibility = read_checkin_form(data, qset, themes)
    # Choices containing commas survive: the card sends positions, not the text.
    assert answers == {
        "learned": "Ask early.",
        "route": "Hostel, temporary",
        "who": ["GP", "Housing, council"],
    }
    assert chosen == ["Money, benefits and debt"]
    assert visibility == "anonymous"
    assert data["action"] == "checkin_modal" and json.loads(data["state"])["prompt_id"] == 3


@settings(max_examples=50, deadline=None)
@given(
    learned=st.text(max_size=200),
    themes=st.lists(st.sampled_from(["A", "B, C", "D"]), unique=True),
)
def test_what_is_filled_in_is_what_is_read(learned: str, themes: list[str]) -> None:
    options = ["A", "B, C", "D"]
    card = card_dict(checkin_form(DEFAULT_QUESTION_SET, options, {}))
    answers: dict[str, Any] = {"What happened that you learned from?": learned}
    if themes:
        answers["Themes"] = themes
    data = fill(card, answers, submit="Save learning")
    read, chosen, visibility = read_checkin_form(data, DEFAULT_QUESTION_SET, options)
    assert (read["learned"] or "") == learned
    assert chosen == themes
    assert visibility == "team"


def test_user_text_cannot_become_a_link_or_heading() -> None:
    assert escape_markdown("[click](https://evil.example) **now** # big") == (
        "\\[click\\]\\(https://evil.example\\) \\*\\*now\\*\\* \\# big"
    )


def barrier_view(**changes: Any) -> BarrierCardView:
    view = BarrierCardView(
        barrier_id=4,
        version=2,
        title="No beds [at] weekends",
        description="People wait.",
        status="open",
        status_label="Open",
        level_name="Agency leadership",
        raised_on=dt.date(2026, 12, 1),
        agency_names=["Council Housing"],
        actions=["acknowledge", "assign", "escalate", "resolve", "close"],
        next_level_name="Steward group",
    )
    return BarrierCardView(**{**view.__dict__, **changes})


def test_barrier_card_has_the_same_actions_as_slack() -> None:
    card = card_dict(render.card(barrier_card(barrier_view()), {}))
    check_card(card)
    titles = [a["title"] for a in card["actions"]]
    assert titles == [
        "Acknowledge",
        "Assign",
        "Escalate up to Steward group",
        "Resolve",
        "Close",
    ]
    by_title = {a["title"]: a for a in card["actions"]}
    # One click for acknowledge and escalate; a dialog for the ones that need words.
    assert by_title["Acknowledge"]["type"] == "Action.Execute"
    assert by_title["Acknowledge"]["data"] == {"value": "4:2"}
    assert by_title["Resolve"]["data"]["msteams"]["type"] == "task/fetch"
    assert "Someone who asked not to be named" in card_text(card)
    assert "\\[at\\]" in card_text(card)


def test_barrier_card_names_people_it_knows_and_nobody_else() -> None:
    view = barrier_view(raised_by_user_id="U0ALICE", owner_user_id="7faf8ab2-aaaa")
    card = card_dict(render.card(barrier_card(view), {"U0ALICE": "Alice"}))
    said = card_text(card)
    assert "Raised by: Alice" in said
    # A name LearnLoop doesn't know: where they are, never the raw id.
    assert "Owner: a colleague on Slack" in said
    assert "7faf8ab2" not in json.dumps(card)


def test_escalate_form_reads_back() -> None:
    form = EscalateFormView(
        levels=[("agency", "Agency leadership"), ("alliance", "Steward group")],
        agencies=[("housing", "Council Housing"), ("nhs", "NHS")],
        recent_checkins=[(11, "Ask early")],
        description="Letters arrive late",
        title="Letters arrive late",
    )
    card = card_dict(render.form_card(escalate_form(form)))
    check_card(card)
    data = fill(
        card,
        {
            "Agencies affected": ["NHS"],
            "Which level should see it first?": "Steward group",
            "Link your recent check-ins": ["Ask early"],
            "Show my name to stewards?": "No, raise it anonymously",
        },
        submit="Raise barrier",
    )
    assert read_escalate_form(render.read_form(blank_escalate_form(), data)) == {
        "title": "Letters arrive late",
        "description": "Letters arrive late",
        "who_is_affected": None,
        "agencies": ["nhs"],
        "level": "alliance",
        "anonymous": True,
        "checkin_ids": [11],
    }


def test_a_long_digest_is_split_into_cards_teams_accepts() -> None:
    quotes = tuple(
        Quote(text=f"Learning {i}: " + "what helped was talking early. " * 30, byline="Anonymous")
        for i in range(60)
    )
    view = DigestView(
        title="Learning digest",
        period_key="2026-W49",
        period_label="30 Nov – 6 Dec 2026",
        scope_label="Test Alliance",
        alliance_name="Test Alliance",
        suppress_below=3,
        learnings="60",
        learnings_count=60,
        agencies_contributing=suppress(3, 3),
        quotes=quotes,
    )
    cards = digest_card_dicts(view)
    assert len(cards) > 1
    for card in cards:
        check_card(card)
        assert len(json.dumps(card).encode()) <= MAX_CARD_BYTES + 2_000
    said = "\n".join(card_text(c) for c in cards)
    for i in range(60):
        assert f"Learning {i}:" in said  # nothing is dropped
    assert "Continued in the replies below." in card_text(cards[0])

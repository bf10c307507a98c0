"""Question sets, the purpose block and Slack's modal limits in `check-config`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.alliance import (
    MAX_QUESTIONS,
    SLACK_MAX_MODAL_BLOCKS,
    Question,
    QuestionKind,
    QuestionSet,
    parse_alliance,
)
from bot.cli import app
from bot.settings import EXAMPLE_CONFIG, ConfigError
from bot.slack.blocks import checkin_modal


def example(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    data.update(changes)
    return data


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_alliance(data)
    return info.value.problems


def one_set(*questions: dict[str, Any]) -> dict[str, Any]:
    """An example alliance whose only cohort uses a set with these questions."""
    data = example(question_sets=[{"id": "custom", "questions": list(questions)}])
    data["cohorts"][0]["question_set"] = "custom"
    return data


LEARNED = {"id": "learned", "label": "What did you learn?", "required": True}


def test_a_custom_set_is_valid_and_chosen_by_its_cohort() -> None:
    data = one_set(
        LEARNED,
        {"id": "blocker", "label": "What got in the way?", "barrier": True},
        {
            "id": "route",
            "label": "Where did the person go next?",
            "kind": "single_choice",
            "choices": ["Home", "Temporary accommodation", "Hostel"],
        },
    )
    config = parse_alliance(data)
    qset = config.question_set_for(config.cohort("weekly"))
    assert qset.id == "custom"
    assert qset.barrier_question is not None and qset.barrier_question.id == "blocker"
    assert config.purpose is None  # the block is optional: older files stay valid


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            {"kind": "single_choice", "choices": ["x" * 76]},
            "question_sets.0.questions.1.choices: choice 0 ('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'…) "
            "is 76 characters; Slack shows at most 75 in a menu option",
        ),
        (
            {"kind": "multiple_choice", "choices": [f"c{i}" for i in range(101)]},
            "question_sets.0.questions.1.choices: 101 choices is more than the 100 a Slack "
            "menu can hold",
        ),
        (
            {"kind": "single_choice", "choices": ["Home", "  "]},
            "question_sets.0.questions.1.choices: choice 1 is empty",
        ),
        (
            {"kind": "single_choice", "choices": ["Home", "Hostel", "Home"]},
            "question_sets.0.questions.1.choices: choice 'Home' is listed more than once",
        ),
        (
            {"kind": "multiple_choice", "choices": []},
            "question_sets.0.questions.1: a multiple_choice question needs a non-empty "
            "choices list",
        ),
        (
            {"kind": "single_choice", "choices": ["Yes", "No"], "barrier": True},
            "question_sets.0.questions.1: the barrier question must be short_text or long_text",
        ),
        (
            {"label": "x" * 151},
            "question_sets.0.questions.1.label: String should have at most 150 characters",
        ),
    ],
)
def test_question_problems_name_the_field(question: dict[str, Any], expected: str) -> None:
    full = {"id": "second", "label": "Second?", **question}
    assert problems_of(one_set(LEARNED, full)) == [expected]


def test_set_level_problems() -> None:
    two_barriers = one_set(
        {**LEARNED, "barrier": True}, {"id": "b", "label": "B?", "barrier": True}
    )
    assert problems_of(two_barriers) == [
        "question_sets.0: more than one question is marked barrier: true"
    ]
    same_id = one_set(LEARNED, {"id": "learned", "label": "Again?"})
    assert problems_of(same_id) == ["question_sets.0.questions: duplicate id 'learned' (2 times)"]
    reserved = one_set(LEARNED, {"id": "inquiry", "label": "Mine?"})
    assert problems_of(reserved) == [
        "question_sets.0.questions.1.id: 'inquiry' is reserved for the question LearnLoop adds "
        "itself; choose another id"
    ]
    data = example(question_sets=[{"id": "custom", "questions": [LEARNED]}])
    data["cohorts"][0]["question_set"] = "missing"
    assert problems_of(data) == ["cohorts.0.question_set: unknown question set 'missing'"]


def test_too_many_questions_for_one_modal() -> None:
    many = [LEARNED] + [{"id": f"q{i}", "label": f"Q{i}?"} for i in range(MAX_QUESTIONS)]
    [problem] = problems_of(one_set(*many))
    assert problem.startswith(
        f"question_sets.0.questions: {MAX_QUESTIONS + 1} questions is more than {MAX_QUESTIONS}: "
        "a Slack modal holds 100 blocks"
    )
    parse_alliance(one_set(*many[:MAX_QUESTIONS]))


def test_the_largest_allowed_set_still_fits_a_modal_with_every_extra() -> None:
    """MODAL_EXTRA_BLOCKS must count everything the modal adds: render the worst case."""
    questions = [
        Question(id=f"q{i}", label=f"Question {i}?", required=i == 0)
        for i in range(MAX_QUESTIONS - 2)
    ]
    questions += [
        Question(id="inquiry", label="How is discharge working?", kind=QuestionKind.LONG_TEXT),
        Question(id="purpose", label="What is this system set up to do?"),
    ]
    qset = QuestionSet.model_construct(id="big", questions=questions)
    themes = [f"Theme {i}" for i in range(100)]
    view = checkin_modal(qset, themes, {"prompt_id": 1})
    assert len(view["blocks"]) <= SLACK_MAX_MODAL_BLOCKS
    full = QuestionSet(
        id="full", questions=[Question(id=f"q{i}", label="Q?") for i in range(MAX_QUESTIONS)]
    )
    view = checkin_modal(
        QuestionSet.model_construct(id="full", questions=[*full.questions, *questions[-2:]]),
        themes,
        {"prompt_id": 1},
    )
    assert len(view["blocks"]) == SLACK_MAX_MODAL_BLOCKS


def test_themes_must_fit_a_slack_menu() -> None:
    problems = problems_of(example(themes=[f"Theme {i}" for i in range(101)]))
    assert problems == ["themes: 101 themes is more than the 100 a Slack menu can hold"]
    problems = problems_of(example(themes=["Housing", "y" * 80]))
    assert problems == [
        "themes.1: 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'… is 80 characters; Slack shows at most 75 "
        "in a menu option"
    ]


def test_purpose_block() -> None:
    config = parse_alliance(example(purpose={"cadence": "quarterly"}))
    assert config.purpose is not None
    assert config.purpose.question == "What is this system set up to do, and is it doing it?"
    assert config.purpose.applies_to("weekly")
    assert problems_of(example(purpose={"cadence": "weekly"}))[0].startswith("purpose.cadence:")
    assert problems_of(example(purpose={"cohorts": ["weekly", "nope"]})) == [
        "purpose.cohorts.1: unknown cohort 'nope'"
    ]


def test_check_config_names_set_problems(tmp_path: Path) -> None:
    data = one_set(
        LEARNED,
        {"id": "route", "label": "Route?", "kind": "single_choice", "choices": ["z" * 90]},
    )
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["check-config", str(broken)])
    assert result.exit_code == 2
    assert "question_sets.0.questions.1.choices: choice 0" in result.output
    assert "Slack shows at most 75" in result.output

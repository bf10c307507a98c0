"""What does not change between requests is worked out once per config version: the config's
fingerprint, role lookups and the check-in form's blocks."""

from __future__ import annotations

import json

from conftest import STEWARD, alliance_config

from bot.alliance import DEFAULT_QUESTION_SET, Question, QuestionKind, QuestionSet
from bot.slack.blocks import CheckinForms, checkin_modal

THEMES = ["Housing", "Hospital discharge"]


def test_config_version_follows_the_content() -> None:
    first, same = alliance_config(), alliance_config()
    other = alliance_config(themes=["Housing"])
    assert first.version == same.version
    assert first.version != other.version
    # A copy with changes is another version, whatever the original had worked out.
    assert first.model_copy(update={"themes": ["Housing"]}).version == other.version


def test_roles_come_from_the_config_and_its_copies() -> None:
    config = alliance_config()
    assert config.roles_of(STEWARD) == {"practitioner", "steward"}
    assert config.roles_of("U0ADMIN") == {"practitioner", "admin"}
    assert config.roles_of("U0NOBODY") == {"practitioner"}
    demoted = config.model_copy(update={"roles": config.roles.model_copy(update={"stewards": []})})
    assert demoted.roles_of(STEWARD) == {"practitioner"}
    assert config.roles_of(STEWARD) == {"practitioner", "steward"}


def test_a_cached_form_is_the_form_rendered_afresh() -> None:
    forms = CheckinForms("v1", THEMES)
    first = forms.modal(DEFAULT_QUESTION_SET, {"prompt_id": 7})
    second = forms.modal(DEFAULT_QUESTION_SET, {"prompt_id": 8})
    assert first == checkin_modal(DEFAULT_QUESTION_SET, THEMES, {"prompt_id": 7})
    assert second == checkin_modal(DEFAULT_QUESTION_SET, THEMES, {"prompt_id": 8})
    assert json.loads(second["private_metadata"]) == {"prompt_id": 8}
    # Rendered once: the second person's form shares the first one's blocks.
    assert second["blocks"] is first["blocks"]


def test_each_question_set_gets_its_own_form() -> None:
    forms = CheckinForms("v1", THEMES)
    inquiry = Question(id="inquiry", label="How is discharge working?", kind=QuestionKind.LONG_TEXT)
    asked = QuestionSet.model_construct(
        id=DEFAULT_QUESTION_SET.id, questions=[*DEFAULT_QUESTION_SET.questions, inquiry]
    )
    plain = forms.modal(DEFAULT_QUESTION_SET, {"prompt_id": 1})
    with_inquiry = forms.modal(asked, {"prompt_id": 1})
    assert with_inquiry == checkin_modal(asked, THEMES, {"prompt_id": 1})
    assert len(with_inquiry["blocks"]) == len(plain["blocks"]) + 1
    # Another inquiry, same id and set: a different question, so a different form.
    reworded = inquiry.model_copy(update={"label": "How is housing working?"})
    again = QuestionSet.model_construct(
        id=DEFAULT_QUESTION_SET.id, questions=[*DEFAULT_QUESTION_SET.questions, reworded]
    )
    labels = [b.get("label", {}).get("text") for b in forms.modal(again, {})["blocks"]]
    assert "How is housing working?" in labels and "How is discharge working?" not in labels


def test_a_prefilled_form_is_rendered_for_its_person() -> None:
    forms = CheckinForms("v1", THEMES)
    forms.modal(DEFAULT_QUESTION_SET, {"prompt_id": None})
    prefill = {"answers": {"learned": "The discharge lounge opened early"}, "themes": ["Housing"]}
    view = forms.modal(DEFAULT_QUESTION_SET, {"prompt_id": None}, prefill)
    assert view == checkin_modal(DEFAULT_QUESTION_SET, THEMES, {"prompt_id": None}, prefill)
    blank = forms.modal(DEFAULT_QUESTION_SET, {"prompt_id": None})
    assert "The discharge lounge opened early" not in json.dumps(blank)

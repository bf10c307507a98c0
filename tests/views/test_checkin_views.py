"""The prompt, reminder, thanks and check-in form: written once, laid out by both renderers."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.alliance import DEFAULT_QUESTION_SET, Question, QuestionKind, QuestionSet
from bot.slack import render as slack
from bot.teams import render as teams
from bot.views.checkin import (
    CheckinAction,
    CheckinForm,
    CheckinSavedView,
    PromptState,
    PromptView,
    ReminderView,
    ReplySavedView,
    checkin_form,
    checkin_launcher,
    checkin_thanks_message,
    paused_words,
    prompt_message,
    read_checkin,
    reminder_message,
    reply_not_saved,
    reply_saved_message,
)
from bot.views.message import Actions, Bullets, Form, Message, Paragraph
from bot.views.words import Emph, words

QUESTION = "What did we learn this week?"


def _said(message: Message) -> list[tuple[Any, ...]]:
    """Every sentence and button label the view wrote."""
    found: list[Any] = []
    for block in message.blocks:
        if isinstance(block, Paragraph):
            found.append(block.text)
        elif isinstance(block, Bullets):
            found.extend(block.items)
        elif isinstance(block, Actions):
            found.extend(button.label for button in block.buttons)
    return found


def _same_on_both(message: Message) -> None:
    text, blocks = slack.message(message)
    slack_dump = json.dumps(blocks, ensure_ascii=False)
    teams_dump = json.dumps(teams.card_dict(teams.card(message)), ensure_ascii=False)
    assert text == slack.escape(slack.plain(message.summary))
    for said in _said(message):
        if isinstance(said, str):
            assert json.dumps(said, ensure_ascii=False)[1:-1] in slack_dump
            assert json.dumps(said, ensure_ascii=False)[1:-1] in teams_dump
        else:
            assert json.dumps(slack.mrkdwn(said), ensure_ascii=False)[1:-1] in slack_dump
            assert json.dumps(teams.markdown(said), ensure_ascii=False)[1:-1] in teams_dump


def _ids(message: Message) -> list[str]:
    return [
        b.action for block in message.blocks if isinstance(block, Actions) for b in block.buttons
    ]


def test_the_prompt_says_the_same_in_every_state_on_both_platforms() -> None:
    for state in PromptState:
        view = PromptView(
            7,
            "Test Alliance",
            QUESTION,
            state=state,
            paused_until=dt.date(2026, 12, 31),
            redaction_summary="1 phone number removed.",
            extra_questions=("How is discharge working?",),
        )
        _same_on_both(prompt_message(view))


def test_the_open_prompt_has_four_buttons_and_the_extra_questions() -> None:
    view = PromptView(7, "Test Alliance", QUESTION, extra_questions=("How is <discharge>?",))
    message = prompt_message(view)
    assert _ids(message) == [
        CheckinAction.SHARE_LEARNING,
        CheckinAction.NOTHING_THIS_WEEK,
        CheckinAction.SKIP_WEEK,
        CheckinAction.PAUSE_PROMPTS,
    ]
    _, blocks = slack.message(message)
    assert "_How is &lt;discharge&gt;?_" in json.dumps(blocks)
    card = json.dumps(teams.card_dict(teams.card(message)))
    asked = json.dumps(teams.markdown(words(Emph("How is <discharge>?"))))[1:-1]
    assert "This time the form also asks:" in card and asked in card
    # What find_prompt looks for after a crash travels with the message on Slack.
    assert slack.metadata(message) == {
        "event_type": "learnloop_prompt",
        "event_payload": {"prompt_id": 7},
    }


def test_each_platform_spells_the_checkin_command_its_way() -> None:
    message = prompt_message(PromptView(7, "A", QUESTION, state=PromptState.SKIPPED))
    _, blocks = slack.message(message)
    card = json.dumps(teams.card_dict(teams.card(message)))
    assert "If something comes up, `/checkin` works any time." in json.dumps(blocks)
    assert "If something comes up, **checkin** works any time." in card
    paused = prompt_message(PromptView(7, "A", QUESTION, state=PromptState.PAUSED))
    assert "`/learnloop resume`" in json.dumps(slack.message(paused)[1])
    assert "**resume**" in json.dumps(teams.card_dict(teams.card(paused)))


def test_reminder_reply_saved_thanks_and_launcher_on_both_platforms() -> None:
    _same_on_both(reminder_message(ReminderView(3, "A", QUESTION)))
    for escalate in (None, 12):
        reply = reply_saved_message(
            ReplySavedView(12, "2 names removed.", escalate_checkin_id=escalate)
        )
        _same_on_both(reply)
        thanks = checkin_thanks_message(CheckinSavedView(12, "", escalate_checkin_id=escalate))
        _same_on_both(thanks)
        offered = CheckinAction.ESCALATE_CHECKIN in _ids(thanks)
        assert offered is (escalate is not None)
    _same_on_both(checkin_launcher("typed"))
    assert _ids(reply_saved_message(ReplySavedView(12))) == [
        CheckinAction.ADD_DETAIL,
        CheckinAction.SHARE_ALLIANCE,
        CheckinAction.SHARE_ANONYMOUS,
    ]
    # Once shared, the confirmation says so and offers no second share.
    shared = reply_saved_message(ReplySavedView(12, shared="alliance"))
    _same_on_both(shared)
    assert _ids(shared) == [CheckinAction.ADD_DETAIL]


def _form_words(form: Form) -> list[str]:
    labels = [form.title, form.submit]
    for item in form.fields:
        labels.append(item.label)
        labels += [option.label for option in getattr(item, "options", ())]
        if item.hint:
            labels.append(item.hint.plain())
    return labels


def test_the_checkin_form_is_drawn_from_one_view_by_both_renderers() -> None:
    qset = QuestionSet(
        id="discharge",
        questions=[
            Question(id="learned", label="What did you learn?", required=True, hint="A line."),
            Question(
                id="route",
                label="Where did the person go next?",
                kind=QuestionKind.SINGLE_CHOICE,
                choices=["Home", "Hostel, temporary"],
            ),
        ],
    )
    form = CheckinForm.build(qset, ["Housing", "Money, benefits"]).form('{"prompt_id":3}')
    modal = json.dumps(slack.modal(form), ensure_ascii=False)
    dialog = json.dumps(teams.card_dict(teams.form_card(form)), ensure_ascii=False)
    for said in [*_form_words(form), "Please don't name or identify the people you support."]:
        assert said in modal, said
        assert said in dialog, said
    # Both read back the same answers; a choice with a comma survives on Teams.
    slack_state = {
        "q_learned": {"q_learned": {"type": "plain_text_input", "value": "Ask early."}},
        "q_route": {"q_route": {"type": "static_select", "selected_option": {"value": "1"}}},
        "themes": {"themes": {"type": "multi_static_select", "selected_options": [{"value": "1"}]}},
        "visibility": {
            "visibility": {"type": "radio_buttons", "selected_option": {"value": "anonymous"}}
        },
    }
    teams_data = {
        "q_learned": "Ask early.",
        "q_route": "1",
        "themes": "1",
        "visibility": "anonymous",
    }
    expected = (
        {"learned": "Ask early.", "route": "Hostel, temporary"},
        ["Money, benefits"],
        "anonymous",
    )
    themes = ["Housing", "Money, benefits"]
    assert read_checkin(qset, themes, slack.read_form(form, slack_state)) == expected
    assert read_checkin(qset, themes, slack.read_values(slack_state)) == expected
    assert read_checkin(qset, themes, teams.read_form(form, teams_data)) == expected
    assert read_checkin(qset, themes, teams_data) == expected


def test_domain_errors_land_under_their_fields_on_both_platforms() -> None:
    form = CheckinForm.build(DEFAULT_QUESTION_SET, []).form(
        "", {"learned": "Please write a sentence or two — this one is needed."}
    )
    assert slack.form_errors(form.errors)["errors"] == {
        "q_learned": "Please write a sentence or two — this one is needed."
    }
    assert "this one is needed" in json.dumps(teams.card_dict(teams.form_card(form)))


def test_the_blank_form_is_built_once_per_config_version() -> None:
    first = checkin_form("v1", DEFAULT_QUESTION_SET, ["Housing"])
    assert checkin_form("v1", DEFAULT_QUESTION_SET, ["Housing"]) is first
    assert checkin_form("v2", DEFAULT_QUESTION_SET, ["Housing"]) is not first


def test_pause_and_a_reply_not_saved_name_the_command_each_platform_types() -> None:
    paused = paused_words(dt.date(2026, 12, 31))
    assert slack.mrkdwn(paused) == (
        "Paused: no prompts until 31 December 2026. Type `/learnloop resume` to start them sooner."
    )
    assert teams.markdown(paused) == (
        "Paused: no prompts until 31 December 2026. Type **resume** to start them sooner."
    )
    problem = reply_not_saved(["That is too long <3."])
    assert slack.mrkdwn(problem) == (
        "I couldn't save that as a learning: That is too long &lt;3. "
        "You can use `/checkin` to write it in a form."
    )
    assert teams.markdown(problem).endswith("You can use **checkin** to write it in a form.")

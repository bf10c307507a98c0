"""The two platform renderers lay out the same neutral message; neither adds words."""

from __future__ import annotations

import json

import pytest

from bot.slack import render as slack
from bot.teams import render as teams
from bot.views.message import (
    Actions,
    Bullets,
    Button,
    ChoiceField,
    ChoiceStyle,
    Facts,
    Form,
    Heading,
    Message,
    Option,
    Paragraph,
    Part,
    Style,
    TextField,
)
from bot.views.words import Cmd, Command, Literal, Mention, Strong, and_list, words

TEAMS_ID = "6f1c2a34-1b2c-4d5e-8f90-a1b2c3d4e5f6"


def test_commands_are_spelled_by_each_platform() -> None:
    said = words("Type ", Cmd(Command.BARRIERS, "mine"), " or ", Cmd(Command.PAUSE, "2w"), ".")
    assert slack.mrkdwn(said) == "Type `/barriers mine` or `/learnloop pause 2w`."
    assert teams.markdown(said) == "Type **barriers mine** or **pause 2w**."
    assert said.plain() == "Type barriers mine or pause 2w."


def test_user_text_is_escaped_not_interpreted() -> None:
    said = words("Said: ", "<!channel> *bold* [x](http://evil)")
    assert slack.mrkdwn(said) == "Said: &lt;!channel&gt; *bold* [x](http://evil)"
    assert "\\*bold\\*" in teams.markdown(said)
    assert "\\[x\\]\\(http://evil\\)" in teams.markdown(said)


def test_mentions_follow_the_platform_of_the_person() -> None:
    said = words(Mention("U0ALICE"), " and ", Mention(TEAMS_ID, fallback="a colleague on Teams"))
    assert slack.mrkdwn(said) == "<@U0ALICE> and a colleague on Teams"
    assert teams.markdown(said, {TEAMS_ID: "Sam Lee"}) == "a colleague and Sam Lee"


def test_one_message_on_both_platforms_carries_the_same_words_and_ids() -> None:
    view = Message(
        summary=words("Barrier ", Strong("#3"), " raised"),
        blocks=(
            Heading("Barrier #3"),
            Paragraph(words("Raised by ", Mention("U0BOB"), ", id ", Literal("B-3"))),
            Facts((("Status", words("Open")),)),
            Bullets((words("one"), words("two"))),
            Paragraph(words("small print"), subtle=True),
            Actions((Button("Acknowledge", "barrier.acknowledge", "3:1", Style.PRIMARY),)),
        ),
    )
    text, blocks = slack.message(view)
    assert text == "Barrier #3 raised"
    assert [b["type"] for b in blocks] == [
        "header",
        "section",
        "section",
        "section",
        "context",
        "actions",
    ]
    assert blocks[-1]["elements"][0]["action_id"] == "barrier.acknowledge"
    assert blocks[-1]["elements"][0]["value"] == "3:1"
    card = teams.card_dict(teams.card(view))
    dumped = json.dumps(card)
    for said in ("Barrier #3", "Open", "one", "two", "small print", "Acknowledge"):
        assert said in dumped
    assert card["actions"][0]["verb"] == "barrier.acknowledge"
    assert card["actions"][0]["data"] == {"value": "3:1"}


def test_a_form_round_trips_on_both_platforms() -> None:
    form = Form(
        id="checkin.save",
        title="Share a learning",
        submit="Save learning",
        state='{"prompt": 4}',
        items=(
            TextField("q_learned", "What did you learn?", multiline=True, max_length=3000),
            ChoiceField(
                "visibility",
                "Who can see this?",
                (Option("team", "My team"), Option("anonymous", "Anonymous")),
                style=ChoiceStyle.RADIO,
                initial=("team",),
            ),
            ChoiceField(
                "themes",
                "Themes",
                (Option("0", "Housing"), Option("1", "Health")),
                style=ChoiceStyle.MULTI_SELECT,
                optional=True,
            ),
        ),
    )
    modal = slack.modal(form)
    assert modal["callback_id"] == "checkin.save"
    assert modal["private_metadata"] == '{"prompt": 4}'
    state = {
        "q_learned": {"q_learned": {"type": "plain_text_input", "value": "A thing"}},
        "visibility": {
            "visibility": {"type": "radio_buttons", "selected_option": {"value": "anonymous"}}
        },
        "themes": {"themes": {"type": "multi_static_select", "selected_options": [{"value": "1"}]}},
    }
    read = {"q_learned": "A thing", "visibility": "anonymous", "themes": ["1"]}
    assert slack.read_form(form, state) == read
    card = teams.card_dict(teams.form_card(form))
    assert card["actions"][0]["data"]["action"] == "checkin.save"
    submitted = {"q_learned": "A thing", "visibility": "anonymous", "themes": "1"}
    assert teams.read_form(form, submitted) == read


def test_long_lists_are_cut_with_a_count() -> None:
    assert and_list(["a", "b", "c"]) == "a, b and c"
    assert and_list([str(n) for n in range(13)], limit=6, noun="more agencies") == (
        "0, 1, 2, 3, 4, 5 and 7 more agencies"
    )


def test_mentions_are_collected_for_name_lookups() -> None:
    from bot.views.message import mentioned

    view = Message(
        summary=words(Mention("U0A")),
        blocks=(
            Paragraph(words(Mention("U0B"), Mention("U0A"))),
            Bullets((words(Mention("U0C")),)),
        ),
    )
    assert mentioned(view) == ["U0A", "U0B", "U0C"]


def test_a_part_stays_together_on_teams_and_in_sequence_on_slack() -> None:
    view = Message(
        summary=words("Entries"),
        blocks=(
            Part((Paragraph(words("first")), Actions((Button("Edit", "entry_edit", "1"),)))),
            Part((Paragraph(words("second")),)),
        ),
    )
    _, blocks = slack.message(view)
    assert [b["type"] for b in blocks] == ["section", "actions", "section"]
    card = teams.card_dict(teams.card(view))
    containers = [item for item in card["body"] if item["type"] == "Container"]
    assert [c["items"][0]["text"] for c in containers] == ["first", "second"]
    assert containers[0]["separator"] is True
    assert containers[0]["items"][1]["actions"][0]["verb"] == "entry_edit"


def test_the_notification_text_cannot_ping_a_channel() -> None:
    text, _ = slack.message(Message(summary=words("Alliance <!here> & <@U0EVIL>")))
    assert text == "Alliance &lt;!here&gt; &amp; &lt;@U0EVIL&gt;"


def test_a_slack_notification_text_is_escaped_but_still_links_people_and_channels() -> None:
    from bot.views.words import Channel

    said = words("Title <!here> & ", Mention("U0ALICE"), " in ", Channel("C0LEADS", "there"))
    text, _ = slack.message(Message(said))
    assert text == "Title &lt;!here&gt; &amp; <@U0ALICE> in <#C0LEADS>"
    assert teams.plain(said) == "Title <!here> & a colleague in there"


def test_a_message_of_words_is_laid_out_as_teams_chat_text() -> None:
    view = Message(
        summary=words("Help"),
        blocks=(
            Heading("Help"),
            Paragraph(words("Type ", Cmd(Command.PAUSE, "2w"), " (or not)")),
            Bullets((words("one"), words(Strong("two")))),
        ),
    )
    assert (
        teams.text_message(view) == "**Help**\n\nType **pause 2w** \\(or not\\)\n\n- one\n- **two**"
    )
    with_buttons = Message(words("x"), (Actions((Button("Go", "go"),)),))
    with pytest.raises(TypeError, match="send a card"):
        teams.text_message(with_buttons)

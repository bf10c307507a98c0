"""The two platform renderers lay out the same neutral message; neither adds words."""

from __future__ import annotations

import json

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


def test_a_group_quote_and_channel_are_laid_out_by_each_platform() -> None:
    from bot.views.message import Group, Quote
    from bot.views.words import Channel

    view = Message(
        summary=words("Posted in ", Channel("C0STEW", "the steward channel")),
        blocks=(
            Group(
                (
                    Paragraph(words(Strong("Heading"), " line")),
                    Bullets((words("one"),)),
                    Quote("<!here> said\nsecond line", words("Anonymous")),
                )
            ),
            Paragraph(words("See ", Channel("C0STEW", "the steward channel"), "."), subtle=True),
        ),
    )
    text, blocks = slack.message(view)
    assert text == "Posted in <#C0STEW>"
    assert blocks[0] == {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*Heading* line\n• one\n>&lt;!here&gt; said\n>second line\n_— Anonymous_",
        },
    }
    assert blocks[1]["elements"][0]["text"] == "See <#C0STEW>."
    card = teams.card_dict(teams.card(view))
    texts = json.dumps(card, ensure_ascii=False)
    assert "**Heading** line" in texts and "“<!here\\\\> said" in texts
    assert "See the steward channel." in texts  # a bot is given no Teams channel link
    assert teams.markdown(words(Channel("teams:3", "the steward channel"))) == "the steward channel"
    assert slack.mrkdwn(words(Channel("teams:3", "the steward channel"))) == "the steward channel"


def test_a_long_paragraph_is_split_between_sections_not_cut() -> None:
    long = " ".join(f"word{i}" for i in range(1200))
    blocks = slack.blocks([Paragraph(words(long))])
    assert len(blocks) > 1
    assert all(len(b["text"]["text"]) <= slack.SECTION_CHARS for b in blocks)
    assert " ".join(b["text"]["text"] for b in blocks) == long


def test_headings_and_notification_text_cannot_ping_a_channel() -> None:
    text, blocks = slack.message(Message(words("<!channel> hi"), (Heading("<!channel> hi"),)))
    assert text == "&lt;!channel&gt; hi"
    assert "<!channel>" not in json.dumps(blocks)


def test_a_thread_splits_where_each_platform_must_and_says_it_continues() -> None:
    from bot.views.message import Thread

    lines = tuple(Paragraph(words(f"Part {i} " + "x" * 900)) for i in range(60))
    thread = Thread(Message(words("Digest"), lines), words("More below."), words("Digest, more"))
    posts = slack.thread(thread)
    assert len(posts) > 1 and all(len(blocks) <= slack.MESSAGE_BLOCKS for _, blocks in posts)
    assert posts[0][1][-1]["elements"][0]["text"] == "More below."
    assert [text for text, _ in posts] == ["Digest"] + ["Digest, more"] * (len(posts) - 1)
    cards = [teams.card_dict(card) for card in teams.thread_cards(thread)]
    assert len(cards) > 1 and cards[0]["body"][-1]["text"] == "More below."
    said = json.dumps(posts) + json.dumps(cards)
    assert all(said.count(f"Part {i} ") == 2 for i in range(60))  # nothing dropped on either
    short = Thread(Message(words("Digest"), lines[:2]), words("More below."), words("more"))
    assert len(slack.thread(short)) == 1 and len(teams.thread_cards(short)) == 1
    assert "More below." not in json.dumps(slack.thread(short))

"""The terminal renderer lays a neutral Message or Form out as text, adding no sentence."""

from __future__ import annotations

from bot.cli.terminal import form_text, message_text
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
    TextField,
)
from bot.views.words import Cmd, Command, Strong, words


def test_a_message_prints_its_words_and_buttons() -> None:
    message = Message(
        summary=words("What did you learn this week?"),
        blocks=(
            Heading("What did you learn this week?"),
            Paragraph(words("Two minutes: ", Strong("one thing"), " you learned.")),
            Bullets((words("Housing"), words("manager:hospital:U0MGR2"))),
            Facts((("Due", words("Thursday")),)),
            Paragraph(words("Pause with ", Cmd(Command.PAUSE, "2w")), subtle=True),
            Actions((Button("Share a learning", "open"), Button("Skip this week", "skip"))),
        ),
    )
    text = message_text(message)
    assert text.splitlines() == [
        "What did you learn this week?",
        "Two minutes: one thing you learned.",
        "  • Housing",
        "  • manager:hospital:U0MGR2",
        "  Due: Thursday",
        f"  Pause with {Cmd(Command.PAUSE, '2w').neutral()}",
        "[ Share a learning ]  [ Skip this week ]",
    ]


def test_a_message_without_blocks_prints_its_summary() -> None:
    assert message_text(Message(summary=words("Saved, thank you."))) == "Saved, thank you."


def test_a_form_prints_each_field_with_its_label_hint_and_choices() -> None:
    form = Form(
        id="checkin",
        title="Share a learning",
        submit="Save",
        items=(
            TextField("learned", "What did you learn?", hint=words("No names, please.")),
            ChoiceField(
                "visibility",
                "Who can see it",
                (Option("team", "My team"), Option("alliance", "The alliance")),
                style=ChoiceStyle.RADIO,
            ),
            ChoiceField(
                "themes",
                "Themes",
                (Option("housing", "Housing"),),
                style=ChoiceStyle.CHECKBOXES,
                optional=True,
            ),
        ),
    )
    lines = form_text(form).splitlines()
    assert lines[:2] == ["Share a learning", "================"]
    assert "What did you learn?" in lines and "  No names, please." in lines
    assert "  ( ) My team" in lines and "  ( ) The alliance" in lines
    assert "Themes (optional)" in lines and "  [ ] Housing" in lines
    assert lines[-1] == "[ Save ]  [ Cancel ]"

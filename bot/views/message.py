"""A message or form as LearnLoop writes it, ready for any platform to lay out.

View builders in `bot/views/` turn what a service knows (a barrier, a digest, a prompt) into a
`Message` or a `Form` made of the blocks below, with every sentence already written as
`Words`. Each platform has one renderer that lays these out and nothing more
(`bot/slack/render.py` for Block Kit, `bot/teams/render.py` for Adaptive Cards), so a new
message is written once, in its view, and every platform shows it.

Ids on buttons and fields (`action`, `id`) are LearnLoop's own; handlers on every platform
listen for the same ids, and a renderer only carries them through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.views.words import Mention, Words

# ---------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Heading:
    """The title of a message (Slack: a header block; Teams: a large bold line)."""

    text: str


@dataclass(frozen=True)
class Paragraph:
    """A paragraph; `subtle` ones are small print (Slack: a context block)."""

    text: Words
    subtle: bool = False


@dataclass(frozen=True)
class Bullets:
    """A bulleted list."""

    items: tuple[Words, ...]


@dataclass(frozen=True)
class Facts:
    """Label and value pairs (Slack: section fields; Teams: a FactSet)."""

    items: tuple[tuple[str, Words], ...]


@dataclass(frozen=True)
class Divider:
    """A rule between parts of a message."""


@dataclass(frozen=True)
class Quote:
    """A person's words quoted as they wrote them, with who said it (the byline policy's)."""

    text: str
    byline: Words


@dataclass(frozen=True)
class Group:
    """Paragraphs, lists and quotes kept together (Slack: one section while it fits)."""

    items: tuple[Paragraph | Bullets | Quote, ...]


@dataclass(frozen=True)
class Image:
    """A picture by URL, with the words a screen reader reads instead."""

    url: str
    alt: str
    title: str = ""


class Style(StrEnum):
    """How strongly a button asks to be pressed."""

    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Confirm:
    """A question asked before a button's action runs."""

    title: str
    text: Words
    confirm: str
    deny: str = "Cancel"


@dataclass(frozen=True)
class Button:
    """A button, labelled plainly by what it does.

    `action` is the id handlers listen for and `value` what it carries. `opens_form` says the
    handler answers with a form (Teams must open a dialog for that); `url` makes it a link.
    """

    label: str
    action: str = ""
    value: str = ""
    style: Style = Style.DEFAULT
    opens_form: bool = False
    url: str | None = None
    confirm: Confirm | None = None


@dataclass(frozen=True)
class Actions:
    """A row of buttons."""

    buttons: tuple[Button, ...]
    id: str = ""


@dataclass(frozen=True)
class Part:
    """Blocks set apart from the rest, such as one item of a list with its own buttons.

    Teams puts them in a container with a rule above; Slack shows them in sequence.
    """

    blocks: tuple[Heading | Paragraph | Bullets | Facts | Divider | Image | Actions | Quote, ...]


Block = Heading | Paragraph | Bullets | Facts | Divider | Image | Actions | Quote | Group | Part


@dataclass(frozen=True)
class Tag:
    """What a message is, kept with it where the platform can (Slack's message metadata).

    LearnLoop reads it back to find a message it may already have sent before a crash.
    """

    kind: str
    payload: Mapping[str, str | int]


@dataclass(frozen=True)
class Message:
    """What one chat message says. `summary` is its one-line text for notifications."""

    summary: Words
    blocks: tuple[Block, ...] = ()
    tag: Tag | None = None


@dataclass(frozen=True)
class Thread:
    """A message that may be too long for one post: a platform that must split it posts the
    first part with `continued` at its end and the rest as replies in its thread, each
    notified as `reply_summary`."""

    message: Message
    continued: Words
    reply_summary: Words


def mentioned(message: Message | Form) -> list[str]:
    """Ids of everyone a message or form mentions (Teams looks their names up first)."""
    found: list[str] = []

    def add(text: Words | None) -> None:
        for part in text.parts if text is not None else ():
            if isinstance(part, Mention) and part.user_id not in found:
                found.append(part.user_id)

    items: list[Block | Field] = list(
        message.blocks if isinstance(message, Message) else message.items
    )
    if isinstance(message, Message):
        add(message.summary)
    flat: list[Block | Field] = []
    for item in items:
        inner_items: tuple[Block | Field, ...] = item.blocks if isinstance(item, Part) else (item,)
        for inner in inner_items:
            flat.extend(inner.items if isinstance(inner, Group) else (inner,))
    for item in flat:
        if isinstance(item, Paragraph):
            add(item.text)
        elif isinstance(item, Quote):
            add(item.byline)
        elif isinstance(item, Bullets):
            for line in item.items:
                add(line)
        elif isinstance(item, Facts):
            for _, value in item.items:
                add(value)
        elif isinstance(item, TextField | ChoiceField | PersonField):
            add(item.hint)
    return found


# ----------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Option:
    """One choice in a choice field."""

    value: str
    label: str
    description: str = ""


class ChoiceStyle(StrEnum):
    """How a choice field is shown."""

    SELECT = "select"
    RADIO = "radio"
    CHECKBOXES = "checkboxes"
    MULTI_SELECT = "multi_select"


@dataclass(frozen=True)
class TextField:
    """A text box."""

    id: str
    label: str
    hint: Words | None = None
    placeholder: str = ""
    multiline: bool = False
    optional: bool = False
    initial: str = ""
    max_length: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class ChoiceField:
    """Pick one (select, radio) or several (checkboxes, multi-select) of `options`."""

    id: str
    label: str
    options: tuple[Option, ...]
    style: ChoiceStyle = ChoiceStyle.SELECT
    optional: bool = False
    initial: tuple[str, ...] = ()
    hint: Words | None = None
    placeholder: str = ""
    error: str | None = None

    @property
    def multiple(self) -> bool:
        """Whether more than one option may be chosen."""
        return self.style in (ChoiceStyle.CHECKBOXES, ChoiceStyle.MULTI_SELECT)


@dataclass(frozen=True)
class PersonField:
    """Pick a person on the platform the form is shown on."""

    id: str
    label: str
    optional: bool = False
    initial: str | None = None
    hint: Words | None = None
    error: str | None = None
    placeholder: str = ""
    # People to offer first, where a platform's picker lists choices as well as searching.
    choices: tuple[Option, ...] = ()


Field = TextField | ChoiceField | PersonField


@dataclass(frozen=True)
class Form:
    """A form (Slack: a modal; Teams: a dialog). `id` names it for the submit handler.

    `state` travels with the form and comes back on submit (Slack's private_metadata, a
    hidden field on Teams): what the form is about, never anything secret.
    """

    id: str
    title: str
    submit: str
    items: tuple[Block | Field, ...]
    close: str = "Cancel"
    state: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def fields(self) -> tuple[Field, ...]:
        """The form's inputs, in order."""
        return tuple(
            item for item in self.items if isinstance(item, TextField | ChoiceField | PersonField)
        )

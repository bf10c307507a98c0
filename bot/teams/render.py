"""Adaptive Cards for every LearnLoop message and form: layout only, no words of its own.

Everything a person reads comes from a view in `bot/views/`; this module spells `Words` in the
markdown Teams' TextBlocks understand, lays blocks out as an Adaptive Card 1.5 and reads
submitted dialogs back. A button that `opens_form` becomes an Action.Submit that opens a dialog
(task/fetch); any other becomes an Action.Execute, answered with an updated card.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    Choice,
    ChoiceSetInput,
    Container,
    ExecuteAction,
    Fact,
    FactSet,
    OpenDialogData,
    OpenUrlAction,
    QueryData,
    SubmitAction,
    SubmitData,
    TextBlock,
    TextInput,
)
from microsoft_teams.cards import (
    Image as ImageElement,
)

from bot.views.message import (
    Actions,
    Block,
    Bullets,
    Button,
    ChoiceField,
    ChoiceStyle,
    Divider,
    Facts,
    Form,
    Group,
    Heading,
    Image,
    Message,
    Paragraph,
    Part,
    PersonField,
    Quote,
    Style,
    TextField,
    Thread,
)
from bot.views.words import Cmd, Mention, Speller, Words

# Display names of people the card mentions, by LearnLoop id (Teams has no <@id> syntax).
Names = Mapping[str, str]
NO_NAMES: Names = {}

# Characters Teams' card markdown acts on; a backslash makes each one literal.
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*_[]()#>`~"})
# The data key a submitted dialog carries its form's state in.
STATE_KEY = "state"
# Teams refuses a message over about 28 KB: a thread's cards stay well under, leaving room for
# the activity around each card.
MAX_CARD_BYTES = 20_000


def escape(text: str) -> str:
    """Text made literal in a TextBlock (no links, emphasis or headings it didn't mean)."""
    return text.translate(_MARKDOWN)


def typed(cmd: Cmd) -> str:
    """A command as a person types it to the bot in Teams: `barriers mine`, `pause 2w`."""
    return cmd.neutral()


def _mention(span: Mention, names: Names) -> str:
    # Slack ids and unknown people have no name here: the view's fallback says who they are.
    return escape(names.get(span.user_id) or span.fallback)


class _Plain(Speller):
    """Plain text (a card's fallback text, a notification): commands as typed, people named."""

    def __init__(self, names: Names) -> None:
        self.names = names

    def command(self, cmd: Cmd) -> str:
        return typed(cmd)

    def mention(self, span: Mention) -> str:
        return self.names.get(span.user_id) or span.fallback


class _Markdown(_Plain):
    """The markdown Teams renders in a TextBlock."""

    def text(self, value: str) -> str:
        return escape(value)

    def strong(self, value: str) -> str:
        return f"**{escape(value)}**"

    def emph(self, value: str) -> str:
        return f"_{escape(value)}_"

    def literal(self, value: str) -> str:
        return f"`{value}`"

    def command(self, cmd: Cmd) -> str:
        return f"**{escape(typed(cmd))}**"

    def link(self, url: str, label: str) -> str:
        return f"[{escape(label)}]({url})"

    def mention(self, span: Mention) -> str:
        return _mention(span, self.names)

    # A channel: a bot is given no link to a Teams channel, nor can it link to a Slack one, so
    # the default (its escaped fallback) stands.


def markdown(text: Words | str, names: Names = NO_NAMES) -> str:
    """Words spelled in the markdown Teams renders in a TextBlock."""
    return _Markdown(names).spell(text)


def plain(text: Words | str, names: Names = NO_NAMES) -> str:
    """Words as plain text (a card's fallback text, a notification): commands as typed."""
    return _Plain(names).spell(text)


def _text(value: str, **style: Any) -> TextBlock:
    # Teams cuts unwrapped text at one line.
    return TextBlock(text=value, wrap=True, **style)


def action(item: Button) -> Any:
    """One card action."""
    if item.url:
        return OpenUrlAction(title=item.label, url=item.url)
    data = {"value": item.value} if item.value else {}
    if item.opens_form:
        made: Any = SubmitAction(title=item.label, data=OpenDialogData(item.action, data or None))
    else:
        # Clients without Action.Execute fall back to Action.Submit, which arrives as a message
        # carrying the verb; the same handler answers it in the chat.
        fallback = SubmitAction(title=item.label, data={"verb": item.action, **data})
        made = ExecuteAction(title=item.label, verb=item.action, data=data, fallback=fallback)
    if item.style is Style.PRIMARY:
        made = made.with_style("positive")
    elif item.style is Style.DANGER:
        made = made.with_style("destructive")
    return made


def element(item: Block, names: Names = NO_NAMES) -> list[Any]:
    """The card elements for one neutral block."""
    if isinstance(item, Heading):
        return [_text(escape(item.text), size="Large", weight="Bolder")]
    if isinstance(item, Paragraph):
        value = markdown(item.text, names)
        if not value:
            return []
        if item.subtle:
            return [_text(value, is_subtle=True, size="Small")]
        return [_text(value)]
    if isinstance(item, Bullets):
        if not item.items:
            return []
        return [_text("\n".join(f"- {markdown(line, names)}" for line in item.items))]
    if isinstance(item, Facts):
        return [
            FactSet(facts=[Fact(title=label, value=markdown(v, names)) for label, v in item.items])
        ]
    if isinstance(item, Divider):
        return [_text(" ", separator=True)]
    if isinstance(item, Image):
        return [ImageElement(url=item.url, alt_text=item.alt)]
    if isinstance(item, Actions):
        return [ActionSet(actions=[action(b) for b in item.buttons])] if item.buttons else []
    if isinstance(item, Quote):
        said = [_text(f"“{escape(item.text)}”")]
        if item.byline:
            said.append(_text(f"— {markdown(item.byline, names)}", is_subtle=True, size="Small"))
        return [Container(style="emphasis", items=said)]
    if isinstance(item, Group):
        return [part for child in item.items for part in element(child, names)]
    if isinstance(item, Part):
        items = [laid for inner in item.blocks for laid in element(inner, names)]
        return [Container(separator=True, items=items)] if items else []
    raise TypeError(f"no Adaptive Card layout for {type(item).__name__}")


def card(view: Message, names: Names = NO_NAMES) -> AdaptiveCard:
    """A message as an Adaptive Card 1.5. A last row of buttons becomes the card's actions."""
    items = list(view.blocks)
    actions: list[Any] = []
    if items and isinstance(items[-1], Actions):
        actions = [action(b) for b in items.pop().buttons]
    body: list[Any] = []
    for item in items:
        body.extend(element(item, names))
    return AdaptiveCard(
        body=body, actions=actions or None, fallback_text=plain(view.summary, names) or None
    )


def text_message(view: Message, names: Names = NO_NAMES) -> str:
    """A message without buttons as the markdown text of a plain chat message.

    For answers that are only words (help, a short reply): a person reads them in the chat
    like any other message, and a phone's notification shows all of it.
    """
    parts: list[str] = []
    for item in view.blocks:
        if isinstance(item, Heading):
            parts.append(f"**{escape(item.text)}**")
        elif isinstance(item, Paragraph):
            parts.append(markdown(item.text, names))
        elif isinstance(item, Bullets):
            parts.append("\n".join(f"- {markdown(line, names)}" for line in item.items))
        elif isinstance(item, Facts):
            parts.append("\n".join(f"{escape(k)}: {markdown(v, names)}" for k, v in item.items))
        elif isinstance(item, Actions | Image):
            raise TypeError(f"a text message has no {type(item).__name__}: send a card")
    return "\n\n".join(part for part in parts if part)


def _bytes(item: Any) -> int:
    return len(json.dumps(item.model_dump(exclude_none=True)).encode())


def thread_cards(view: Thread, names: Names = NO_NAMES) -> list[AdaptiveCard]:
    """A long message as cards: the first (ending with `continued`), the rest thread replies."""
    chunks: list[list[Any]] = [[]]
    size = 0
    for item in view.message.blocks:
        for part in element(item, names):
            part_size = _bytes(part)
            if chunks[-1] and size + part_size > MAX_CARD_BYTES:
                chunks.append([])
                size = 0
            chunks[-1].append(part)
            size += part_size
    if len(chunks) > 1:
        chunks[0] += element(Paragraph(view.continued, subtle=True), names)
    first = plain(view.message.summary, names) or None
    rest = plain(view.reply_summary, names) or None
    return [
        AdaptiveCard(body=chunk, fallback_text=first if index == 0 else rest)
        for index, chunk in enumerate(chunks)
    ]


def card_dict(value: AdaptiveCard) -> dict[str, Any]:
    """The card as Teams receives it (for tests and invoke responses)."""
    return value.model_dump(exclude_none=True)


# ----------------------------------------------------------------------------- forms


def _error(message: str | None) -> list[TextBlock]:
    return [_text(f"⚠ {escape(message)}", color="Attention", size="Small")] if message else []


def _input(item: TextField | ChoiceField | PersonField) -> Any:
    if isinstance(item, TextField):
        return TextInput(
            id=item.id,
            label=item.label,
            is_multiline=item.multiline,
            max_length=item.max_length,
            placeholder=item.placeholder or None,
            value=item.initial or None,
            is_required=not item.optional,
        )
    if isinstance(item, PersonField):
        return ChoiceSetInput(
            id=item.id,
            label=item.label,
            choices=[Choice(title=option.label, value=option.value) for option in item.choices],
            choices_data=QueryData(dataset="graph.microsoft.com/users"),
            style="filtered",
            placeholder=item.placeholder or None,
            value=item.initial or None,
            is_required=not item.optional,
        )
    return ChoiceSetInput(
        id=item.id,
        label=item.label,
        choices=[Choice(title=option.label, value=option.value) for option in item.options],
        is_multi_select=item.multiple,
        style="compact"
        if item.style in (ChoiceStyle.SELECT, ChoiceStyle.MULTI_SELECT)
        else "expanded",
        placeholder=item.placeholder or None,
        value=",".join(item.initial) or None,
        is_required=not item.optional,
    )


def form_card(form: Form, names: Names = NO_NAMES) -> AdaptiveCard:
    """A form as the card of a dialog, with each field's error under it."""
    body: list[Any] = []
    for item in form.items:
        if isinstance(item, TextField | ChoiceField | PersonField):
            body.append(_input(item))
            if item.hint:
                body.append(_text(markdown(item.hint, names), is_subtle=True, size="Small"))
            body += _error(form.errors.get(item.id) or item.error)
        else:
            body.extend(element(item, names))
    data = {STATE_KEY: form.state} if form.state else None
    submit = SubmitAction(title=form.submit, data=SubmitData(form.id, data)).with_style("positive")
    return AdaptiveCard(body=body, actions=[submit], fallback_text=form.title)


def read_form(form: Form, data: Mapping[str, Any]) -> dict[str, Any]:
    """What was submitted, by field id: a string, a list (several choices) or None."""
    values: dict[str, Any] = {}
    for item in form.fields:
        raw = data.get(item.id)
        if isinstance(item, ChoiceField) and item.multiple:
            values[item.id] = [v for v in str(raw or "").split(",") if v]
        elif raw is None or raw == "":
            values[item.id] = None
        else:
            values[item.id] = str(raw)
    return values

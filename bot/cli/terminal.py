"""Messages and forms as plain text, for the terminal (the demo shows what a person sees).

Like the Slack and Teams renderers it only lays out: every word comes from the view.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.views.message import (
    Actions,
    Block,
    Bullets,
    ChoiceField,
    Divider,
    Facts,
    Field,
    Form,
    Heading,
    Image,
    Message,
    Paragraph,
    PersonField,
    TextField,
)


def message_text(message: Message) -> str:
    """A message as lines of text: headings, paragraphs, bullets, facts and its buttons."""
    lines = [line for block in message.blocks for line in _block(block)]
    return "\n".join(lines) if lines else message.summary.plain()


def form_text(form: Form) -> str:
    """A form as text: its title, each field with its label, hint and choices, its buttons."""
    lines = [form.title, "=" * len(form.title)]
    for item in form.items:
        if isinstance(item, TextField | ChoiceField | PersonField):
            lines.extend(_field(item))
        else:
            lines.extend(_block(item))
    lines.append(f"[ {form.submit} ]  [ {form.close} ]")
    return "\n".join(lines)


def _block(block: Block) -> Iterator[str]:
    if isinstance(block, Heading):
        yield block.text
    elif isinstance(block, Paragraph):
        yield ("  " if block.subtle else "") + block.text.plain()
    elif isinstance(block, Bullets):
        yield from (f"  • {item.plain()}" for item in block.items)
    elif isinstance(block, Facts):
        yield from (f"  {label}: {value.plain()}" for label, value in block.items)
    elif isinstance(block, Divider):
        yield "—" * 20
    elif isinstance(block, Image):
        yield f"[image: {block.alt}]"
    elif isinstance(block, Actions):
        yield "  ".join(f"[ {button.label} ]" for button in block.buttons)


def _field(item: Field) -> Iterator[str]:
    optional = " (optional)" if item.optional else ""
    yield f"{item.label}{optional}"
    if item.hint:
        yield f"  {item.hint.plain()}"
    if isinstance(item, ChoiceField):
        mark = "[ ]" if item.multiple else "( )"
        yield from (f"  {mark} {option.label}" for option in item.options)
    elif isinstance(item, PersonField):
        yield "  [ @ ]"
    else:
        yield "  [" + " " * (40 if item.multiline else 20) + "]"

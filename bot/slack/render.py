"""Block Kit for every LearnLoop message and form: layout only, no words of its own.

Everything a person reads comes from a view in `bot/views/`; this module spells `Words` in
Slack's mrkdwn, lays blocks out within Slack's limits and reads submitted forms back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain.platforms import platform_of
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
    Option,
    Paragraph,
    Part,
    PersonField,
    Quote,
    Style,
    TextField,
    Thread,
)
from bot.views.words import (
    Channel,
    Cmd,
    Command,
    Mention,
    Speller,
    Words,
)

# Slack's published limits for the parts we fill in.
HEADER_CHARS = 150
SECTION_CHARS = 3000
BUTTON_CHARS = 75
OPTION_CHARS = 75
LABEL_CHARS = 2000
TITLE_CHARS = 24
MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
FIELDS_PER_SECTION = 10
FALLBACK_CHARS = 3000
# Slack refuses messages whose blocks are very large overall; a thread part stays well under.
MESSAGE_CHARS = 12_000

# Commands with a slash command of their own; the rest are `/learnloop <command>`.
_OWN_SLASH = {
    Command.CHECKIN: "/checkin",
    Command.ESCALATE: "/escalate",
    Command.BARRIERS: "/barriers",
}

Rendered = tuple[str, list[dict[str, Any]]]


def cut(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """Text safe inside mrkdwn: Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slash(cmd: Cmd) -> str:
    """A command as typed in Slack: `/barriers mine`, `/learnloop pause 2w`."""
    head = _OWN_SLASH.get(cmd.command) or f"/learnloop {cmd.command.value}"
    return f"{head} {cmd.args}".strip()


def _mention(span: Mention) -> str:
    # A Teams person's id (a GUID) means nothing to Slack: <@GUID> would show as raw text.
    if span.user_id and platform_of(span.user_id) == "slack":
        return f"<@{span.user_id}>"
    return escape(span.fallback)


def _channel(span: Channel) -> str:
    # Only a Slack conversation id links as <#C…>; a Teams one would show as raw text.
    if span.address and platform_of(span.address) == "slack":
        return f"<#{span.address}>"
    return escape(span.fallback)


class _Plain(Speller):
    """Plain text (plain_text objects): commands spelled the Slack way."""

    def command(self, cmd: Cmd) -> str:
        return slash(cmd)


class _Notification(_Plain):
    """A message's `text`: no markup, but escaped, with people and channels linked."""

    def text(self, value: str) -> str:
        return escape(value)

    def command(self, cmd: Cmd) -> str:
        return escape(slash(cmd))

    def mention(self, span: Mention) -> str:
        return _mention(span)

    def channel(self, span: Channel) -> str:
        return _channel(span)


class _Mrkdwn(_Notification):
    """Slack's mrkdwn."""

    def strong(self, value: str) -> str:
        return f"*{escape(value)}*"

    def emph(self, value: str) -> str:
        return f"_{escape(value)}_"

    def literal(self, value: str) -> str:
        return f"`{escape(value)}`"

    def command(self, cmd: Cmd) -> str:
        return f"`{escape(slash(cmd))}`"

    def link(self, url: str, label: str) -> str:
        return f"<{url}|{escape(label)}>"


_PLAIN, _NOTIFICATION, _MRKDWN = _Plain(), _Notification(), _Mrkdwn()


def mrkdwn(text: Words | str) -> str:
    """Words spelled in Slack's mrkdwn."""
    return _MRKDWN.spell(text)


def plain(text: Words | str) -> str:
    """Words as plain text (notification text, plain_text objects): commands spelled for Slack."""
    return _PLAIN.spell(text)


def notification(text: Words) -> str:
    """A message's `text` (notifications, screen readers): no markup, but escaped.

    Slack parses a message's `text` like any mrkdwn field, so a title with `<!here>` in it
    would ping the channel even when the blocks are escaped.
    """
    return _NOTIFICATION.spell(text)


def _plain_text(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def _md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, SECTION_CHARS)}


def button(item: Button) -> dict[str, Any]:
    """One button element."""
    element: dict[str, Any] = {"type": "button", "text": _plain_text(item.label, BUTTON_CHARS)}
    element["action_id"] = item.action or f"link:{item.url}"[:255]
    if item.value:
        element["value"] = item.value
    if item.url:
        element["url"] = item.url
    if item.style is not Style.DEFAULT:
        element["style"] = item.style.value
    if item.confirm is not None:
        element["confirm"] = {
            "title": _plain_text(item.confirm.title, 100),
            "text": _md(mrkdwn(item.confirm.text)),
            "confirm": _plain_text(item.confirm.confirm, 30),
            "deny": _plain_text(item.confirm.deny, 30),
        }
    return element


def sections(text: str) -> list[dict[str, Any]]:
    """Sections of at most 3,000 characters, split between lines (or words, for a giant line),
    so nothing is cut off."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > SECTION_CHARS:
            cut_at = line.rfind(" ", 0, SECTION_CHARS)
            cut_at = cut_at if cut_at > SECTION_CHARS // 2 else SECTION_CHARS
            # Never end a piece in the middle of an escape such as "&amp;".
            amp = line.rfind("&", max(0, cut_at - 5), cut_at)
            if amp != -1 and ";" not in line[amp:cut_at]:
                cut_at = amp
            head, line = line[:cut_at], line[cut_at:].lstrip(" ")
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_CHARS:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return [{"type": "section", "text": _md(piece)} for piece in pieces if piece]


def _quote_lines(item: Quote) -> str:
    quoted = "\n".join(f">{escape(line)}" for line in item.text.splitlines() or [""])
    return f"{quoted}\n_— {mrkdwn(item.byline)}_" if item.byline else quoted


def _lines(item: Paragraph | Bullets | Quote) -> str:
    if isinstance(item, Paragraph):
        return mrkdwn(item.text)
    if isinstance(item, Bullets):
        return "\n".join(f"• {mrkdwn(line)}" for line in item.items)
    return _quote_lines(item)


def block(item: Block) -> list[dict[str, Any]]:
    """The Block Kit blocks for one neutral block (a long list may take several)."""
    if isinstance(item, Heading):
        # plain_text, but a header that reads "<!channel>" should not even look like one.
        text = item.text.replace("<", "‹").replace(">", "›")
        return [{"type": "header", "text": _plain_text(text, HEADER_CHARS)}]
    if isinstance(item, Paragraph):
        text = mrkdwn(item.text)
        if not text:
            return []
        if item.subtle:
            return [{"type": "context", "elements": [_md(text)]}]
        return sections(text)
    if isinstance(item, Bullets):
        return _bullets([mrkdwn(line) for line in item.items])
    if isinstance(item, Quote):
        return sections(_quote_lines(item))
    if isinstance(item, Part):
        return [laid for inner in item.blocks for laid in block(inner)]
    if isinstance(item, Group):
        return sections("\n".join(text for text in map(_lines, item.items) if text))
    if isinstance(item, Facts):
        fields = [_md(f"*{escape(label)}*\n{mrkdwn(value)}") for label, value in item.items]
        return [
            {"type": "section", "fields": fields[start : start + FIELDS_PER_SECTION]}
            for start in range(0, len(fields), FIELDS_PER_SECTION)
        ]
    if isinstance(item, Divider):
        return [{"type": "divider"}]
    if isinstance(item, Image):
        image: dict[str, Any] = {"type": "image", "image_url": item.url, "alt_text": item.alt}
        if item.title:
            image["title"] = _plain_text(item.title, 2000)
        return [image]
    if isinstance(item, Group):
        return [laid for inner in item.blocks for laid in block(inner)]
    if isinstance(item, Actions):
        actions: dict[str, Any] = {
            "type": "actions",
            "elements": [button(b) for b in item.buttons[:25]],
        }
        if item.id:
            actions["block_id"] = item.id
        return [actions] if item.buttons else []
    raise TypeError(f"no Block Kit layout for {type(item).__name__}")


def _bullets(lines: list[str]) -> list[dict[str, Any]]:
    """Bullet lines packed into as few sections as Slack's 3,000 characters allow."""
    sections: list[dict[str, Any]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        entry = f"• {line}"
        if current and size + len(entry) + 1 > SECTION_CHARS:
            sections.append({"type": "section", "text": _md("\n".join(current))})
            current, size = [], 0
        current.append(entry)
        size += len(entry) + 1
    if current:
        sections.append({"type": "section", "text": _md("\n".join(current))})
    return sections


def blocks(items: tuple[Block, ...] | list[Block], limit: int = MESSAGE_BLOCKS) -> list[dict]:
    """Block Kit for a run of neutral blocks, never more than Slack takes."""
    out: list[dict[str, Any]] = []
    for item in items:
        out.extend(block(item))
    return out[:limit]


def message(view: Message) -> Rendered:
    """A message's notification text and blocks, for chat.postMessage / chat.update."""
    return cut(notification(view.summary), FALLBACK_CHARS), blocks(view.blocks)


def metadata(view: Message) -> dict[str, Any] | None:
    """The message's tag as Slack message metadata (read back by conversations.history)."""
    if view.tag is None:
        return None
    return {"event_type": view.tag.kind, "event_payload": dict(view.tag.payload)}


def _size(item: dict[str, Any]) -> int:
    return len(str(item))


def thread(view: Thread) -> list[Rendered]:
    """A long message as posts: the first (ending with `continued`) and replies in its thread.

    Each post has at most 50 blocks and stays well under Slack's overall size limit.
    """
    every: list[dict[str, Any]] = []
    for item in view.message.blocks:
        every.extend(block(item))
    if len(every) <= MESSAGE_BLOCKS and sum(map(_size, every)) <= MESSAGE_CHARS:
        return [(cut(notification(view.message.summary), FALLBACK_CHARS), every)]
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for item in every:
        limit = MESSAGE_BLOCKS - 1 if len(chunks) == 1 else MESSAGE_BLOCKS
        if chunks[-1] and (len(chunks[-1]) >= limit or size + _size(item) > MESSAGE_CHARS):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += _size(item)
    chunks[0] = [*chunks[0], *block(Paragraph(view.continued, subtle=True))]
    first = cut(notification(view.message.summary), FALLBACK_CHARS)
    rest = cut(notification(view.reply_summary), FALLBACK_CHARS)
    return [(first if index == 0 else rest, chunk) for index, chunk in enumerate(chunks)]


# ----------------------------------------------------------------------------- forms


def _option(item: Option) -> dict[str, Any]:
    option: dict[str, Any] = {"text": _plain_text(item.label, OPTION_CHARS), "value": item.value}
    if item.description:
        option["description"] = _plain_text(item.description, OPTION_CHARS)
    return option


def _element(item: TextField | ChoiceField | PersonField) -> dict[str, Any]:
    if isinstance(item, TextField):
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": item.id,
            "multiline": item.multiline,
        }
        if item.initial:
            element["initial_value"] = item.initial
        if item.max_length:
            element["max_length"] = item.max_length
        if item.placeholder:
            element["placeholder"] = _plain_text(item.placeholder, 150)
        return element
    if isinstance(item, PersonField):
        element = {"type": "users_select", "action_id": item.id}
        if item.initial:
            element["initial_user"] = item.initial
        if item.placeholder:
            element["placeholder"] = _plain_text(item.placeholder, 150)
        return element
    kind = {
        ChoiceStyle.SELECT: "static_select",
        ChoiceStyle.RADIO: "radio_buttons",
        ChoiceStyle.CHECKBOXES: "checkboxes",
        ChoiceStyle.MULTI_SELECT: "multi_static_select",
    }[item.style]
    options = [_option(option) for option in item.options]
    element = {"type": kind, "action_id": item.id, "options": options[:100]}
    chosen = [option for option in options if option["value"] in item.initial]
    if chosen:
        if item.multiple:
            element["initial_options"] = chosen
        else:
            element["initial_option"] = chosen[0]
    if item.placeholder and kind.endswith("select"):
        element["placeholder"] = _plain_text(item.placeholder, 150)
    return element


def field(item: TextField | ChoiceField | PersonField) -> dict[str, Any]:
    """An input block; its block_id is the field's id, so errors can be pinned to it."""
    entry: dict[str, Any] = {
        "type": "input",
        "block_id": item.id,
        "label": _plain_text(item.label, LABEL_CHARS),
        "element": _element(item),
        "optional": item.optional,
    }
    if item.hint:
        entry["hint"] = _plain_text(plain(item.hint), LABEL_CHARS)
    return entry


def modal(form: Form) -> dict[str, Any]:
    """A modal view for views.open / views.push / views.update."""
    items: list[dict[str, Any]] = []
    for item in form.items:
        if isinstance(item, TextField | ChoiceField | PersonField):
            items.append(field(item))
        else:
            items.extend(block(item))
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": form.id,
        "title": _plain_text(form.title, TITLE_CHARS),
        "submit": _plain_text(form.submit, TITLE_CHARS),
        "close": _plain_text(form.close, TITLE_CHARS),
        "blocks": items[:MODAL_BLOCKS],
    }
    if form.state:
        view["private_metadata"] = form.state
    return view


def read_form(form: Form, state_values: Mapping[str, Any]) -> dict[str, Any]:
    """What was submitted, by field id: a string, a list (several choices) or None."""
    values: dict[str, Any] = {}
    for item in form.fields:
        actions = state_values.get(item.id) or {}
        # An input block holds one element; a form opened before its element was renamed
        # still sends it under the old action_id.
        element = actions.get(item.id) or next(iter(actions.values()), None) or {}
        values[item.id] = _value(element) if isinstance(element, Mapping) else None
    return values


def read_values(state_values: Mapping[str, Any]) -> dict[str, Any]:
    """Every input's value by its block id, for a form whose fields the handler can't know yet.

    The check-in form's questions depend on the person's cohort and cycle, which the service
    works out when it stores the answers; the handler only passes on what came in.
    """
    values: dict[str, Any] = {}
    for block_id, actions in state_values.items():
        if not isinstance(actions, Mapping):
            continue
        element = next(iter(actions.values()), None)
        values[str(block_id)] = _value(element) if isinstance(element, Mapping) else None
    return values


def _value(element: Mapping[str, Any]) -> Any:
    kind = element.get("type")
    if kind == "plain_text_input" or (kind is None and "value" in element):
        return element.get("value")
    if kind == "users_select":
        return element.get("selected_user")
    if kind in ("checkboxes", "multi_static_select"):
        return [option["value"] for option in element.get("selected_options") or []]
    selected = element.get("selected_option")
    return selected.get("value") if selected else None


def form_errors(errors: Mapping[str, str]) -> dict[str, Any]:
    """The `response_action: errors` answer pinning each message to its field."""
    return {"response_action": "errors", "errors": dict(errors)}

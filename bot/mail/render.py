"""A neutral `Message` laid out as an e-mail: plain text and HTML, charts inline (cid images).

Only layout lives here: the sentences come from the view builders in `bot/views/`. The text
part is the plain Speller's (as in the terminal); the HTML part is a Jinja2 template fed with
the blocks, each sentence spelled by the HTML Speller (escaped) before the template sees it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from markupsafe import Markup

from bot.ports import InlineImage
from bot.render.digest import text_lines
from bot.render.pages import html_words
from bot.views.message import (
    Actions,
    Block,
    Bullets,
    Divider,
    Facts,
    Group,
    Heading,
    Image,
    Message,
    Paragraph,
    Part,
    Quote,
)
from bot.web.jinja import templates

# The charts follow a message's opening (its title, headline and scope line), as in the pack.
IMAGES_AFTER = 3


@dataclass(frozen=True)
class Layout:
    """What the template lays out: blocks as plain dicts, spelled and escaped."""

    title: str
    before: list[dict[str, Any]]
    images: list[dict[str, str]]
    after: list[dict[str, Any]]


def _spelled(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in blocks:
        if isinstance(item, Heading):
            out.append({"kind": "heading", "text": item.text})
        elif isinstance(item, Paragraph):
            out.append(
                {"kind": "paragraph", "html": Markup(html_words(item.text)), "subtle": item.subtle}
            )
        elif isinstance(item, Bullets):
            out.append({"kind": "bullets", "items": [Markup(html_words(i)) for i in item.items]})
        elif isinstance(item, Quote):
            byline = Markup(html_words(item.byline)) if item.byline else None
            out.append({"kind": "quote", "text": item.text, "byline": byline})
        elif isinstance(item, Group):
            out += _spelled(item.items)
        elif isinstance(item, Part):
            out += _spelled(item.blocks)
        elif isinstance(item, Divider):
            out.append({"kind": "divider"})
        elif isinstance(item, Facts):
            rows = [(label, Markup(html_words(value))) for label, value in item.items]
            out.append({"kind": "facts", "rows": rows})
        elif isinstance(item, Image):
            out.append({"kind": "image", "url": item.url, "alt": item.alt})
        elif isinstance(item, Actions):
            # A button that is a link still works in an e-mail; the others need the chat.
            links = [(b.label, b.url) for b in item.buttons if b.url]
            if links:
                out.append({"kind": "links", "links": links})
    return out


def _text(message: Message, images: Sequence[InlineImage]) -> str:
    lines = text_lines(_flat(message.blocks))
    for block in message.blocks:
        if isinstance(block, Actions):
            lines += [f"{b.label}: {b.url}" for b in block.buttons if b.url]
    if images:
        # Where the charts are in the HTML part, their words are in the text part.
        notes = [f"[{image.title}: {image.alt}]" for image in images]
        cut = _text_cut(message)
        lines = lines[:cut] + notes + lines[cut:]
    return "\n".join(lines) + "\n"


def _flat(blocks: Iterable[Block]) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        out += list(block.blocks) if isinstance(block, Part) else [block]
    return out


def _text_cut(message: Message) -> int:
    return len(text_lines(_flat(message.blocks[:IMAGES_AFTER])))


def message_id(key: str, domain: str) -> str:
    """The same Message-ID for every try of one (destination, period): repeats can be told."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<learnloop.{digest}@{domain}>"


def email_message(
    message: Message,
    *,
    sender: str,
    to: str,
    images: Sequence[InlineImage] = (),
    key: str | None = None,
) -> EmailMessage:
    """The message as multipart/alternative: text, then HTML with the images as related parts."""
    domain = sender.rsplit("@", 1)[-1].rstrip(">") or "localhost"
    cids = [make_msgid(idstring=f"chart{i}", domain=domain) for i, _ in enumerate(images)]
    layout = Layout(
        title=message.summary.plain(),
        before=_spelled(message.blocks[:IMAGES_AFTER]),
        images=[
            {"cid": cid[1:-1], "alt": image.alt, "title": image.title}
            for cid, image in zip(cids, images, strict=True)
        ],
        after=_spelled(message.blocks[IMAGES_AFTER:]),
    )
    mail = EmailMessage()
    mail["Subject"] = message.summary.plain()
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = message_id(key, domain) if key else make_msgid(domain=domain)
    mail.set_content(_text(message, images))
    mail.add_alternative(templates().get_template("email/message.html").render(m=layout), "html")
    html_part = mail.get_payload()[1]  # type: ignore[index]
    for cid, image in zip(cids, images, strict=True):
        html_part.add_related(image.png, "image", "png", cid=cid, filename=f"{cid[1:8]}.png")
    return mail

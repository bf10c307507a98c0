"""The digest as plain text (terminal, demo) and as a self-contained HTML page (review pack).

Both lay out the same neutral message the chat platforms post (`bot/views/digest.py`), so a
sentence is written once: here are only the layouts, and the charts the page embeds.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.render.pages import html_words
from bot.views.digest import DigestView, digest_message
from bot.views.message import (
    Actions,
    Block,
    Bullets,
    Divider,
    Facts,
    Group,
    Heading,
    Image,
    Paragraph,
    Quote,
)


@dataclass(frozen=True)
class Chart:
    """A rendered chart: PNG bytes, a title and alt text for people who can't see it."""

    title: str
    png: bytes
    alt: str


# ------------------------------------------------------------------------ plain text


def text_lines(blocks: Iterable[Block]) -> list[str]:
    """Neutral blocks as lines of plain text (commands as a person says them)."""
    out: list[str] = []
    for item in blocks:
        if isinstance(item, Heading):
            out += [item.text, "=" * min(len(item.text), 78)]
        elif isinstance(item, Paragraph):
            out.append(item.text.plain())
        elif isinstance(item, Bullets):
            out += [f"  • {line.plain()}" for line in item.items]
        elif isinstance(item, Quote):
            said = f"  “{item.text}”"
            out.append(f"{said}\n    — {item.byline.plain()}" if item.byline else said)
        elif isinstance(item, Group):
            out += text_lines(item.items)
        elif isinstance(item, Divider):
            out.append("")
        elif isinstance(item, Facts):
            out += [f"{label}: {value.plain()}" for label, value in item.items]
        elif isinstance(item, Image):
            out.append(f"[{item.title or 'Image'}: {item.alt}]")
        elif isinstance(item, Actions):
            continue  # buttons do nothing in a terminal
    return out


def render_text(view: DigestView) -> str:
    """The digest as plain text, section by section (empty sections are left out)."""
    return "\n".join(text_lines(digest_message(view).blocks))


# ------------------------------------------------------------------------------ HTML


def html_blocks(blocks: Iterable[Block], heading: str = "h1") -> list[str]:
    """Neutral blocks as HTML fragments; the first heading is `heading`, later ones h2."""
    h = html.escape
    out: list[str] = []
    for item in blocks:
        if isinstance(item, Heading):
            out.append(f"<{heading}>{h(item.text)}</{heading}>")
            heading = "h2"
        elif isinstance(item, Paragraph):
            css = ' class="meta"' if item.subtle else ""
            out.append(f"<p{css}>{html_words(item.text)}</p>")
        elif isinstance(item, Bullets):
            out += ["<ul>", *(f"<li>{html_words(line)}</li>" for line in item.items), "</ul>"]
        elif isinstance(item, Quote):
            by = f'<div class="by">— {html_words(item.byline)}</div>' if item.byline else ""
            out.append(f"<blockquote>{h(item.text)}{by}</blockquote>")
        elif isinstance(item, Group):
            out += html_blocks(item.items, heading)
        elif isinstance(item, Divider):
            out.append("<hr>")
        elif isinstance(item, Facts):
            rows = "".join(
                f"<tr><th>{h(label)}</th><td>{html_words(value)}</td></tr>"
                for label, value in item.items
            )
            out.append(f"<table>{rows}</table>")
        elif isinstance(item, Image):
            out.append(f'<img src="{h(item.url)}" alt="{h(item.alt)}">')
    return out


_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1d2b26}
h1{color:#2e5e4e;margin-bottom:.2rem}h2{color:#2e5e4e}.meta{color:#58706a}
hr{border:0;border-top:1px solid #cfe0d9;margin:1.6rem 0}
blockquote{margin:.6rem 0;padding:.4rem .9rem;border-left:4px solid #2e5e4e;background:#f3f8f6}
.by{color:#58706a;font-size:.9rem}
img{max-width:100%;height:auto}
"""


def digest_fragment(view: DigestView, charts: Sequence[Chart] = ()) -> list[str]:
    """The digest's HTML body (the review pack's and the Learning Board's week page).

    The charts follow the digest's opening (its title, headline and scope).
    """
    blocks = digest_message(view).blocks
    figures = [
        f'<figure><img src="data:image/png;base64,{base64.b64encode(chart.png).decode("ascii")}"'
        f' alt="{html.escape(chart.alt)}">'
        f'<figcaption class="meta">{html.escape(chart.title)}</figcaption></figure>'
        for chart in charts
    ]
    return [*html_blocks(blocks[:3]), *figures, *html_blocks(blocks[3:], heading="h2")]


def render_html(view: DigestView, charts: Sequence[Chart] = ()) -> str:
    """A self-contained HTML page (styles inline, charts embedded as data URIs)."""
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(view.title)}</title><style>{_CSS}</style></head><body>",
            *digest_fragment(view, charts),
            "</body></html>",
        ]
    )

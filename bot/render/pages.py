"""Public pages (privacy notice, terms of use) as small, self-contained HTML documents."""

from __future__ import annotations

import html

from bot.views.legal import PublicPage
from bot.views.words import Cmd, Speller, Words

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1b1b1b}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:1.6rem}"
)


class _Html(Speller):
    """HTML, every piece of text escaped; a page has no platform, so a command is shown as a
    person would say it."""

    def text(self, value: str) -> str:
        return html.escape(value)

    def strong(self, value: str) -> str:
        return f"<strong>{html.escape(value)}</strong>"

    def emph(self, value: str) -> str:
        return f"<em>{html.escape(value)}</em>"

    def literal(self, value: str) -> str:
        return f"<code>{html.escape(value)}</code>"

    def command(self, cmd: Cmd) -> str:
        return f"<code>{html.escape(cmd.neutral())}</code>"

    def link(self, url: str, label: str) -> str:
        return f'<a href="{html.escape(url)}">{html.escape(label)}</a>'


_HTML = _Html()


def html_words(text: Words | str) -> str:
    """Words as HTML, every piece of text escaped."""
    return _HTML.spell(text)


def render_page_html(page: PublicPage) -> str:
    """The page as HTML; every sentence is escaped (the alliance name comes from config)."""
    esc = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(page.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(page.title)}</h1>",
        f"<p>{esc(page.summary)}</p>",
    ]
    for section in page.sections:
        parts.append(f"<h2>{esc(section.heading)}</h2>")
        parts.extend(f"<p>{html_words(paragraph)}</p>" for paragraph in section.paragraphs)
    parts.append("</body></html>")
    return "\n".join(parts)

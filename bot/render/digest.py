"""The digest as plain text (terminal, demo) and as a self-contained HTML page (review pack)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass

from bot.render.inquiry import learning_cycles_html, learning_cycles_text
from bot.views.digest import BarrierLine, DigestView, Quote


@dataclass(frozen=True)
class Chart:
    """A rendered chart: PNG bytes, a title and alt text for people who can't see it."""

    title: str
    png: bytes
    alt: str


def render_text(view: DigestView) -> str:
    """The digest as plain text, section by section (empty sections are left out)."""
    out = [view.title, "=" * min(len(view.title), 78), f"{view.scope_label} · {view.period_label}"]
    if view.learnings_count == 0:
        out.append("No learnings were shared in this period.")
    else:
        out.append(
            f"{view.learnings} learnings this week from "
            f"{view.agencies_contributing.of('agency', 'agencies')}."
        )
    for label, trends in (("Rising", view.rising), ("Falling", view.falling)):
        if trends:
            out.append(
                f"{label}: "
                + ", ".join(f"{t.theme} ({t.count}, 4-week average {t.baseline})" for t in trends)
            )
    if view.participation:
        out += ["", "Who took part (counts per agency, never per person)"]
        out += [
            f"  • {p.agency}: {p.learnings} learnings from {p.people} people"
            for p in view.participation
        ]
    if view.themes:
        out += ["", "Themes across agencies"]
        for line in view.themes:
            agencies = ", ".join(f"{name} {n}" for name, n in line.by_agency)
            out.append(f"  • {line.theme} — {line.total}" + (f": {agencies}" if agencies else ""))
    if view.patterns:
        out += ["", "Shared patterns (the same thing said in more than one agency)"]
        for pattern in view.patterns:
            what = "Barrier" if pattern.kind == "barrier" else "Learning"
            out.append(f"  {what} seen in {pattern.agencies_text()} ({pattern.size_text})")
            if pattern.about:
                out.append(f"    {pattern.about}")
            out += [_text_quote(q, "    ") for q in pattern.quotes]
    if view.quotes:
        out += ["", "In their words"]
        out += [_text_quote(q, "  ") for q in view.quotes]
    if not view.barriers.empty:
        out += ["", "Barriers"]
        for title, lines in _barrier_groups(view):
            out.append(f"  {title}")
            out += [f"    • {_barrier_text(line)}" for line in lines]
    # Issue 9: purpose answers and inquiries.
    out += learning_cycles_text(view.purpose, view.inquiries, view.inquiry_summaries)
    out += [
        "",
        f"Counts are per agency, never per person; counts under {view.suppress_below} show as "
        f"“fewer than {view.suppress_below}”. Anonymous learnings are never attributed.",
    ]
    return "\n".join(out)


def _text_quote(quote: Quote, indent: str) -> str:
    themes = f" · {', '.join(quote.themes)}" if quote.themes else ""
    return f"{indent}“{quote.text}”\n{indent}  — {quote.byline}{themes}"


def _barrier_groups(view: DigestView) -> list[tuple[str, Sequence[BarrierLine]]]:
    b = view.barriers
    groups = [
        ("New", b.new),
        ("Moved up the ladder", b.moved_up),
        ("Stale — no update for 14 days", b.stale),
        ("Resolved — you said, we did", b.resolved),
    ]
    return [(title, lines) for title, lines in groups if lines]


def _barrier_text(line: BarrierLine) -> str:
    where = line.level + (f"; {', '.join(line.agencies)}" if line.agencies else "")
    return f"{line.title} ({where})" + (f" — {line.note}" if line.note else "")


_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1d2b26}
h1{color:#2e5e4e;margin-bottom:.2rem}h2{color:#2e5e4e;border-bottom:1px solid #cfe0d9;
padding-bottom:.2rem;margin-top:2rem}.meta{color:#58706a}
blockquote{margin:.6rem 0;padding:.4rem .9rem;border-left:4px solid #2e5e4e;background:#f3f8f6}
.by{color:#58706a;font-size:.9rem}table{border-collapse:collapse}
td,th{padding:.2rem .8rem;border-bottom:1px solid #e3ece8;text-align:left}
img{max-width:100%;height:auto}footer{margin-top:2rem;color:#58706a;font-size:.9rem}
"""


def _meta(view: DigestView) -> str:
    """Alliance · scope · period, the alliance named once (the scope may already name it)."""
    parts = [view.scope_label, view.period_label]
    if view.alliance_name not in view.scope_label:
        parts.insert(0, view.alliance_name)
    return " · ".join(parts)


def render_html(view: DigestView, charts: Sequence[Chart] = ()) -> str:
    """A self-contained HTML page (styles inline, charts embedded as data URIs)."""
    h = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(view.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{h(view.title)}</h1>",
        f'<p class="meta">{h(_meta(view))}</p>',
    ]
    if view.learnings_count == 0:
        parts.append("<p>No learnings were shared in this period.</p>")
    else:
        parts.append(
            f"<p><strong>{h(view.learnings)} learnings</strong> from "
            f"<strong>{h(view.agencies_contributing.of('agency', 'agencies'))}</strong>.</p>"
        )
    for label, trends in (("Rising", view.rising), ("Falling", view.falling)):
        if trends:
            items = ", ".join(
                f"<strong>{h(t.theme)}</strong> ({t.count}, earlier average {h(t.baseline)})"
                for t in trends
            )
            parts.append(f"<p>{label}: {items}.</p>")
    for chart in charts:
        data = base64.b64encode(chart.png).decode("ascii")
        parts.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{h(chart.alt)}">'
            f'<figcaption class="meta">{h(chart.title)}</figcaption></figure>'
        )
    if view.participation:
        parts.append(
            '<h2>Who took part</h2><p class="meta">Counts per agency, never per '
            "person.</p><table><tr><th>Agency</th><th>Learnings</th><th>People</th></tr>"
        )
        parts += [
            f"<tr><td>{h(p.agency)}</td><td>{h(p.learnings)}</td><td>{h(p.people)}</td></tr>"
            for p in view.participation
        ]
        parts.append("</table>")
    if view.themes:
        parts.append(
            "<h2>Themes across agencies</h2><table><tr><th>Theme</th><th>Total</th>"
            "<th>Agencies</th></tr>"
        )
        for line in view.themes:
            agencies = ", ".join(f"{h(name)} {n}" for name, n in line.by_agency)
            parts.append(
                f"<tr><td>{h(line.theme)}</td><td>{line.total}</td><td>{agencies}</td></tr>"
            )
        parts.append("</table>")
    if view.patterns:
        parts.append("<h2>Shared patterns</h2>")
        for pattern in view.patterns:
            what = "Barrier" if pattern.kind == "barrier" else "Learning"
            parts.append(
                f"<h3>{what} seen in {h(pattern.agencies_text(limit=12))}</h3>"
                f'<p class="meta">{h(pattern.size_text)}</p>'
            )
            if pattern.about:
                parts.append(f'<p class="about">{h(pattern.about)}</p>')
            parts += [_html_quote(q) for q in pattern.quotes]
    if view.quotes:
        parts.append("<h2>In their words</h2>")
        parts += [_html_quote(q) for q in view.quotes]
    if not view.barriers.empty:
        parts.append("<h2>Barriers</h2>")
        for title, lines in _barrier_groups(view):
            parts.append(f"<h3>{h(title)}</h3><ul>")
            parts += [f"<li>{h(_barrier_text(line))}</li>" for line in lines]
            parts.append("</ul>")
    # Issue 9: purpose answers and inquiries.
    parts += learning_cycles_html(view.purpose, view.inquiries, view.inquiry_summaries)
    parts.append(
        f"<footer>Counts are per agency, never per person; counts under {view.suppress_below} "
        f"show as “fewer than {view.suppress_below}”. Anonymous learnings are never attributed. "
        "Made by LearnLoop.</footer></body></html>"
    )
    return "\n".join(parts)


def _html_quote(quote: Quote) -> str:
    themes = f" · {html.escape(', '.join(quote.themes))}" if quote.themes else ""
    return (
        f"<blockquote>{html.escape(quote.text)}"
        f'<div class="by">— {html.escape(quote.byline)}{themes}</div></blockquote>'
    )

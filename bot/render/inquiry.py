"""Issue 9: inquiry findings and purpose answers as plain text and HTML (digest, review pack)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from bot.views.inquiry import InquiryLine, InquirySummaryView, PurposeSectionView


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def summary_text(view: InquirySummaryView, indent: str = "  ") -> list[str]:
    """An inquiry's findings as text lines."""
    state = "Inquiry closed" if view.closed else "Inquiry so far"
    out = [
        f"{state}: “{view.question}” (cohort {view.cohort}, "
        f"{_day(view.started)} – {_day(view.ends)})",
        f"{indent}{view.learnings} learnings while it ran; {view.answers} answered its question.",
    ]
    out += [
        f"{indent}• {a.agency}: {a.learnings} learnings, {a.answers} answers"
        for a in view.by_agency
    ]
    for shared in view.patterns:
        out.append(f"{indent}Said in {' and '.join(shared.agencies)}:")
        out.append(f"{indent}  “{shared.quote}”\n{indent}    — {shared.byline}")
    out += [
        f"{indent}Theme {t.theme}: {t.learnings} learnings from {t.agencies} agencies"
        for t in view.themes
    ]
    out.append(f"{indent}{view.barrier_answers} learnings said what got in the way.")
    out += [f"{indent}• Barrier: {b.title} — {b.status}, with {b.level}" for b in view.barriers]
    return out


def learning_cycles_text(
    purpose: PurposeSectionView | None,
    running: Sequence[InquiryLine],
    closed: Sequence[InquirySummaryView],
) -> list[str]:
    """The digest's purpose and inquiry sections as text lines (none when there is nothing)."""
    out: list[str] = []
    if purpose is not None:
        period = f", {purpose.period}" if purpose.period else ""
        out += ["", f"Purpose — “{purpose.question}” ({purpose.total} answers{period})"]
        out += [f"  “{a.text}”\n    — {a.byline}" for a in purpose.answers]
    if running:
        out += ["", "Inquiries running"]
        out += [
            f"  • “{line.question}” — cohort {line.cohort}, until {_day(line.ends)} "
            f"({line.learnings} learnings so far)"
            for line in running
        ]
    for view in closed:
        out += ["", *summary_text(view)]
    return out


def learning_cycles_html(
    purpose: PurposeSectionView | None,
    running: Sequence[InquiryLine],
    closed: Sequence[InquirySummaryView],
) -> list[str]:
    """The digest's purpose and inquiry sections as HTML fragments."""
    h = html.escape
    parts: list[str] = []
    if purpose is not None:
        period = f", {h(purpose.period)}" if purpose.period else ""
        parts.append(
            f"<h2>Purpose</h2><p>“{h(purpose.question)}” — {h(purpose.total)} answers{period}</p>"
        )
        parts += [
            f'<blockquote>{h(a.text)}<div class="by">— {h(a.byline)}</div></blockquote>'
            for a in purpose.answers
        ]
    if running or closed:
        parts.append("<h2>Inquiries</h2>")
    if running:
        parts.append("<ul>")
        parts += [
            f"<li>“{h(line.question)}” — cohort {h(line.cohort)}, until {_day(line.ends)} "
            f"({h(line.learnings)} learnings so far)</li>"
            for line in running
        ]
        parts.append("</ul>")
    for view in closed:
        lines = summary_text(view, indent="")
        parts.append(f"<h3>{h(lines[0])}</h3>")
        parts += [f"<p>{h(line)}</p>" for line in lines[1:]]
    return parts

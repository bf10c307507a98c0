"""The digest in Block Kit: pure functions from a DigestView to Slack messages.

Every piece of text that came from a person or the config is escaped for mrkdwn, so a learning
that says ``<!channel>`` pings nobody. Slack's limits are kept here: at most 50 blocks a
message and 3,000 characters a section; what does not fit goes into thread replies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.digest import shorten
from bot.domain.suppression import Count
from bot.slack.blocks import escape_mrkdwn, fallback_text
from bot.slack.inquiry_blocks import inquiry_digest_blocks, purpose_digest_blocks
from bot.views.digest import BarrierLine, DigestView, Pattern, Quote, ThemeTrend

MAX_BLOCKS = 50
SECTION_CHARS = 3000
# Slack refuses messages whose blocks are very large overall; keep each well under that.
MESSAGE_CHARS = 12_000
CONTINUED = "Continued in the thread :thread:"

Message = tuple[str, list[dict[str, Any]]]


def e(text: str) -> str:
    """Escape user or config text for mrkdwn (short alias used throughout this module)."""
    return escape_mrkdwn(text)


def digest_messages(view: DigestView) -> list[Message]:
    """The digest as (fallback text, blocks) messages: the first posted, the rest in its thread."""
    blocks = digest_blocks(view)
    text = fallback_text(
        f"{view.title}: {view.learnings} learnings from {_agencies(view.agencies_contributing)}."
    )
    chunks = _chunk(blocks)
    messages: list[Message] = []
    for index, chunk in enumerate(chunks):
        dicts = [b.to_dict() for b in chunk]
        if index == 0 and len(chunks) > 1:
            dicts.append(_context(CONTINUED).to_dict())
        messages.append((text if index == 0 else f"{text} (continued)", dicts))
    return messages


def digest_blocks(view: DigestView) -> list[Block]:
    """Every block of the digest, in reading order, before splitting into messages."""
    # Header text is plain_text: no mrkdwn escapes there, so angle brackets become lookalikes.
    title = view.title.replace("<", "‹").replace(">", "›")
    blocks: list[Block] = [HeaderBlock(text=shorten(title, 150))]
    blocks += _sections(_headline(view))
    blocks.append(_context(e(f"{view.scope_label} · {view.period_label}")))
    if view.participation:
        blocks.append(DividerBlock())
        lines = ["*Who took part* — counts per agency, never per person"]
        lines += [
            f"• {e(p.agency)}: {p.learnings} learnings from {p.people} people"
            for p in view.participation
        ]
        blocks += _sections("\n".join(lines))
    if view.themes:
        blocks.append(DividerBlock())
        lines = ["*Themes across agencies* (chart below)"]
        for line in view.themes:
            agencies = ", ".join(f"{e(name)} {n}" for name, n in line.by_agency)
            by = f": {agencies}" if agencies else ""
            lines.append(f"• *{e(line.theme)}* — {line.total}{by}")
        blocks += _sections("\n".join(lines))
    if view.patterns:
        blocks.append(DividerBlock())
        blocks += _sections("*Shared patterns* — the same thing said in more than one agency")
        for pattern in view.patterns:
            blocks += _sections(_pattern(pattern))
    if view.quotes:
        blocks.append(DividerBlock())
        blocks += _sections("*In their words*")
        for quote in view.quotes:
            blocks += _sections(_quote(quote))
    if not view.barriers.empty:
        blocks.append(DividerBlock())
        blocks += _sections(_barriers(view))
    # Issue 9: purpose answers, inquiries running and the findings of those that closed.
    blocks += purpose_digest_blocks(view.purpose)
    blocks += inquiry_digest_blocks(view.inquiries, view.inquiry_summaries)
    blocks.append(
        _context(
            "Counts are per agency, never per person; counts under "
            f"{view.suppress_below} show as “fewer than {view.suppress_below}”. "
            "Anonymous learnings are never attributed."
        )
    )
    return blocks


def _agencies(n: Count) -> str:
    return n.of("agency", "agencies")


def _headline(view: DigestView) -> str:
    if view.learnings_count == 0:
        lines = ["No learnings were shared in this period."]
    else:
        agencies = _agencies(view.agencies_contributing)
        lines = [f"*{view.learnings} learnings* this week from *{agencies}*."]
    if view.rising:
        lines.append("Rising: " + ", ".join(_trend(t) for t in view.rising) + ".")
    if view.falling:
        lines.append("Falling: " + ", ".join(_trend(t) for t in view.falling) + ".")
    return "\n".join(lines)


def _trend(trend: ThemeTrend) -> str:
    return f"*{e(trend.theme)}* ({trend.count}, 4-week average {trend.baseline})"


def _quote_lines(quote: Quote) -> str:
    quoted = "\n".join(f">{e(line)}" for line in quote.text.splitlines() or [""])
    byline = f"— {e(quote.byline)}"
    if quote.themes:
        byline += " · " + ", ".join(e(t) for t in quote.themes)
    return f"{quoted}\n_{byline}_"


def _pattern(pattern: Pattern) -> str:
    what = "Barrier" if pattern.kind == "barrier" else "Learning"
    agencies = e(pattern.agencies_text())
    head = f"*{what} seen in {agencies}* ({pattern.size_text})"
    about = [f"_{e(pattern.about)}_"] if pattern.about else []
    return "\n".join([head, *about, *(_quote_lines(q) for q in pattern.quotes)])


def _quote(quote: Quote) -> str:
    return _quote_lines(quote)


def _barrier_lines(title: str, lines: Iterable[BarrierLine]) -> list[str]:
    out = [f"_{title}_"]
    for line in lines:
        where = e(line.level)
        if line.agencies:
            where += "; " + ", ".join(e(a) for a in line.agencies)
        text = f"• *{e(line.title)}* ({where})"
        if line.note:
            text += f" — {e(line.note)}"
        out.append(text)
    return out


def _barriers(view: DigestView) -> str:
    b = view.barriers
    lines = ["*Barriers*"]
    if b.new:
        lines += _barrier_lines("New", b.new)
    if b.moved_up:
        lines += _barrier_lines("Moved up the ladder", b.moved_up)
    if b.stale:
        lines += _barrier_lines("Stale — no update for 14 days", b.stale)
    if b.resolved:
        lines += _barrier_lines("Resolved — you said, we did", b.resolved)
    return "\n".join(lines)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text[:SECTION_CHARS])])


def _sections(text: str) -> list[Block]:
    """One section per 3,000 characters, split between lines (or words, for a giant line)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > SECTION_CHARS:
            cut = line.rfind(" ", 0, SECTION_CHARS)
            cut = cut if cut > SECTION_CHARS // 2 else SECTION_CHARS
            # Never end a piece in the middle of an escape such as "&amp;".
            amp = line.rfind("&", max(0, cut - 5), cut)
            if amp != -1 and ";" not in line[amp:cut]:
                cut = amp
            head, line = line[:cut], line[cut:].lstrip(" ")
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
    return [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in pieces if piece]


def _size(block: Block) -> int:
    return len(str(block.to_dict()))


def _chunk(blocks: list[Block]) -> list[list[Block]]:
    """Split blocks into messages of at most 50 blocks (49 in the first, which says "continued")."""
    if len(blocks) <= MAX_BLOCKS and sum(_size(b) for b in blocks) <= MESSAGE_CHARS:
        return [blocks]
    chunks: list[list[Block]] = [[]]
    size = 0
    for block in blocks:
        limit = MAX_BLOCKS - 1 if len(chunks) == 1 else MAX_BLOCKS
        block_size = _size(block)
        if chunks[-1] and (len(chunks[-1]) >= limit or size + block_size > MESSAGE_CHARS):
            chunks.append([])
            size = 0
        chunks[-1].append(block)
        size += block_size
    return chunks

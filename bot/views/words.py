"""Words: a sentence as LearnLoop wrote it, before any platform spells it.

A sentence is a tuple of spans. Plain strings are text, and a renderer escapes them, so a
person's own words can never turn into markup. Emphasis, literals, links, mentions and commands
are spans of their own, and each platform spells them its way: Slack writes `Strong` as
`*bold*` and `Cmd(Command.BARRIERS, "mine")` as `/barriers mine`, Teams writes `**bold**` and
the command a person types to the bot (`barriers mine`). No renderer ever rewrites a sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Command(StrEnum):
    """A command a person can give LearnLoop, named the same on every platform."""

    CHECKIN = "checkin"
    ESCALATE = "escalate"
    BARRIERS = "barriers"
    PAUSE = "pause"
    RESUME = "resume"
    PRIVACY = "privacy"
    HELP = "help"
    INQUIRY = "inquiry"
    PURPOSE = "purpose"
    FIND = "find"
    DIGEST = "digest"
    ADMIN = "admin"  # admin add|remove|list: people in agencies, from chat


@dataclass(frozen=True)
class Cmd:
    """A command with what follows it, for example `Cmd(Command.PAUSE, "2w")`."""

    command: Command
    args: str = ""

    def neutral(self) -> str:
        """The command as a person would say it, with no platform's prefix."""
        return f"{self.command.value} {self.args}".strip()


@dataclass(frozen=True)
class Strong:
    """Words to stand out (a button's name, a heading inside a sentence)."""

    text: str


@dataclass(frozen=True)
class Emph:
    """Words set in italics (a quotation, a gentle aside)."""

    text: str


@dataclass(frozen=True)
class Literal:
    """Text shown exactly as it is, in a fixed-width face (an id, a date to type)."""

    text: str


@dataclass(frozen=True)
class Link:
    """A link with its label."""

    url: str
    label: str


@dataclass(frozen=True)
class Mention:
    """A person, named the way their platform names people; `fallback` when it cannot."""

    user_id: str
    fallback: str = "a colleague"


@dataclass(frozen=True)
class Channel:
    """A conversation by id, linked where its platform can; `fallback` where it can't."""

    address: str
    fallback: str = "that channel"


Span = str | Cmd | Strong | Emph | Literal | Link | Mention | Channel


@dataclass(frozen=True)
class Words:
    """One or more sentences, as spans."""

    parts: tuple[Span, ...] = ()

    def __add__(self, other: Words | Span) -> Words:
        return words(self, other)

    def __bool__(self) -> bool:
        return any(part for part in self.parts)

    def plain(self) -> str:
        """The words with no markup, commands in their neutral form (logs, search, tests)."""
        return PLAIN.spell(self)


class Speller:
    """How one output spells each kind of span; `spell` walks a sentence once for all of them.

    The defaults are plain text with commands in their neutral form. Each renderer overrides
    what its format marks up (Slack's mrkdwn, Teams' markdown, HTML) and how it names commands,
    people and channels; `text` is where it escapes a person's own words.
    """

    def text(self, value: str) -> str:
        """Plain words (escaped by formats with markup)."""
        return value

    def strong(self, value: str) -> str:
        """Words that stand out."""
        return self.text(value)

    def emph(self, value: str) -> str:
        """Words in italics."""
        return self.text(value)

    def literal(self, value: str) -> str:
        """Text shown exactly as it is."""
        return self.text(value)

    def command(self, cmd: Cmd) -> str:
        """A command, as a person would give it here."""
        return self.text(cmd.neutral())

    def link(self, url: str, label: str) -> str:
        """A link with its label."""
        return self.text(label)

    def mention(self, span: Mention) -> str:
        """A person."""
        return self.text(span.fallback)

    def channel(self, span: Channel) -> str:
        """A conversation."""
        return self.text(span.fallback)

    def spell(self, said: Words | str) -> str:
        """A sentence in this speller's format."""
        if isinstance(said, str):
            return self.text(said)
        out: list[str] = []
        for part in said.parts:
            if isinstance(part, str):
                out.append(self.text(part))
            elif isinstance(part, Strong):
                out.append(self.strong(part.text))
            elif isinstance(part, Emph):
                out.append(self.emph(part.text))
            elif isinstance(part, Literal):
                out.append(self.literal(part.text))
            elif isinstance(part, Cmd):
                out.append(self.command(part))
            elif isinstance(part, Link):
                out.append(self.link(part.url, part.label))
            elif isinstance(part, Mention):
                out.append(self.mention(part))
            else:
                out.append(self.channel(part))
        return "".join(out)


PLAIN = Speller()


def words(*parts: Words | Span | None) -> Words:
    """Words from spans and other words, in order; None and empty strings are left out."""
    flat: list[Span] = []
    for part in parts:
        if part is None or part == "":
            continue
        if isinstance(part, Words):
            flat.extend(part.parts)
        else:
            flat.append(part)
    return Words(tuple(flat))


def joined(items: Iterable[Words | Span], separator: str = ", ") -> Words:
    """Several pieces with a separator between them."""
    out: list[Words | Span] = []
    for index, item in enumerate(items):
        if index:
            out.append(separator)
        out.append(item)
    return words(*out)


def and_list(names: Iterable[str], limit: int | None = None, noun: str = "more") -> str:
    """ "a, b and c"; past `limit` names, "a, b … and 7 more" (the noun names what is counted)."""
    items = list(names)
    if limit is not None and len(items) > limit:
        shown, rest = items[:limit], len(items) - limit
        return f"{', '.join(shown)} and {rest} {noun}"
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"

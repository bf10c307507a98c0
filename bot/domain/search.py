"""The learning library's search request: what a person typed, read safely.

`find WORDS [--theme T] [--agency A]` is read here into a `Search`: the words as plain terms
and phrases (with `-word` to leave out and `or` between alternatives, as web search boxes
have it), and the theme and agency it names. Nothing a person types reaches a database's
full-text syntax as it is: every word is cut down to letters and digits and quoted again by
`fts5_match` (SQLite) or `websearch_text` (PostgreSQL's `websearch_to_tsquery`), so quotes,
`*`, `NEAR`, `-` or a stray parenthesis can only ever be words, never an error.

Flags take the rest of the text up to the next flag, and the longest run of words that names a
configured theme or agency is the flag's value; any words after it are search words, so
`--theme Hospital discharge friday` filters on "Hospital discharge" and looks for "friday".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.domain.errors import LearnLoopError
from bot.views.words import Cmd, Command, Literal, Strong, Words, words

# A search box, not an essay: bounded so that a pasted page cannot make a costly query.
MAX_QUERY_CHARS = 300
MAX_TERMS = 12
MAX_WORD_CHARS = 40
FLAGS = ("theme", "agency")

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_FLAG = re.compile(r"(?<!\S)--([A-Za-z_][\w-]*)(?:=(\S*))?")


@dataclass(frozen=True)
class Phrase:
    """Words that must appear together, in order (one word is a phrase of one)."""

    words: tuple[str, ...]


@dataclass(frozen=True)
class Terms:
    """What to look for: every group must match (any phrase of it); no excluded one may."""

    groups: tuple[tuple[Phrase, ...], ...] = ()
    excluded: tuple[Phrase, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.groups)

    @property
    def words(self) -> tuple[str, ...]:
        """Every word looked for (not the excluded ones), for picking an excerpt."""
        return tuple(w for group in self.groups for phrase in group for w in phrase.words)


@dataclass(frozen=True)
class Search:
    """A search as LearnLoop reads it: the terms, and the theme and agency (ids) it names."""

    text: str
    terms: Terms
    theme: str | None = None
    agency_id: str | None = None


@dataclass(frozen=True)
class Named:
    """Something a flag can name: its id and the names a person may type for it."""

    id: str
    names: tuple[str, ...]


def usage() -> Words:
    """How the command is written."""
    return words(Cmd(Command.FIND, "WORDS [--theme THEME] [--agency AGENCY]"))


class BadSearch(LearnLoopError):
    """A search LearnLoop cannot run as typed; the message says what to type instead."""

    code = "bad_search"


def _problem(said: Words) -> BadSearch:
    return BadSearch(said)


def _clean(word: str) -> str:
    return word.lower()[:MAX_WORD_CHARS]


def _phrase(text: str) -> Phrase | None:
    found = tuple(_clean(w) for w in _WORD.findall(text))
    return Phrase(found) if found else None


def parse_terms(text: str) -> Terms:
    """The words of a search: `"a phrase"`, `-leave out`, `this or that`; the rest are words."""
    groups: list[list[Phrase]] = []
    excluded: list[Phrase] = []
    join_next = False
    for match in _TOKEN.finditer(text):
        negated, quoted, bare = match.group(1), match.group(2), match.group(3)
        if quoted is None and bare is not None:
            if bare.lower() == "or" and groups:
                join_next = True
                continue
            negated = "-" if bare.startswith("-") else ""
            quoted = bare.lstrip("-")
        phrase = _phrase(quoted or "")
        if phrase is None:
            continue
        if negated:
            excluded.append(phrase)
        elif join_next and groups:
            groups[-1].append(phrase)
        else:
            groups.append([phrase])
        join_next = False
    count = sum(len(g) for g in groups) + len(excluded)
    if count > MAX_TERMS:
        raise _problem(
            words(f"That's a lot of words to look for: please use {MAX_TERMS} or fewer.")
        )
    return Terms(tuple(tuple(g) for g in groups), tuple(excluded))


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _longest_name(value: str, options: Sequence[Named]) -> tuple[Named, str] | None:
    """The option whose name is the longest run of words `value` opens with, and the rest."""
    tokens = value.split()
    for size in range(len(tokens), 0, -1):
        head = _norm(" ".join(tokens[:size])).strip("\"'")
        for option in options:
            if head in (_norm(n) for n in option.names):
                return option, " ".join(tokens[size:])
    return None


def _unknown(flag: str, value: str, options: Sequence[Named]) -> BadSearch:
    noun, nouns = ("theme", "themes") if flag == "theme" else ("agency", "agencies")
    choices = ", ".join(o.names[0] for o in options)
    if not options:
        return _problem(words(f"This alliance has no {nouns} to search by."))
    return _problem(
        words(
            f"I don't know the {noun} ",
            Literal(value),
            f". The {nouns} you can search by are: {choices}.",
        )
    )


def parse_search(text: str, themes: Sequence[Named], agencies: Sequence[Named]) -> Search:
    """Read `WORDS [--theme T] [--agency A]`; a mistake raises BadSearch saying what to do."""
    text = text.replace("\x00", " ").strip()
    if not text:
        raise _problem(
            words(
                "Tell me what to look for, for example ",
                Cmd(Command.FIND, "discharge pharmacy --theme Housing"),
                ". The command is ",
                usage(),
                ".",
            )
        )
    if len(text) > MAX_QUERY_CHARS:
        raise _problem(
            words(f"That search is too long: please keep it under {MAX_QUERY_CHARS} characters.")
        )
    free: list[str] = []
    chosen: dict[str, Named] = {}
    flags = list(_FLAG.finditer(text))
    free.append(text[: flags[0].start()] if flags else text)
    for index, flag in enumerate(flags):
        name = flag.group(1).lower()
        end = flags[index + 1].start() if index + 1 < len(flags) else len(text)
        value = ((flag.group(2) or "") + " " + text[flag.end() : end]).strip()
        if name not in FLAGS:
            raise _problem(
                words(
                    "I don't know ",
                    Literal(f"--{flag.group(1)}"),
                    ". You can add ",
                    Strong("--theme"),
                    " or ",
                    Strong("--agency"),
                    ": ",
                    usage(),
                    ".",
                )
            )
        if name in chosen:
            raise _problem(words(f"Please give --{name} only once."))
        if not value:
            raise _problem(
                words(f"Say which {name} after --{name}, for example ", _example(name), ".")
            )
        options = themes if name == "theme" else agencies
        found = _longest_name(value, options)
        if found is None:
            raise _unknown(name, value, options)
        chosen[name], rest = found
        free.append(rest)
    terms = parse_terms(" ".join(free))
    if not terms and not chosen:
        raise _problem(
            words(
                "Tell me at least one word to look for (a word after a minus sign is left out): ",
                usage(),
                ".",
            )
        )
    theme, agency = chosen.get("theme"), chosen.get("agency")
    return Search(
        text=text,
        terms=terms,
        theme=theme.id if theme else None,
        agency_id=agency.id if agency else None,
    )


def _example(flag: str) -> Cmd:
    if flag == "theme":
        return Cmd(Command.FIND, "eviction --theme Housing")
    return Cmd(Command.FIND, "eviction --agency housing")


# --------------------------------------------------------------- database spellings


def _fts5_phrase(phrase: Phrase) -> str:
    # Every word is letters and digits only, and quoted: FTS5 reads it as a string, never as
    # an operator (NEAR, AND, NOT, *, ^, column filters).
    return (
        " ".join(f'"{w}"' for w in phrase.words)
        if len(phrase.words) == 1
        else ('"' + " ".join(phrase.words) + '"')
    )


def fts5_match(terms: Terms) -> str:
    """The terms as an SQLite FTS5 MATCH expression (requires at least one group)."""
    if not terms:
        raise ValueError("an FTS5 query needs at least one term to look for")
    groups = []
    for group in terms.groups:
        spelled = [_fts5_phrase(p) for p in group]
        groups.append(spelled[0] if len(spelled) == 1 else "(" + " OR ".join(spelled) + ")")
    expression = " AND ".join(groups)
    for phrase in terms.excluded:
        expression = f"({expression}) NOT {_fts5_phrase(phrase)}"
    return expression


def websearch_text(terms: Terms) -> str:
    """The terms as text for PostgreSQL's `websearch_to_tsquery` (which never raises)."""
    out: list[str] = []
    for group in terms.groups:
        out.append(" or ".join(_web_phrase(p) for p in group))
    out.extend("-" + _web_phrase(p) for p in terms.excluded)
    return " ".join(out)


def _web_phrase(phrase: Phrase) -> str:
    return phrase.words[0] if len(phrase.words) == 1 else '"' + " ".join(phrase.words) + '"'


# ---------------------------------------------------------------------- excerpts


def excerpt(texts: Iterable[str], looked_for: Sequence[str], limit: int = 160) -> str:
    """A short excerpt: from the first answer that mentions a word looked for, around it."""
    answers = [" ".join(t.split()) for t in texts if t and t.strip()]
    if not answers:
        return ""
    stems = [w[: max(4, len(w) - 2)] for w in looked_for if w]
    chosen, at = answers[0], 0
    for answer in answers:
        lower = answer.lower()
        hits = [m.start() for s in stems if (m := re.search(rf"\b{re.escape(s)}", lower))]
        if hits:
            chosen, at = answer, min(hits)
            break
    if len(chosen) <= limit:
        return chosen
    start = max(0, min(at - limit // 3, len(chosen) - limit))
    if start:
        # Start on a word.
        space = chosen.find(" ", start)
        start = space + 1 if 0 <= space < at else start
    cut = chosen[start : start + limit - 2].rstrip()
    return ("…" if start else "") + cut + ("…" if start + limit - 2 < len(chosen) else "")

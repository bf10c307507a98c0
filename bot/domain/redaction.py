"""Redaction of service-user identifiers from practitioner text before it is stored.

UK GDPR data minimisation: LearnLoop keeps what practitioners learned, not who they
worked with, so identifiers are replaced with neutral placeholders before anything is
persisted. This is pure domain code: stdlib ``re`` and ``phonenumbers`` only.

Decisions worth knowing:

* Kinds are applied in a fixed order (e-mail, date of birth, NHS number, National
  Insurance number, postcode, phone). Earlier kinds are replaced by placeholders that
  contain no digits, so a later rule can never count the same characters twice: an
  NHS number is never also a phone number, and an e-mail's digits are never a phone.
* NI numbers: the A-D suffix is required in general (``AB123456C``, ``ab 12 34 56 c``).
  It may be left off only when the prefix is upper case and either the digits are
  written in the HMRC pairs style (``AB 12 34 56``) or an NI cue ("NI", "NINO",
  "National Insurance", optionally "number"/"no." and ":") leads straight into it. A
  bare ``AB123456`` elsewhere looks too much like a case or housing reference.
* Postcodes: full postcodes only, never an outward code alone ("BA1"). A lower-case
  ordinal inward code ("B1 2nd floor") is read as prose, not as "B1 2ND".
* Dates of birth: a date is removed only when it follows "DOB", "D.O.B.", "date of
  birth", "born" or "born on" with at most four words in between and no sentence
  break. Only the date is replaced; the cue word stays so the sentence still reads.
* Text is first made storable (``bot.domain.text.storable``): a lone surrogate or a NUL
  character becomes U+FFFD, so nothing stored can break an export, a report or PostgreSQL.
* Phone numbers: libphonenumber's matcher only finds numbers in assigned ranges, so a
  shape rule adds UK numbers written with a trunk ``0`` or ``+44``/``0044`` and the
  right number of digits. Both only accept numbers written with a leading ``0``,
  ``+`` or ``(``, which is how people write phone numbers and which keeps counts,
  years, money and bare reference numbers out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import phonenumbers

from bot.domain.text import storable

__all__ = ["IdentifierKind", "Redacted", "is_valid_nhs_number", "redact"]


class IdentifierKind(StrEnum):
    """A kind of service-user identifier that is removed before storage."""

    NHS_NUMBER = "nhs_number"
    NI_NUMBER = "ni_number"
    POSTCODE = "postcode"
    PHONE = "phone"
    EMAIL = "email"
    DATE_OF_BIRTH = "date_of_birth"

    @property
    def placeholder(self) -> str:
        """Return the text that replaces an identifier of this kind."""
        return _LABELS[self][0]

    @property
    def singular(self) -> str:
        """Return the human name for one identifier of this kind."""
        return _LABELS[self][1]

    @property
    def plural(self) -> str:
        """Return the human name for several identifiers of this kind."""
        return _LABELS[self][2]

    def describe(self, count: int) -> str:
        """Return e.g. '1 NHS number' or '2 postcodes'."""
        return f"{count} {self.singular if count == 1 else self.plural}"


_LABELS: dict[IdentifierKind, tuple[str, str, str]] = {
    IdentifierKind.NHS_NUMBER: ("[NHS number]", "NHS number", "NHS numbers"),
    IdentifierKind.NI_NUMBER: (
        "[NI number]",
        "National Insurance number",
        "National Insurance numbers",
    ),
    IdentifierKind.POSTCODE: ("[postcode]", "postcode", "postcodes"),
    IdentifierKind.PHONE: ("[phone number]", "phone number", "phone numbers"),
    IdentifierKind.EMAIL: ("[email]", "e-mail address", "e-mail addresses"),
    IdentifierKind.DATE_OF_BIRTH: ("[date of birth]", "date of birth", "dates of birth"),
}


@dataclass(frozen=True)
class Redacted:
    """The redacted text and how many identifiers of each kind were removed."""

    text: str
    # Excluded from the hash because mappings are unhashable; equality still compares it.
    counts: Mapping[IdentifierKind, int] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    @property
    def total(self) -> int:
        """Return the number of identifiers removed, across all kinds."""
        return sum(self.counts.values())

    def summary(self) -> str:
        """Return a sentence telling the practitioner what was removed, or ''."""
        found = [(kind, n) for kind, n in self.counts.items() if n > 0]
        if not found:
            return ""
        # Most frequent first, then alphabetical by name, so the wording never depends on
        # the order in which rules happened to fire.
        found.sort(key=lambda item: (-item[1], item[0].singular.casefold()))
        parts = [kind.describe(n) for kind, n in found]
        listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
        return f"We removed {listed} before saving."


# Each finder returns sorted, non-overlapping (start, end) spans of one kind. Patterns
# start with a digit or a literal where possible: CPython's re skips quickly to such a
# first character, while a pattern that opens with a look-behind or a case-insensitive
# letter is tried at every position, which was most of the cost on a 3,000-char answer.

Span = tuple[int, int]

# --- e-mail -------------------------------------------------------------------------

# Anchored on each "@": scanning every word for a possible local part costs more than
# walking back from the few "@" signs there are.
_EMAIL_DOMAIN = re.compile(
    r"@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,}"
    r"(?![\w\-])"
)
_EMAIL_LOCAL_PUNCTUATION = frozenset("._+-")
_EMAIL_LOCAL_MAX = 64  # RFC 5321 limit; also bounds the walk back.


def _find_emails(text: str) -> list[Span]:
    spans: list[Span] = []
    at = text.find("@")
    while at != -1:
        start = at
        while (
            start > 0
            and at - start < _EMAIL_LOCAL_MAX
            and (text[start - 1].isalnum() or text[start - 1] in _EMAIL_LOCAL_PUNCTUATION)
        ):
            start -= 1
        # The local part starts with a letter, digit or underscore, not ".", "+" or "-",
        # so "(.jo@x.org" leaves the punctuation in place.
        while start < at and text[start] in ".+-":
            start += 1
        domain = _EMAIL_DOMAIN.match(text, at)
        if start < at and domain is not None and (not spans or start >= spans[-1][1]):
            spans.append((start, domain.end()))
            at = text.find("@", domain.end())
        else:
            at = text.find("@", at + 1)
    return spans


# --- dates of birth -----------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:\d{4}|'?\d{2})(?!\d)"
_DATE = (
    r"(?<!\d)(?:"
    r"\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?!\d)"  # 12/03/1987, 12.03.87
    r"|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}(?!\d)"  # 1987-03-12
    rf"|\d{{1,2}}{_ORDINAL}(?:\s+of)?\s+{_MONTH},?\s+{_YEAR}"  # 3 March 1987, 3rd of Mar 87
    rf"|{_MONTH}\s+\d{{1,2}}{_ORDINAL},?\s+{_YEAR}"  # March 3rd 1987, March 3, 1987
    r")"
)
_DOB_CUE = r"\b(?:d\.\s?o\.\s?b\b\.?|dob\b|date\s+of\s+birth\b|born\b(?:\s+on\b)?)"
# Up to four words may sit between cue and date ("born in Leeds on ..."), but never a
# digit or a sentence break, so a date in the next sentence is not mistaken for a DOB.
# Words are matched possessively and need a separator between them, so a failed match
# cannot retry every way of splitting the words.
_DOB_GAP = r"(?:[^\w.;!?\n]+[^\W\d_]++){0,4}?[^\w.;!?\n]*"
_DOB = re.compile(rf"{_DOB_CUE}{_DOB_GAP}({_DATE})", re.IGNORECASE)
# A case-sensitive first letter lets re jump straight to likely cues; the full pattern
# (with its word boundary) is then tried only there.
_DOB_CUE_START = re.compile(r"[Dd](?=[Oo][Bb]|\.|ate)|[Bb](?=orn)")


def _find_dates_of_birth(text: str) -> list[Span]:
    spans: list[Span] = []
    for cue in _DOB_CUE_START.finditer(text):
        if spans and cue.start() < spans[-1][1]:
            continue
        m = _DOB.match(text, cue.start())
        if m is not None:
            # Only the date is replaced; the cue stays so the sentence still reads.
            spans.append(m.span(1))
    return spans


# --- NHS numbers --------------------------------------------------------------------

# A 3-3-4 grouping (space or hyphen) or ten unbroken digits, not inside a longer run of
# digits. The look-behinds stop the national part of "+44 117 496 0123" or
# "+44 (0)117 496 0123" being read as an NHS number.
_NHS = re.compile(
    r"\d(?<!\d\d)(?<!\+44 \d)(?<!\+44-\d)(?<!0044 \d)(?<!0044-\d)"
    r"(?<!\(0\)\d)(?<!\(0\) \d)(?<!\(0\)-\d)"
    r"\d\d[ \-]?\d{3}[ \-]?\d{4}(?!\d)"
)
_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def is_valid_nhs_number(digits: str) -> bool:
    """Return True if ``digits`` is ten digits with a valid Modulus 11 check digit."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], _NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    # A check value of 10 means the number can never have been issued.
    return check != 10 and check == int(digits[9])


def _find_nhs_numbers(text: str) -> list[Span]:
    spans = []
    for m in _NHS.finditer(text):
        if is_valid_nhs_number(m.group().replace(" ", "").replace("-", "")):
            spans.append(m.span())
    return spans


# --- National Insurance numbers -----------------------------------------------------

# Anchor on the six digits (cheap to find), then check for the letters around them.
_NI_DIGITS = re.compile(r"\d(?<!\d\d)\d ?\d\d ?\d\d(?!\d)")
_NI = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?!BG|GB|NK|KN|TN|NT|ZZ)"
    r"([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])"
    r"( ?)\d{2}( ?)\d{2}( ?)\d{2}"
    r"(?:( ?)([A-D]))?"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# The cue must lead straight into the number ("NI number: AB123456"), so one cue does
# not license every reference number later in the sentence.
_NI_CUE = re.compile(
    r"\b(?:NI|NINO|national\s+insurance)(?:\s+(?:number|no\.?|num))?\s*(?:is\s+)?[:#\-]?\s*$",
    re.IGNORECASE,
)
_NI_CUE_WINDOW = 40


def _find_ni_numbers(text: str) -> list[Span]:
    spans = []
    for anchor in _NI_DIGITS.finditer(text):
        for start in (anchor.start() - 3, anchor.start() - 2):
            m = _NI.match(text, start) if start >= 0 else None
            if m is not None:
                span = _accept_ni(text, m)
                if span is not None:
                    spans.append(span)
                break
    return spans


def _accept_ni(text: str, m: re.Match[str]) -> Span | None:
    """Return the span to redact for an NI-shaped match, or None if it is not one."""
    prefix, suffix_space, suffix = m.group(1), m.group(5), m.group(6)
    end = m.end()
    if suffix and suffix_space and suffix.islower() and prefix.isupper():
        # "AB 12 34 56 a new claim": the lone lower-case letter is the article.
        suffix, end = None, end - 2
    if not suffix:
        spaced = m.group(2) == m.group(3) == m.group(4) == " "
        window = text[max(0, m.start() - _NI_CUE_WINDOW) : m.start()]
        if not prefix.isupper() or not (spaced or _NI_CUE.search(window)):
            return None
    return m.start(), end


# --- postcodes ----------------------------------------------------------------------

# Anchor on the inward code ("9AA"), then look back for the outward code. The inward
# letters exclude C, I, K, M, O and V, which is also what keeps "10am"/"3pm" out.
_INWARD = re.compile(r"\d[ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2}(?![A-Za-z0-9])")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"GIR[ \u00a0]?0AA"
    r"|[A-PR-UWYZ](?:\d[A-HJKPSTUW]|\d{1,2}|[A-HK-Y]\d[ABEHMNPRVWXY]|[A-HK-Y]\d{1,2})"
    r"[ \u00a0]?\d[ABD-HJLNP-UW-Z]{2}"
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# "B1 2nd floor" has a postcode's shape; a lower-case ordinal inward code is prose.
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
_LONGEST_OUTWARD_WITH_SPACE = 5


def _find_postcodes(text: str) -> list[Span]:
    spans: list[Span] = []
    for inward in _INWARD.finditer(text):
        if inward.group()[1:] in _ORDINAL_SUFFIXES:
            continue
        # Try the longest outward code first so "SW1A 1AA" is not read as "W1A 1AA".
        for start in range(inward.start() - _LONGEST_OUTWARD_WITH_SPACE, inward.start() - 1):
            if start < 0 or (spans and start < spans[-1][1]):
                continue
            m = _POSTCODE.match(text, start)
            if m is not None and m.end() == inward.end():
                spans.append(m.span())
                break
    return spans


# --- phone numbers ------------------------------------------------------------------

# One optional separator before a digit: space/hyphen (typed twice by mistake, too) or
# a closing bracket after an area code, as in "(0117) 496 0123".
_SEP = r"(?:[ \-]{1,2}|\)[ \-]?)?"
_UK_PHONE = re.compile(
    # +44 / 0044, optional "(0)", then a ten-digit national number starting 1, 2, 3 or 7.
    rf"(?:\+ ?44|0044)[ \-]?(?:\(0\)[ \-]?)?[1237]\d(?:{_SEP}\d){{8}}(?!\d)"
    # National: "0" + ten digits, the first three unbroken (no UK code is shorter), so
    # dates like 01-02-2026 and counts never qualify.
    rf"|\(?0[1237]\d(?:{_SEP}\d){{8}}(?!\d)"
)
# A number glued to a word, a decimal point or a slash is not a phone number.
_PHONE_NOT_AFTER = frozenset("+/.,")
# A stretch that could hold a phone number. libphonenumber only sees these stretches:
# scanning a whole 3,000-character answer with it costs several milliseconds.
_PHONE_CANDIDATE = re.compile(r"[+(\d][\d \t().+\-]{6,}\d")
_MIN_PHONE_DIGITS = 9


def _find_phone_numbers(text: str) -> list[Span]:
    shaped: list[Span] = []
    for m in _UK_PHONE.finditer(text):
        before = text[m.start() - 1] if m.start() else " "
        if before.isalnum() or before == "_" or before in _PHONE_NOT_AFTER:
            continue
        shaped.append(_trim_bracket(text, *m.span()))
    spans = list(shaped)
    for cand in _PHONE_CANDIDATE.finditer(text):
        # Skip stretches the shape rule already covered: libphonenumber is the slow part.
        if _uncovered_digits(text, cand.span(), shaped) < _MIN_PHONE_DIGITS:
            continue
        chunk = cand.group()
        for pm in phonenumbers.PhoneNumberMatcher(chunk, "GB"):
            # Without a written 0 or + the digits are more likely a reference or an
            # invalid NHS number than a phone number someone would dial.
            if pm.raw_string.lstrip("(")[:1] not in ("0", "+"):
                continue
            spans.append(_trim_bracket(text, cand.start() + pm.start, cand.start() + pm.end))
    return _merge(spans)


def _uncovered_digits(text: str, span: Span, covered: list[Span]) -> int:
    """Count digits in ``span`` that lie outside every span in ``covered``."""
    start, end = span
    count = sum(c.isdigit() for c in text[start:end])
    for c_start, c_end in covered:
        lo, hi = max(start, c_start), min(end, c_end)
        if lo < hi:
            count -= sum(c.isdigit() for c in text[lo:hi])
    return count


def _trim_bracket(text: str, start: int, end: int) -> Span:
    """Leave an opening bracket in the text unless the number itself closes it."""
    if text[start] == "(" and ")" not in text[start:end]:
        start += 1
    return start, end


def _merge(spans: list[Span]) -> list[Span]:
    """Sort spans and join overlapping ones, so one number is counted once."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# --- the pipeline -------------------------------------------------------------------

# Order matters: e-mail before anything numeric (addresses hold digits), DOB before NHS
# and phone (dates are digits), NHS before phone (a valid NHS number is never a phone).
# Placeholders hold no digits or "@", so a later finder never sees an earlier identifier.
_PIPELINE: tuple[tuple[IdentifierKind, Callable[[str], list[Span]]], ...] = (
    (IdentifierKind.EMAIL, _find_emails),
    (IdentifierKind.DATE_OF_BIRTH, _find_dates_of_birth),
    (IdentifierKind.NHS_NUMBER, _find_nhs_numbers),
    (IdentifierKind.NI_NUMBER, _find_ni_numbers),
    (IdentifierKind.POSTCODE, _find_postcodes),
    (IdentifierKind.PHONE, _find_phone_numbers),
)


def _replace(text: str, spans: list[Span], placeholder: str) -> str:
    """Replace each span with ``placeholder``, keeping everything between them."""
    parts: list[str] = []
    pos = 0
    for start, end in spans:
        parts.append(text[pos:start])
        parts.append(placeholder)
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def redact(text: str) -> Redacted:
    """Replace service-user identifiers in ``text`` with placeholders and count them."""
    # Every piece of text a person writes passes here before it is stored, so this is the one
    # place it is also made valid UTF-8 (no lone surrogates, no NUL) for every later reader.
    text = storable(text)
    counts: dict[IdentifierKind, int] = {}
    for kind, find in _PIPELINE:
        spans = find(text)
        if spans:
            text = _replace(text, spans, kind.placeholder)
            counts[kind] = len(spans)
    return Redacted(text=text, counts=MappingProxyType(counts))

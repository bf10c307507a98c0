"""Check-ins: what a practitioner shares, and the rules it must meet before it is stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.errors import ValidationFailed
from bot.domain.redaction import IdentifierKind, Redacted, redact

# Slack's plain_text_input allows up to 3,000 characters; the same cap applies to DM replies so
# that a learning always fits one digest section.
MAX_ANSWER_CHARS = 3000
MAX_THEMES = 5


class Visibility(StrEnum):
    """Who may read a check-in besides its author (the author's choice, per entry)."""

    TEAM = "team"
    ALLIANCE = "alliance"
    ANONYMOUS = "anonymous"

    @property
    def label(self) -> str:
        """How the choice reads to the author."""
        return {
            Visibility.TEAM: "Just my team",
            Visibility.ALLIANCE: "The alliance, with my name",
            Visibility.ANONYMOUS: "The alliance, anonymously",
        }[self]


class Source(StrEnum):
    """How a check-in arrived."""

    MODAL = "modal"
    DM_REPLY = "dm_reply"
    TEAMS_CARD = "teams_card"
    DEMO = "demo"
    WEB_FORM = "web_form"  # a contributor link's form (issue 15)


class PromptStatus(StrEnum):
    """Delivery ledger states: pending → sent → answered | nothing | skipped | expired | failed."""

    PENDING = "pending"
    SENT = "sent"
    ANSWERED = "answered"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    FAILED = "failed"
    # "Nothing this week" — took part, with nothing to report; no check-in, no text.
    NOTHING = "nothing"


# The ledger states that count as taking part in a cycle (participation counts).
TAKING_PART = frozenset({PromptStatus.ANSWERED, PromptStatus.NOTHING})


@dataclass(frozen=True)
class QuestionSpec:
    """The part of a configured question the domain needs to validate an answer."""

    id: str
    label: str
    required: bool = False
    choices: Sequence[str] = ()
    multiple: bool = False


@dataclass(frozen=True)
class CheckinDraft:
    """A check-in that passed validation and redaction, ready to store."""

    answers: dict[str, str | list[str]]
    themes: list[str]
    visibility: Visibility
    redactions: Mapping[IdentifierKind, int] = field(default_factory=dict)

    @property
    def redaction_count(self) -> int:
        """How many identifiers were removed in all."""
        return sum(self.redactions.values())

    @property
    def redaction_summary(self) -> str:
        """What to tell the author about what was removed ("" when nothing was)."""
        return Redacted(text="", counts=self.redactions).summary()


def prepare_checkin(
    questions: Sequence[QuestionSpec],
    answers: Mapping[str, str | Sequence[str] | None],
    themes: Sequence[str],
    visibility: Visibility | str,
    known_themes: Sequence[str],
) -> CheckinDraft:
    """Validate raw answers and redact identifiers; raise ValidationFailed naming each field."""
    errors: dict[str, str] = {}
    clean: dict[str, str | list[str]] = {}
    counts: dict[IdentifierKind, int] = {}
    for question in questions:
        raw = answers.get(question.id)
        if question.choices:
            picked = [raw] if isinstance(raw, str) else list(raw or [])
            picked = [p for p in picked if p]
            unknown = [p for p in picked if p not in question.choices]
            if unknown:
                errors[question.id] = f"Choose from the list ({unknown[0]!r} is not an option)."
            elif question.required and not picked:
                errors[question.id] = "Please choose an answer."
            elif picked:
                clean[question.id] = picked if question.multiple else picked[0]
            continue
        text = (raw if isinstance(raw, str) else "").strip()
        if question.required and not text:
            errors[question.id] = "Please write a sentence or two — this one is needed."
            continue
        if len(text) > MAX_ANSWER_CHARS:
            errors[question.id] = (
                f"Please shorten this to {MAX_ANSWER_CHARS:,} characters "
                f"(it is {len(text):,}); you can add more in another check-in."
            )
            continue
        if text:
            result = redact(text)
            clean[question.id] = result.text
            for kind, n in result.counts.items():
                counts[kind] = counts.get(kind, 0) + n
    known = {t.lower(): t for t in known_themes}
    chosen: list[str] = []
    for theme in themes:
        canonical = known.get(theme.strip().lower())
        if canonical is None:
            errors["themes"] = f"{theme!r} is not one of the alliance's themes."
        elif canonical not in chosen:
            chosen.append(canonical)
    if len(chosen) > MAX_THEMES:
        errors["themes"] = f"Pick up to {MAX_THEMES} themes."
    try:
        vis = Visibility(visibility)
    except ValueError:
        errors["visibility"] = "Choose who can see this."
        vis = Visibility.TEAM
    if errors:
        raise ValidationFailed(errors)
    return CheckinDraft(answers=clean, themes=chosen, visibility=vis, redactions=counts)

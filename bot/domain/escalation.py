"""Escalations (barriers): their states and the moves allowed between them, as one table.

A barrier is something frontline staff cannot remove themselves. It is raised at a rung of the
alliance's escalation ladder, owned there, moved up when that level cannot remove it either, and
finally resolved (with what was done) or closed (with why not). Everything a steward can do to a
barrier is an `Action`; `TRANSITIONS` says, for each status, which actions are allowed and the
status each one leads to. Nothing else in the code decides that.

Escalating up hands the barrier to a new level that has not looked at it yet, so it goes back to
*open* there and loses its owner: the new level acknowledges and owns it in its own right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import LearnLoopError, ValidationFailed
from bot.domain.redaction import IdentifierKind, Redacted, redact
from bot.views.words import Cmd, Command, Literal, Strong, Words, words

# A barrier with no change for this long is stale: raised weekly in its level's channel and
# counted as such in the digest.
STALE_AFTER = dt.timedelta(days=14)

MAX_TITLE_CHARS = 150
MAX_DESCRIPTION_CHARS = 3000
MAX_AFFECTED_CHARS = 1000
MAX_NOTE_CHARS = 3000


class EscalationStatus(StrEnum):
    """Where a barrier is: open → acknowledged → in progress → resolved | closed."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """How the status reads to people."""
        return {
            EscalationStatus.OPEN: "Open",
            EscalationStatus.ACKNOWLEDGED: "Acknowledged",
            EscalationStatus.IN_PROGRESS: "In progress",
            EscalationStatus.RESOLVED: "Resolved",
            EscalationStatus.CLOSED: "Closed",
        }[self]

    @property
    def terminal(self) -> bool:
        """Whether nothing more can happen to a barrier in this status."""
        return not TRANSITIONS[self]


class Action(StrEnum):
    """What a steward can do to a barrier (each is one recorded transition)."""

    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    CLOSE = "close"

    @property
    def event_kind(self) -> str:
        """The name the change is recorded under (events, audit, notifications)."""
        return {
            Action.ACKNOWLEDGE: "acknowledged",
            Action.ASSIGN: "assigned",
            Action.ESCALATE: "escalated",
            Action.RESOLVE: "resolved",
            Action.CLOSE: "closed",
        }[self]

    @property
    def doing(self) -> str:
        """Completes "Only system stewards can …" and "… can't …"."""
        return {
            Action.ACKNOWLEDGE: "acknowledge a barrier",
            Action.ASSIGN: "assign a barrier",
            Action.ESCALATE: "escalate a barrier",
            Action.RESOLVE: "resolve a barrier",
            Action.CLOSE: "close a barrier",
        }[self]


_S = EscalationStatus
_A = Action

# THE state machine: for each status, the actions allowed and where each one leads.
TRANSITIONS: Mapping[EscalationStatus, Mapping[Action, EscalationStatus]] = MappingProxyType(
    {
        _S.OPEN: MappingProxyType(
            {
                _A.ACKNOWLEDGE: _S.ACKNOWLEDGED,
                _A.ASSIGN: _S.IN_PROGRESS,
                _A.ESCALATE: _S.OPEN,
                _A.RESOLVE: _S.RESOLVED,
                _A.CLOSE: _S.CLOSED,
            }
        ),
        _S.ACKNOWLEDGED: MappingProxyType(
            {
                _A.ASSIGN: _S.IN_PROGRESS,
                _A.ESCALATE: _S.OPEN,
                _A.RESOLVE: _S.RESOLVED,
                _A.CLOSE: _S.CLOSED,
            }
        ),
        _S.IN_PROGRESS: MappingProxyType(
            {
                # Re-assigning hands the work to someone else; it stays in progress.
                _A.ASSIGN: _S.IN_PROGRESS,
                _A.ESCALATE: _S.OPEN,
                _A.RESOLVE: _S.RESOLVED,
                _A.CLOSE: _S.CLOSED,
            }
        ),
        _S.RESOLVED: MappingProxyType({}),
        _S.CLOSED: MappingProxyType({}),
    }
)

# Actions that need words from the steward, and what to ask for when they are missing.
NOTE_REQUIRED: Mapping[Action, tuple[str, str]] = MappingProxyType(
    {
        _A.RESOLVE: ("outcome", "Say what was done, so the people who raised it hear the outcome."),
        _A.CLOSE: ("reason", "Say why it is being closed, so the people who raised it know."),
    }
)


class InvalidTransition(LearnLoopError):
    """The action is not allowed from the barrier's current status or level."""

    code = "invalid_transition"


class StaleBarrier(LearnLoopError):
    """Someone changed the barrier after this person last saw it; nothing was changed."""

    code = "stale_barrier"

    def __init__(self, status: EscalationStatus) -> None:
        super().__init__(
            words(
                "Someone else changed this barrier just now — it is now ",
                Strong(status.label.lower()),
                ". Nothing was changed; the card shows where it is, so please look again "
                "before acting.",
            )
        )
        self.status = status


class NoLadder(LearnLoopError):
    """The alliance has no escalation ladder, so a barrier has nowhere to go."""

    code = "no_ladder"

    def __init__(self) -> None:
        super().__init__(
            words(
                "This alliance has no escalation ladder yet, so there is nowhere to raise a "
                "barrier. Please ask your LearnLoop admin to add ",
                Literal("escalation_ladder:"),
                " to the configuration.",
            )
        )


def can_move(current: EscalationStatus, target: EscalationStatus) -> bool:
    """Whether some action moves a barrier from `current` to `target`."""
    return target in TRANSITIONS[current].values()


def allowed_actions(status: EscalationStatus, has_next_level: bool) -> list[Action]:
    """The actions a steward may take now, in the order the card shows them."""
    allowed = TRANSITIONS[status]
    return [a for a in Action if a in allowed and (a is not Action.ESCALATE or has_next_level)]


def next_level(ladder: Sequence[str], level: str) -> str | None:
    """The rung above `level` on the ladder (lowest first), or None at the top or off it."""
    if level not in ladder:
        return None
    index = ladder.index(level)
    return ladder[index + 1] if index + 1 < len(ladder) else None


@dataclass(frozen=True)
class Move:
    """One planned transition: what happens to status, level and owner."""

    action: Action
    from_status: EscalationStatus
    to_status: EscalationStatus
    from_level: str
    to_level: str
    note: str | None = None
    clears_owner: bool = False
    redactions: Mapping[IdentifierKind, int] = field(default_factory=dict)


def plan_move(
    status: EscalationStatus | str,
    level: str,
    action: Action,
    ladder: Sequence[str],
    note: str | None = None,
) -> Move:
    """Check an action against the table and the ladder; the Move to record, or an error.

    Raises InvalidTransition saying why (already resolved, top of the ladder…) and
    ValidationFailed when a required outcome or reason is missing or too long.
    """
    current = EscalationStatus(status)
    target = TRANSITIONS[current].get(action)
    if target is None:
        raise InvalidTransition(_refusal(current, action))
    to_level = level
    if action is Action.ESCALATE:
        up = next_level(ladder, level)
        if up is None:
            raise InvalidTransition(
                words(
                    "This barrier is already at the top of the escalation ladder, so it can't go "
                    "higher. Resolve it with what was done, or close it saying why."
                )
                if level in ladder
                else words(
                    f"This barrier's level {level!r} is no longer on the escalation ladder, so "
                    "it can't be moved up. Ask your LearnLoop admin to check ",
                    Literal("escalation_ladder:"),
                    ".",
                )
            )
        to_level = up
    text, counts = _clean_note(action, note)
    return Move(
        action=action,
        from_status=current,
        to_status=target,
        from_level=level,
        to_level=to_level,
        note=text,
        clears_owner=action is Action.ESCALATE,
        redactions=counts,
    )


def check_version(seen: int | None, current: int, status: EscalationStatus | str) -> None:
    """Refuse an action taken on an out-of-date view of the barrier (StaleBarrier)."""
    if seen is not None and seen != current:
        raise StaleBarrier(EscalationStatus(status))


def is_stale(status: EscalationStatus | str, updated_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether a barrier still needs action and has not changed for STALE_AFTER."""
    return not EscalationStatus(status).terminal and now - updated_at >= STALE_AFTER


def _refusal(current: EscalationStatus, action: Action) -> Words:
    label = current.label.lower()
    if current.terminal:
        return words(
            f"This barrier is already {label}, so it can't be {action.event_kind} any more. "
            "If the problem has come back, please raise it again with ",
            Cmd(Command.ESCALATE),
            ".",
        )
    if action is Action.ACKNOWLEDGE:
        return words(f"This barrier is already {label}, so there's nothing left to acknowledge.")
    return words(f"A barrier that is {label} can't be {action.event_kind}.")


def _clean_note(
    action: Action, note: str | None
) -> tuple[str | None, Mapping[IdentifierKind, int]]:
    text = (note or "").strip()
    required = NOTE_REQUIRED.get(action)
    field_id = required[0] if required else "note"
    if required and not text:
        raise ValidationFailed({field_id: required[1]})
    if len(text) > MAX_NOTE_CHARS:
        too_long = f"Please shorten this to {MAX_NOTE_CHARS:,} characters (it is {len(text):,})."
        raise ValidationFailed({field_id: too_long})
    if not text:
        return None, {}
    result = redact(text)
    return result.text, result.counts


# ------------------------------------------------------------------------------- raising


@dataclass(frozen=True)
class BarrierDraft:
    """A barrier that passed validation and redaction, ready to store."""

    title: str
    description: str
    who_is_affected: str | None
    agencies: list[str]
    level: str
    anonymous: bool
    checkin_ids: list[int]
    redactions: Mapping[IdentifierKind, int] = field(default_factory=dict)

    @property
    def redaction_summary(self) -> str:
        """What to tell the raiser about what was removed ("" when nothing was)."""
        return Redacted(text="", counts=self.redactions).summary()


def prepare_barrier(
    title: str | None,
    description: str | None,
    who_is_affected: str | None,
    agencies: Sequence[str],
    level: str | None,
    anonymous: bool,
    checkin_ids: Sequence[int],
    known_agencies: Sequence[str],
    ladder: Sequence[str],
    own_checkins: Sequence[int],
) -> BarrierDraft:
    """Validate and redact what a raiser typed; raise ValidationFailed naming each field."""
    errors: dict[str, str] = {}
    counts: dict[IdentifierKind, int] = {}

    def text_field(name: str, raw: str | None, limit: int, required: str | None) -> str | None:
        text = " ".join((raw or "").split()) if name == "title" else (raw or "").strip()
        if not text:
            if required:
                errors[name] = required
            return None
        if len(text) > limit:
            errors[name] = f"Please shorten this to {limit:,} characters (it is {len(text):,})."
            return None
        result = redact(text)
        for kind, n in result.counts.items():
            counts[kind] = counts.get(kind, 0) + n
        return result.text

    clean_title = text_field(
        "title", title, MAX_TITLE_CHARS, "Give it a short title stewards will recognise."
    )
    clean_description = text_field(
        "description",
        description,
        MAX_DESCRIPTION_CHARS,
        "Say what gets in the way — a sentence or two is enough.",
    )
    clean_affected = text_field("who_is_affected", who_is_affected, MAX_AFFECTED_CHARS, None)
    chosen: list[str] = []
    for agency in agencies:
        if agency not in known_agencies:
            errors["agencies"] = f"{agency!r} is not an agency of this alliance."
        elif agency not in chosen:
            chosen.append(agency)
    if not ladder:
        raise NoLadder()
    start = level or ladder[0]
    if start not in ladder:
        errors["level"] = "Choose a level from the list."
    links = list(dict.fromkeys(checkin_ids))
    if any(c not in own_checkins for c in links):
        errors["checkins"] = "You can only link your own recent check-ins."
    if errors:
        raise ValidationFailed(errors)
    assert clean_title is not None and clean_description is not None
    return BarrierDraft(
        title=clean_title,
        description=clean_description,
        who_is_affected=clean_affected,
        agencies=chosen,
        level=start,
        anonymous=anonymous,
        checkin_ids=links,
        redactions=counts,
    )


def suggested_title(text: str, limit: int = 80) -> str:
    """A title to pre-fill from barrier text: its first sentence, cut at a word boundary."""
    first = " ".join(text.split())
    for stop in (". ", "? ", "! ", "\n"):
        if stop in first:
            first = first.split(stop, 1)[0]
    first = first.rstrip(".!?")
    if len(first) <= limit:
        return first
    cut = first[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"

"""The barrier state machine: every transition allowed and refused, notes, staleness, raising."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import ValidationFailed
from bot.domain.escalation import (
    STALE_AFTER,
    TRANSITIONS,
    Action,
    BarrierDraft,
    EscalationStatus,
    InvalidTransition,
    NoLadder,
    StaleBarrier,
    allowed_actions,
    can_move,
    check_version,
    is_stale,
    next_level,
    plan_move,
    prepare_barrier,
    suggested_title,
)
from bot.slack import render as slack
from bot.teams import render as teams

S = EscalationStatus
LADDER = ["agency", "alliance", "board"]

# The whole table written out by hand, so a change to it has to change this test too.
EXPECTED: dict[tuple[S, Action], S | None] = {
    (S.OPEN, Action.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.OPEN, Action.ASSIGN): S.IN_PROGRESS,
    (S.OPEN, Action.ESCALATE): S.OPEN,
    (S.OPEN, Action.RESOLVE): S.RESOLVED,
    (S.OPEN, Action.CLOSE): S.CLOSED,
    (S.ACKNOWLEDGED, Action.ACKNOWLEDGE): None,
    (S.ACKNOWLEDGED, Action.ASSIGN): S.IN_PROGRESS,
    (S.ACKNOWLEDGED, Action.ESCALATE): S.OPEN,
    (S.ACKNOWLEDGED, Action.RESOLVE): S.RESOLVED,
    (S.ACKNOWLEDGED, Action.CLOSE): S.CLOSED,
    (S.IN_PROGRESS, Action.ACKNOWLEDGE): None,
    (S.IN_PROGRESS, Action.ASSIGN): S.IN_PROGRESS,
    (S.IN_PROGRESS, Action.ESCALATE): S.OPEN,
    (S.IN_PROGRESS, Action.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, Action.CLOSE): S.CLOSED,
    **{(S.RESOLVED, a): None for a in Action},
    **{(S.CLOSED, a): None for a in Action},
}
NOTES = {Action.RESOLVE: "We changed the rule", Action.CLOSE: "Outside our power"}


def test_expected_table_covers_every_pair() -> None:
    assert set(EXPECTED) == set(itertools.product(S, Action))


@pytest.mark.parametrize(("status", "action"), sorted(EXPECTED, key=str))
def test_every_transition(status: S, action: Action) -> None:
    target = EXPECTED[(status, action)]
    if target is None:
        with pytest.raises(InvalidTransition) as refused:
            plan_move(status, "agency", action, LADDER, NOTES.get(action))
        assert status.label.lower() in refused.value.message
        assert action not in allowed_actions(status, has_next_level=True)
        return
    move = plan_move(status, "agency", action, LADDER, NOTES.get(action))
    assert (move.from_status, move.to_status, move.action) == (status, target, action)
    assert action in allowed_actions(status, has_next_level=True)
    assert can_move(status, target)


def test_terminal_states_allow_nothing_and_say_how_to_reopen() -> None:
    for status in (S.RESOLVED, S.CLOSED):
        assert status.terminal and allowed_actions(status, True) == []
        with pytest.raises(InvalidTransition) as refused:
            plan_move(status, "agency", Action.RESOLVE, LADDER, "again")
        # The command is a Cmd span, spelled by each platform (`/escalate` on Slack).
        said = refused.value.words
        assert said is not None and "raise it again with `/escalate`" in slack.mrkdwn(said)
        assert "raise it again with **escalate**" in teams.markdown(said)
    assert not any(s.terminal for s in (S.OPEN, S.ACKNOWLEDGED, S.IN_PROGRESS))


def test_escalating_moves_one_rung_reopens_and_clears_the_owner() -> None:
    move = plan_move(S.IN_PROGRESS, "agency", Action.ESCALATE, LADDER)
    assert (move.from_level, move.to_level, move.to_status) == ("agency", "alliance", S.OPEN)
    assert move.clears_owner
    assert not plan_move(S.OPEN, "agency", Action.ASSIGN, LADDER).clears_owner


def test_escalating_is_refused_at_the_top_and_off_the_ladder() -> None:
    with pytest.raises(InvalidTransition, match="top of the escalation ladder"):
        plan_move(S.OPEN, "board", Action.ESCALATE, LADDER)
    with pytest.raises(InvalidTransition, match="no longer on the escalation ladder"):
        plan_move(S.OPEN, "gone", Action.ESCALATE, LADDER)
    assert Action.ESCALATE not in allowed_actions(S.OPEN, has_next_level=False)
    assert next_level(LADDER, "agency") == "alliance"
    assert next_level(LADDER, "board") is None and next_level(LADDER, "gone") is None


@pytest.mark.parametrize(
    ("action", "field"), [(Action.RESOLVE, "outcome"), (Action.CLOSE, "reason")]
)
def test_resolving_and_closing_need_words(action: Action, field: str) -> None:
    for empty in (None, "", "   "):
        with pytest.raises(ValidationFailed) as missing:
            plan_move(S.OPEN, "agency", action, LADDER, empty)
        assert set(missing.value.errors) == {field}
    with pytest.raises(ValidationFailed, match="3,000 characters"):
        plan_move(S.OPEN, "agency", action, LADDER, "x" * 3001)


def test_notes_are_redacted() -> None:
    move = plan_move(S.OPEN, "agency", Action.RESOLVE, LADDER, "Rang 07700 900123, sorted.")
    assert move.note == "Rang [phone number], sorted."
    assert sum(move.redactions.values()) == 1
    assert plan_move(S.OPEN, "agency", Action.ACKNOWLEDGE, LADDER, "").note is None


def test_stale_versions_are_refused() -> None:
    check_version(None, 3, S.OPEN)  # no version seen (e.g. the CLI): nothing to compare
    check_version(3, 3, S.OPEN)
    with pytest.raises(StaleBarrier, match="resolved"):
        check_version(2, 3, S.RESOLVED)


def test_staleness_is_two_weeks_without_change_while_open() -> None:
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert is_stale(S.ACKNOWLEDGED, now - STALE_AFTER, now)
    assert not is_stale(S.ACKNOWLEDGED, now - STALE_AFTER + dt.timedelta(seconds=1), now)
    assert not is_stale(S.RESOLVED, now - dt.timedelta(days=90), now)


@given(st.lists(st.sampled_from(list(Action)), max_size=12))
def test_any_sequence_of_actions_follows_the_table(actions: list[Action]) -> None:
    status, level = S.OPEN, "agency"
    for action in actions:
        allowed = action in allowed_actions(status, next_level(LADDER, level) is not None)
        try:
            move = plan_move(status, level, action, LADDER, NOTES.get(action))
        except InvalidTransition:
            assert not allowed
            continue
        assert allowed
        assert move.to_status is TRANSITIONS[status][action]
        assert LADDER.index(move.to_level) - LADDER.index(level) in (0, 1)
        status, level = move.to_status, move.to_level
    if status.terminal:
        assert all(a not in allowed_actions(status, True) for a in Action)


# --------------------------------------------------------------------------- raising


def _prepare(**changes: object) -> BarrierDraft:
    args: dict[str, object] = {
        "title": "Housing can't assess without a discharge date",
        "description": "Wards wait for housing; housing waits for a date.",
        "who_is_affected": "People leaving hospital with no address",
        "agencies": ["housing"],
        "level": None,
        "anonymous": False,
        "checkin_ids": [],
        "known_agencies": ["housing", "hospital"],
        "ladder": LADDER,
        "own_checkins": [],
    }
    args.update(changes)
    return prepare_barrier(**args)  # type: ignore[arg-type]


def test_a_barrier_starts_at_the_lowest_rung_and_is_redacted() -> None:
    draft = _prepare(
        description="Mrs X (NHS 943 476 5919) waited 9 days.", agencies=["housing"] * 2
    )
    assert draft.level == "agency"
    assert draft.description == "Mrs X (NHS [NHS number]) waited 9 days."
    assert draft.agencies == ["housing"]
    assert "1 NHS number" in draft.redaction_summary


def test_raising_names_every_problem() -> None:
    with pytest.raises(ValidationFailed) as bad:
        _prepare(
            title=" ",
            description="",
            agencies=["police"],
            level="moon",
            checkin_ids=[7],
            own_checkins=[8],
        )
    assert set(bad.value.errors) == {"title", "description", "agencies", "level", "checkins"}
    with pytest.raises(ValidationFailed, match="150 characters"):
        _prepare(title="x" * 151)
    with pytest.raises(NoLadder):
        _prepare(ladder=[])


def test_suggested_title() -> None:
    assert suggested_title("Letters read like threats. People stop opening them.") == (
        "Letters read like threats"
    )
    long = suggested_title("word " * 40)
    assert len(long) <= 80 and long.endswith("…")

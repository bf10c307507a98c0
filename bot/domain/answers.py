"""Reading a stored check-in through the questions it was answered with.

Each check-in keeps a snapshot of its questions (id, label, kind, barrier…). Everything that
shows a check-in — exports, digests, inquiry summaries — reads it through these functions, so
changing or removing a question set later never breaks, hides or relabels an old entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

INQUIRY = "inquiry"
PURPOSE = "purpose"
EXTRA_IDS = frozenset({INQUIRY, PURPOSE})
TEXT_KINDS = frozenset({"short_text", "long_text"})
# Snapshots written before the barrier flag was stored name the default set's barrier question.
LEGACY_BARRIER_ID = "got_in_the_way"

Snapshot = Sequence[Mapping[str, Any]]


def answer_text(value: Any) -> str:
    """An answer as text: choices joined with commas, nothing as ""."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value if v)
    return str(value)


def labelled_answers(questions: Snapshot, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, answer) in the order asked; answers the snapshot doesn't know keep their id."""
    seen: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for question in questions:
        qid = str(question.get("id", ""))
        seen.add(qid)
        text = answer_text(answers.get(qid))
        if text:
            pairs.append((str(question.get("label") or qid), text))
    for qid, value in answers.items():
        if qid not in seen and answer_text(value):
            pairs.append((qid, answer_text(value)))
    return pairs


def barrier_id(questions: Snapshot) -> str | None:
    """The id of the question that was the barrier question when this check-in was made."""
    for question in questions:
        if question.get("barrier"):
            return str(question["id"])
    if any("barrier" in q for q in questions):
        return None
    ids = {q.get("id") for q in questions}
    return LEGACY_BARRIER_ID if LEGACY_BARRIER_ID in ids else None


def learning_text(questions: Snapshot, answers: Mapping[str, Any]) -> str:
    """The main learning: the set's first required text answer, else its first text answer.

    The barrier question and the questions LearnLoop adds (inquiry, purpose) are never it.
    """
    barrier = barrier_id(questions)
    texts = [
        q
        for q in questions
        if q.get("kind", "long_text") in TEXT_KINDS
        and str(q.get("id", "")) not in EXTRA_IDS
        and str(q.get("id", "")) != barrier
    ]
    ordered = [q for q in texts if q.get("required")] + [q for q in texts if not q.get("required")]
    for question in ordered:
        text = answer_text(answers.get(str(question.get("id", "")))).strip()
        if text:
            return text
    return ""


def barrier_text(questions: Snapshot, answers: Mapping[str, Any]) -> str:
    """The answer to the check-in's barrier question ("" when it had none or left it empty)."""
    qid = barrier_id(questions)
    return answer_text(answers.get(qid)).strip() if qid else ""


def extra_text(answers: Mapping[str, Any], which: str) -> str:
    """The answer to an inquiry's question (INQUIRY) or the purpose question (PURPOSE)."""
    return answer_text(answers.get(which)).strip()

"""Reading Adaptive Cards as a person would: buttons and inputs found by their visible labels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

JsonDict = dict[str, Any]


def _elements(items: list[JsonDict]) -> Iterator[JsonDict]:
    for item in items:
        yield item
        for key in ("items", "columns", "body"):
            yield from _elements(item.get(key) or [])


def card_text(card: JsonDict) -> str:
    """Every TextBlock's text and FactSet's facts, one per line (what the person reads)."""
    lines: list[str] = []
    for element in _elements(card.get("body", [])):
        if element["type"] == "TextBlock":
            lines.append(element["text"])
        elif element["type"] == "FactSet":
            lines += [f"{fact['title']}: {fact['value']}" for fact in element["facts"]]
    return "\n".join(lines)


def buttons(card: JsonDict) -> dict[str, JsonDict]:
    """The card's buttons by title (card actions and ActionSets in the body)."""
    found = {a["title"]: a for a in card.get("actions") or []}
    for element in _elements(card.get("body", [])):
        if element["type"] == "ActionSet":
            found.update({a["title"]: a for a in element["actions"]})
    return found


def button(card: JsonDict, title: str) -> JsonDict:
    """The button a person would press, by its visible title."""
    found = buttons(card)
    assert title in found, f"no button {title!r} in {json.dumps(card)[:600]}"
    return found[title]


def inputs(card: JsonDict) -> dict[str, JsonDict]:
    """The card's inputs by their visible label."""
    return {
        e["label"]: e for e in _elements(card.get("body", [])) if e["type"].startswith("Input.")
    }


def fill(card: JsonDict, answers: dict[str, Any], submit: str) -> JsonDict:
    """What Teams sends when the person fills inputs (by label) and presses `submit`.

    Choice inputs take the visible titles (a list for multi-select); Teams sends their values,
    comma-separated. Inputs not filled keep the value the card gave them.
    """
    by_label = inputs(card)
    data: JsonDict = {
        e["id"]: e["value"] for e in by_label.values() if e.get("value") not in (None, "")
    }
    for label, answer in answers.items():
        assert label in by_label, f"no input labelled {label!r}; have {list(by_label)}"
        element = by_label[label]
        if element["type"] == "Input.ChoiceSet":
            titles = [answer] if isinstance(answer, str) else list(answer)
            values = {c["title"]: c["value"] for c in element["choices"]}
            data[element["id"]] = ",".join(values[t] for t in titles)
        else:
            data[element["id"]] = answer
    action = button(card, submit)
    return {**data, **action.get("data", {})}

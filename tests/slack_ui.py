"""Finding what a person sees in Slack messages and modals, by visible label (shared by tests).

This module does not depend on pytest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from slack_requests import multi_static_select_value


def button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """The button a person would press, found by its visible label."""
    for block in blocks:
        elements = block.get("elements", []) + (
            [block["accessory"]] if "accessory" in block else []
        )
        for element in elements:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return element
    raise AssertionError(f"no button labelled {label!r} in {json.dumps(blocks)[:400]}")


def button_labels(blocks: list[dict[str, Any]]) -> list[str]:
    """The labels of every button in some blocks, in order."""
    labels = []
    for block in blocks:
        elements = block.get("elements", []) + (
            [block["accessory"]] if "accessory" in block else []
        )
        labels += [e["text"]["text"] for e in elements if e.get("type") == "button"]
    return labels


def input_blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Input blocks of a modal by their visible label."""
    return {b["label"]["text"]: b for b in view["blocks"] if b["type"] == "input"}


def fill(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """state.values for a modal, addressing inputs by their labels as a person would."""
    inputs = input_blocks(view)
    values: dict[str, dict[str, Any]] = {}
    for label, answer in answers.items():
        block = inputs[label]
        element = block["element"]
        action_id = element["action_id"]
        if element["type"] == "plain_text_input":
            entry: dict[str, Any] = {"type": "plain_text_input", "value": answer}
        elif element["type"] == "multi_static_select":
            entry = multi_static_select_value(answer)
            by_label = {o["text"]["text"]: o for o in element.get("options", [])}
            if answer and all(a in by_label for a in answer):
                entry["selected_options"] = [by_label[a] for a in answer]
        elif element["type"] == "radio_buttons":
            option = next(o for o in element["options"] if o["text"]["text"] == answer)
            entry = {"type": "radio_buttons", "selected_option": option}
        elif element["type"] == "static_select":
            option = next(o for o in element["options"] if o["text"]["text"] == answer)
            entry = {"type": "static_select", "selected_option": option}
        elif element["type"] == "checkboxes":
            chosen = [o for o in element["options"] if o["text"]["text"] in answer]
            assert len(chosen) == len(answer), f"no checkbox labelled one of {answer!r}"
            entry = {"type": "checkboxes", "selected_options": chosen}
        elif element["type"] == "users_select":
            entry = {"type": "users_select", "selected_user": answer}
        else:
            raise AssertionError(element["type"])
        values[block["block_id"]] = {action_id: entry}
    return values


def initial_state(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """state.values of a modal nobody has touched: what it was opened with, as Slack sends it."""
    values: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        entry: dict[str, Any] = {"type": kind}
        if kind == "plain_text_input":
            entry["value"] = element.get("initial_value")
        elif kind in ("static_select", "radio_buttons"):
            entry["selected_option"] = element.get("initial_option")
        elif kind in ("multi_static_select", "checkboxes"):
            entry["selected_options"] = element.get("initial_options") or []
        elif kind == "users_select":
            entry["selected_user"] = element.get("initial_user")
        values[block["block_id"]] = {element["action_id"]: entry}
    return values


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until `predicate()` holds (work after an ack runs on another thread)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def visible_text(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text a person would read in some blocks, one line per piece."""
    pieces: list[str] = []

    def text_of(obj: Any) -> None:
        if isinstance(obj, dict):
            if obj.get("type") in ("mrkdwn", "plain_text") and "text" in obj:
                pieces.append(str(obj["text"]))
                return
            for key in ("text", "fields", "elements", "accessory"):
                if key in obj:
                    text_of(obj[key])
        elif isinstance(obj, list):
            for item in obj:
                text_of(item)

    text_of(blocks)
    return "\n".join(pieces)

"""Every sentence a person reads is written once: no sentence in both platforms' code.

The words live in `bot/views/`; Slack's and Teams' code (their renderers, messengers and
handlers) only lay them out. This reads the string literals of both platforms' modules — not
docstrings, not log lines — and fails on any sentence written on both sides.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SLACK = ("bot/slack", "handlers/slack")
TEAMS = ("bot/teams", "handlers/teams")
LOGGING = {"debug", "info", "warning", "error", "exception", "critical", "log"}
WORD = re.compile(r"[A-Za-z][a-z']+")


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _log_args(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOGGING
        ):
            for arg in ast.walk(node):
                if isinstance(arg, ast.Constant):
                    ids.add(id(arg))
    return ids


def sentences(folders: tuple[str, ...], root: Path = ROOT) -> Iterator[tuple[str, str]]:
    """(normalised sentence, where) for every literal that reads as words to a person."""
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            skip = _docstrings(tree) | _log_args(tree)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                    continue
                if id(node) in skip:
                    continue
                text = re.sub(r"[*_`~]+", "", node.value).strip().lower()
                if len(WORD.findall(text)) >= 3 and " " in text:
                    yield text, f"{path.relative_to(root)}:{node.lineno}"


def test_no_sentence_is_written_in_both_platforms_code() -> None:
    slack = dict(sentences(SLACK))
    teams = dict(sentences(TEAMS))
    twice = sorted(set(slack) & set(teams))
    assert not twice, (
        "written on both platforms (move it into a view in bot/views/):\n"
        + "\n".join(f"{text!r}: {slack[text]} and {teams[text]}" for text in twice)
    )


def test_the_check_finds_a_sentence_written_on_both_sides(tmp_path: Path) -> None:
    (tmp_path / "slack").mkdir()
    (tmp_path / "teams").mkdir()
    (tmp_path / "slack" / "cards.py").write_text(
        '"""A docstring is not a sentence a person reads."""\n'
        'log.info("a log line is not one either, even long")\n'
        'THANKS = "Thank you, your *learning* is saved."\n'
        'ID = "barrier.acknowledge"\n'
    )
    (tmp_path / "teams" / "cards.py").write_text(
        'TEXT = "Thank you, your **learning** is saved."\nID = "barrier.acknowledge"\n'
    )
    slack = dict(sentences(("slack",), tmp_path))
    teams = dict(sentences(("teams",), tmp_path))
    assert list(slack) == ["thank you, your learning is saved."]
    assert set(slack) & set(teams) == {"thank you, your learning is saved."}

"""Making what people type storable: valid Unicode that every database and encoder accepts."""

from __future__ import annotations

from typing import Any

__all__ = ["REPLACEMENT", "storable", "storable_json"]

REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """The text as valid UTF-8: lone surrogates and NUL characters become U+FFFD.

    JSON may carry `\\ud800` (half of a surrogate pair) and `\\u0000`. Python decodes both
    into a str that cannot be encoded as UTF-8 (so exports, reports and posts fail later)
    and that PostgreSQL refuses to store. A correctly paired surrogate is kept as the one
    character it stands for.
    """
    if text.isascii():
        return text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Round trip through UTF-16: pairs join into their character, lone halves are replaced.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", REPLACEMENT)


def storable_json(value: Any) -> Any:
    """A decoded JSON document with every string in it (keys too) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_json(k): storable_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_json(v) for v in value]
    return value

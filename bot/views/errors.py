"""What a person is told when something they asked for could not be done.

A `LearnLoopError` carries its own words (see `bot/domain/errors.py`); anything else is a fault
on LearnLoop's side, and the person gets an apology with a reference the logs can be searched
for. Each platform's error boundary spells the result with its renderer.
"""

from __future__ import annotations

from bot.domain.errors import LearnLoopError
from bot.views.words import Cmd, Command, Literal, Words, words


def something_went_wrong(reference: str) -> Words:
    """The apology for a fault that was not the person's doing."""
    return words(
        "Sorry — something went wrong on LearnLoop's side, and it wasn't anything you did. "
        "Please try again; if it keeps happening, tell your admin the reference ",
        Literal(reference),
        ".",
    )


def out_of_date(instead: Cmd | None = None) -> Words:
    """A button or form that no longer leads anywhere, and what to type instead."""
    if instead is None:
        instead = Cmd(Command.HELP)
        return words("That button is out of date. Type ", instead, " to see what I can do.")
    return words("That button is out of date. Try ", instead, " instead.")


def error_said(error: Exception, reference: str) -> Words | str:
    """What to tell the person about `error`: its own words, or the apology (see module doc).

    A `str` is an older error message written with its markup already in it; it is shown as
    it is.
    """
    if isinstance(error, LearnLoopError):
        return error.words if error.words is not None else error.message
    return something_went_wrong(reference)

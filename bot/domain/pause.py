"""Parsing how long someone wants prompts paused: `2w`, `10d`, `until 2026-12-31`."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from bot.domain.errors import LearnLoopError
from bot.views.words import Cmd, Command, words

DEFAULT_PAUSE = dt.timedelta(weeks=4)
MAX_PAUSE = dt.timedelta(days=366)
USAGE = words(
    "Try ",
    Cmd(Command.PAUSE),
    " (4 weeks), ",
    Cmd(Command.PAUSE, "2w"),
    ", ",
    Cmd(Command.PAUSE, "10d"),
    " or ",
    Cmd(Command.PAUSE, "until 2026-12-31"),
    ".",
)
_DURATION = re.compile(r"^(\d{1,3})\s*(d|day|days|w|wk|week|weeks)$")


class BadPause(LearnLoopError):
    """The pause length could not be understood."""

    code = "bad_pause"


def pause_until(text: str, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """When a pause asked for as `text` ends (aware, UTC), or BadPause saying what to type."""
    text = text.strip().lower()
    if not text:
        return now + DEFAULT_PAUSE
    if text.startswith("until"):
        raw = text[5:].strip()
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise BadPause(words(f"I couldn't read the date {raw!r}. ", USAGE)) from None
        # Paused "until" a day means through the end of that day, in local time.
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        until = end.astimezone(dt.UTC)
    else:
        match = _DURATION.match(text)
        if not match:
            raise BadPause(words(f"I couldn't understand {text!r}. ", USAGE))
        amount, unit = int(match.group(1)), match.group(2)
        until = now + (
            dt.timedelta(weeks=amount) if unit.startswith("w") else dt.timedelta(days=amount)
        )
    if until <= now:
        raise BadPause(words("That date has already passed. ", USAGE))
    if until - now > MAX_PAUSE:
        raise BadPause(words("You can pause for up to a year at a time."))
    return until

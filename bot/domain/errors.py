"""Typed domain errors, each with a stable code and a message a person can act on.

An error that names a command (or puts a button's name in bold) carries its message as
`Words`, so each platform spells it its own way: `Cmd(Command.PRIVACY)` reads
`/learnloop privacy` in Slack and `privacy` in Teams, and no platform rewrites the text.
`str(error)` and `error.message` are always the neutral plain text, for logs.
"""

from __future__ import annotations

from bot.views.words import Cmd, Command, Strong, Words, words


class LearnLoopError(Exception):
    """Base of every error LearnLoop shows to a user.

    `message` may be `Words` (rendered by each platform) or a plain `str`. A `str` is shown
    as it was written, markup and all, which is how older messages still work; new ones are
    written as `Words`.
    """

    code = "error"

    def __init__(self, message: str | Words) -> None:
        said_plain = message.plain() if isinstance(message, Words) else message
        super().__init__(said_plain)
        self.message: str = said_plain
        self.said: Words | str = message

    @property
    def words(self) -> Words | None:
        """The message as `Words`, or None when it was written as a preformatted string."""
        return self.said if isinstance(self.said, Words) else None


class ValidationFailed(LearnLoopError):
    """Answers that cannot be stored as they are; `errors` maps field id to a message."""

    code = "validation_failed"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotAMember(LearnLoopError):
    """The person is not in any agency of the alliance configuration."""

    code = "not_a_member"

    def __init__(self) -> None:
        super().__init__(
            words(
                "You're not set up as a member of this learning alliance yet, so I can't save "
                "check-ins for you. Please ask your LearnLoop admin to add you to your agency."
            )
        )


class Forbidden(LearnLoopError):
    """The person's role does not allow the action."""

    code = "forbidden"


class NotFound(LearnLoopError):
    """The thing acted on no longer exists."""

    code = "not_found"


class StorageUnavailable(LearnLoopError):
    """The database could not be reached; nothing was saved."""

    code = "storage_unavailable"

    def __init__(self) -> None:
        super().__init__(
            words(
                "LearnLoop couldn't reach its database just now, so nothing was saved. "
                "Please try again in a minute."
            )
        )


class BadPeriod(LearnLoopError):
    """A digest week or report range that cannot be read."""

    code = "bad_period"


# Said wherever someone who deleted their data meets LearnLoop again.
START_AGAIN = words("type ", Cmd(Command.PRIVACY), " and press ", Strong("Start again"))


class DataDeleted(LearnLoopError):
    """The person deleted their data; nothing is stored for them until they opt back in."""

    code = "data_deleted"

    def __init__(self) -> None:
        super().__init__(
            words(
                "You deleted your LearnLoop data, so I haven't saved this and won't prompt "
                "you. If you'd like to take part again, ",
                START_AGAIN,
                ".",
            )
        )

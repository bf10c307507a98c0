"""Typed domain errors, each with a stable code and a message a person can act on."""

from __future__ import annotations


class LearnLoopError(Exception):
    """Base of every error LearnLoop shows to a user."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
            "You're not set up as a member of this learning alliance yet, so I can't save "
            "check-ins for you. Please ask your LearnLoop admin to add you to your agency."
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
            "LearnLoop couldn't reach its database just now, so nothing was saved. "
            "Please try again in a minute."
        )


class BadPeriod(LearnLoopError):
    """A digest week or report range that cannot be read (issue 4: digests)."""

    code = "bad_period"


class DataDeleted(LearnLoopError):
    """Issue 6: the person deleted their data; nothing is stored for them until they opt in."""

    code = "data_deleted"

    def __init__(self) -> None:
        super().__init__(
            "You deleted your LearnLoop data, so I haven't saved this and won't prompt you. "
            "If you'd like to take part again, type `/learnloop privacy` and press *Start again*."
        )

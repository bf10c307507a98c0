"""Roles and the permission check every role-gated action makes (server-side, always)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from bot.domain.errors import Forbidden
from bot.views.words import Literal, words


class Role(StrEnum):
    """What a person may do; everyone is a practitioner."""

    PRACTITIONER = "practitioner"
    MANAGER = "manager"
    STEWARD = "steward"
    ADMIN = "admin"


_WHO = {
    Role.PRACTITIONER: "alliance members",
    Role.MANAGER: "agency managers",
    Role.STEWARD: "system stewards",
    Role.ADMIN: "LearnLoop admins",
}


def require(held: Iterable[str], allowed: Iterable[Role], doing: str) -> None:
    """Raise Forbidden, saying who may and how to get access, unless a held role is allowed.

    `doing` completes the sentence "Only system stewards can …", e.g. "resolve a barrier".
    """
    allowed = list(allowed)
    if {str(r) for r in held} & {str(r) for r in allowed}:
        return
    who = " or ".join(_WHO[r] for r in allowed)
    raise Forbidden(
        words(
            f"Only {who} can {doing}. If you think you should be able to, ask your LearnLoop "
            "admin to add you to the ",
            Literal("roles:"),
            " section of the alliance configuration.",
        )
    )

"""The visibility policy: who reads what, under which name."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.domain.visibility import Audience, attribution, can_read, may_name_author, readable


@dataclass
class E:
    visibility: str
    agency_id: str
    member_id: int | None


TEAM = E("team", "housing", 1)
NAMED = E("alliance", "housing", 2)
ANON = E("anonymous", "hospital", 3)


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (Audience.alliance(), [NAMED, ANON]),
        (Audience.agency("housing"), [TEAM, NAMED]),
        (Audience.agency("hospital"), [ANON]),
        (Audience.author(1), [TEAM]),
        (Audience.author(3), [ANON]),
    ],
)
def test_readable(audience: Audience, expected: list[E]) -> None:
    assert readable(audience, [TEAM, NAMED, ANON]) == expected


def test_bylines() -> None:
    assert attribution(Audience.alliance(), NAMED, "Sam", "Housing") == "Sam, Housing"
    assert attribution(Audience.alliance(), ANON, "Jo", "Hospital") == "Anonymous"
    assert attribution(Audience.agency("hospital"), ANON, "Jo", "Hospital") == "Anonymous"
    assert attribution(Audience.agency("housing"), TEAM, "Ali", "Housing") == "Ali"
    assert attribution(Audience.author(3), ANON, "Jo", "Hospital") == "You"
    with pytest.raises(PermissionError):
        attribution(Audience.alliance(), TEAM, "Ali", "Housing")


def test_anonymous_authors_are_never_named_to_others() -> None:
    assert not may_name_author(Audience.alliance(), ANON)
    assert not may_name_author(Audience.agency("hospital"), ANON)
    assert may_name_author(Audience.author(3), ANON)
    assert not may_name_author(Audience.alliance(), TEAM)
    assert not can_read(Audience.author(2), TEAM)


def test_role_check_explains_refusal() -> None:
    from bot.domain.errors import Forbidden
    from bot.domain.roles import Role, require

    require({"practitioner", "steward"}, [Role.STEWARD], "resolve a barrier")
    with pytest.raises(Forbidden, match="Only system stewards or LearnLoop admins can resolve"):
        require({"practitioner"}, [Role.STEWARD, Role.ADMIN], "resolve a barrier")

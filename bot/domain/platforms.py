"""Which chat platform an id belongs to, told from the id alone.

One alliance spans Slack and Microsoft Teams, and services address people and channels by a
bare string. The two platforms' ids never look alike, so the shape decides:

- Slack ids are upper-case letters and digits (`U0ALICE`, `C0STEWARDS`, `D0123`);
- on Teams, a person is their Microsoft Entra object id (a GUID), a channel or chat is a
  conversation id with a colon in it (`19:…@thread.tacv2`, `a:1…`), and a 1:1 chat LearnLoop
  stored is addressed as `teams:<n>`.
"""

from __future__ import annotations

import re
from typing import Literal

Platform = Literal["slack", "teams"]

TEAMS_ADDRESS_PREFIX = "teams:"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_entra_object_id(value: str) -> bool:
    """Whether a string is shaped like a Microsoft Entra object id (a GUID)."""
    return bool(_GUID.match(value))


def platform_of(address: str) -> Platform:
    """The platform a user id, channel id or stored conversation address belongs to."""
    if address.startswith(TEAMS_ADDRESS_PREFIX) or ":" in address or is_entra_object_id(address):
        return "teams"
    return "slack"


def teams_address(row_id: int) -> str:
    """The address of a stored Teams conversation (short enough for any channel column)."""
    return f"{TEAMS_ADDRESS_PREFIX}{row_id}"


def parse_teams_address(address: str) -> int | None:
    """The stored conversation's row id in a `teams:<n>` address, else None."""
    if not address.startswith(TEAMS_ADDRESS_PREFIX):
        return None
    tail = address[len(TEAMS_ADDRESS_PREFIX) :]
    return int(tail) if tail.isdigit() else None

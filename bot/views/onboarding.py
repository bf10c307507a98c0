"""Onboarding's words: admins adding people to agencies from chat, addresses nobody has."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.views.message import Bullets, Heading, Message, Paragraph
from bot.views.words import Cmd, Command, Literal, Mention, Strong, Words, and_list, words

ADMIN_ADD = Cmd(Command.ADMIN, "add @person agency")
ADMIN_REMOVE = Cmd(Command.ADMIN, "remove @person")
ADMIN_LIST = Cmd(Command.ADMIN, "list")
ADMIN_DOING = "add or remove people in agencies"


def admin_usage(agency_ids: list[str]) -> Words:
    """How to write an admin command (after a mistake in one)."""
    return words(
        "Write ",
        ADMIN_ADD,
        " to add someone to an agency (they can check in straight away), ",
        ADMIN_REMOVE,
        " to take them out again, or ",
        ADMIN_LIST,
        " to see who was added. The agencies are: ",
        and_list(agency_ids),
        ".",
    )


def unknown_agency(agency_id: str, agency_ids: list[str]) -> Words:
    """An admin named an agency the alliance file doesn't have."""
    return words(
        "There is no agency ",
        Literal(agency_id),
        " in the alliance file. The agencies are: ",
        and_list(agency_ids),
        ".",
    )


def wrong_platform(agency_name: str, platform: str) -> Words:
    """The person is on one platform, the agency on the other."""
    return words(
        Strong(agency_name),
        f" is on {platform.title()}: add people there from {platform.title()} itself.",
    )


def added_message(user_id: str, agency_name: str, moved_from: str | None) -> Message:
    """An admin's confirmation that someone was added (or moved) to an agency."""
    said = words(
        Mention(user_id),
        " is now a member of ",
        Strong(agency_name),
        f" (moved from {moved_from})" if moved_from else "",
        ". They can check in straight away and are prompted with the agency from now on.",
    )
    return Message(summary=said, blocks=(Paragraph(said),))


def removed_message(user_id: str, agency_name: str) -> Message:
    """An admin's confirmation that a chat addition was taken back."""
    said = words(
        Mention(user_id),
        " is no longer in ",
        Strong(agency_name),
        " and won't be prompted for it. Their own entries stay theirs.",
    )
    return Message(summary=said, blocks=(Paragraph(said),))


def not_added(user_id: str) -> Words:
    """An admin tried to remove someone who was not added from chat."""
    return words(
        Mention(user_id),
        " was not added from chat, so there is nothing to remove here. People listed in the "
        "alliance file are changed in the file (then ",
        Literal("learnloop reload"),
        ").",
    )


@dataclass(frozen=True)
class AdditionLine:
    """One person added from chat, for `admin list`."""

    user_id: str
    agency_name: str
    added_by: str
    added_at: dt.date


def additions_message(lines: list[AdditionLine]) -> Message:
    """`admin list`: who admins added to which agency from chat (beside the file's members)."""
    if not lines:
        said = words(
            "No one has been added to an agency from chat. Add someone with ", ADMIN_ADD, "."
        )
        return Message(summary=said, blocks=(Paragraph(said),))
    heading = "People added to agencies from chat"
    items = tuple(
        words(
            Mention(line.user_id),
            " — ",
            Strong(line.agency_name),
            ", added by ",
            Mention(line.added_by),
            f" on {line.added_at.isoformat()}",
        )
        for line in lines
    )
    return Message(
        summary=words(heading),
        blocks=(
            Heading(heading),
            Bullets(items),
            Paragraph(words("Take someone out with ", ADMIN_REMOVE, ".")),
        ),
    )


@dataclass(frozen=True)
class UnknownEmailView:
    """An e-mail address in the alliance file that nobody on the platform has."""

    email: str
    agency_name: str
    platform: str
    field_path: str  # e.g. agencies.0.members.2


def unknown_email_message(view: UnknownEmailView) -> Message:
    """To admins: an address matched nobody; the agency's other members are still prompted."""
    said = words(
        f"LearnLoop could not find anyone on {view.platform.title()} with the address ",
        Literal(view.email),
        ", listed as a member of ",
        Strong(view.agency_name),
        " (",
        Literal(view.field_path),
        " in the alliance file).",
    )
    hint = words(
        "Check the spelling, or invite them first; the agency's other members are prompted as "
        "usual. LearnLoop looks the address up again every hour and tells you once."
    )
    return Message(summary=said, blocks=(Paragraph(said), Paragraph(hint)))

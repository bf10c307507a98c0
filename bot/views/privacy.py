"""A person's privacy panel: what LearnLoop holds about them, export, delete, start again.

`PrivacyView` is what the privacy service knows; `privacy_message` writes it as a `Message`
that every platform's renderer lays out. The few things that differ by platform are facts
about the platform (where the file goes, whose retention settings keep posted messages), so
the view says which platform it is for and the words below do the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.views.message import Actions, Bullets, Button, Message, Paragraph, Style
from bot.views.words import Cmd, Command, Literal, Strong, Words, words


class PrivacyStage(StrEnum):
    """Which step of the privacy panel is shown."""

    PANEL = "panel"  # what we hold, with Export and Delete (or Start again)
    CONFIRM_DELETE = "confirm_delete"  # says exactly what deleting removes
    DELETED = "deleted"  # done
    KEPT = "kept"  # the person changed their mind
    EXPORTED = "exported"  # the file is in their DM
    RESTARTED = "restarted"  # a new, empty profile after a deletion


class PrivacyAction(StrEnum):
    """Ids of the panel's buttons; every platform's handlers listen for these."""

    EXPORT = "privacy_export"
    DELETE = "privacy_delete"
    DELETE_CONFIRMED = "privacy_delete_confirmed"
    KEEP = "privacy_keep"
    START_AGAIN = "privacy_start_again"


@dataclass(frozen=True)
class PrivacyView:
    """What LearnLoop holds about one person, and the step they are at."""

    stage: PrivacyStage
    is_member: bool
    retention_months: int
    checkins: int = 0
    anonymous: int = 0
    prompts: int = 0
    barriers_raised: int = 0
    first_saved: dt.date | None = None
    deleted_on: dt.date | None = None
    filename: str | None = None
    # The platform the person is on: where their file goes and who keeps posted messages.
    platform: str = "slack"


@dataclass(frozen=True)
class _Platform:
    name: str
    chat: str  # where LearnLoop and the person talk one to one
    retention_owner: str  # whose retention settings keep messages already posted
    # Teams offers a file for the person to allow into their OneDrive; Slack DMs it.
    file_needs_consent: bool


_PLATFORMS = {
    "slack": _Platform(
        "Slack", "our direct messages", "your workspace's", file_needs_consent=False
    ),
    "teams": _Platform("Teams", "our chat", "your organisation's", file_needs_consent=True),
}

EXPORT = "Export my data"
DELETE = "Delete my data"
START_AGAIN = "Start again"
# Said after a deletion, or where someone who deleted their data meets LearnLoop again.
START_AGAIN_HINT = words(
    "Changed your mind? Type ", Cmd(Command.PRIVACY), " and press ", Strong(START_AGAIN), "."
)


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _date(day: dt.date | None) -> str:
    return day.strftime("%-d %B %Y") if day else ""


def _stay(count: int) -> str:
    return "stays" if count == 1 else "stay"


def delete_button_label(view: PrivacyView) -> str:
    """The confirm button says exactly what it deletes."""
    if view.checkins:
        return f"Delete my {_n(view.checkins, 'learning')} and profile"
    return "Delete my profile"


def _platform(view: PrivacyView) -> _Platform:
    return _PLATFORMS.get(view.platform, _PLATFORMS["slack"])


def _panel(view: PrivacyView) -> Message:
    if view.is_member:
        learnings = _n(view.checkins, "learning")
        since = f" since {_date(view.first_saved)}" if view.first_saved else ""
        anonymous = f" ({view.anonymous} shared anonymously)" if view.anonymous else ""
        held = [
            words("your profile: your agency, time zone and whether your prompts are paused"),
            words(Strong(learnings), f" you saved{since}{anonymous}"),
            words(f"your weekly prompt history ({_n(view.prompts, 'prompt')})"),
        ]
        if view.barriers_raised:
            held.append(words(f"{_n(view.barriers_raised, 'barrier')} you raised"))
        return Message(
            summary=words("Your data in LearnLoop: export it or delete it."),
            blocks=(
                Paragraph(words(Strong("Your data in LearnLoop"))),
                Paragraph(words("LearnLoop holds:")),
                Bullets(tuple(held)),
                Paragraph(
                    words(
                        f"Learnings and prompt history older than {view.retention_months} "
                        "months are deleted automatically. Identifiers of the people you "
                        "support were removed before anything was saved."
                    )
                ),
                Paragraph(
                    words(
                        Strong(EXPORT),
                        f" sends you a file (JSON) in {_platform(view).chat}. ",
                        Strong(DELETE),
                        " asks you to confirm first.",
                    ),
                    subtle=True,
                ),
                Actions(
                    (
                        Button(EXPORT, PrivacyAction.EXPORT, style=Style.PRIMARY),
                        Button(DELETE, PrivacyAction.DELETE, style=Style.DANGER),
                    )
                ),
            ),
        )
    if view.deleted_on:
        said = words(f"You deleted your LearnLoop data on {_date(view.deleted_on)}.")
        return Message(
            summary=said,
            blocks=(
                Paragraph(
                    said + " Your learnings, profile and prompt history are gone. LearnLoop keeps "
                    "only a record that you deleted them, and a one-way code that stops you "
                    "being added back without asking."
                ),
                Paragraph(
                    words(
                        "If you'd like to take part again, press ",
                        Strong(START_AGAIN),
                        ": you'll get a new, empty profile and the weekly prompt. Nothing from "
                        "before comes back.",
                    )
                ),
                Actions((Button(START_AGAIN, PrivacyAction.START_AGAIN),)),
            ),
        )
    said = words(
        "LearnLoop holds no data about you: you're not a member of this learning alliance. "
        "If you think you should be, ask your LearnLoop admin."
    )
    return Message(summary=said, blocks=(Paragraph(said),))


def _confirm(view: PrivacyView) -> Message:
    question = "Delete your LearnLoop data?"
    learnings = _n(view.checkins, "learning")
    if view.anonymous:
        learnings += f" (including {view.anonymous} shared anonymously)"
    body = [
        Paragraph(words(Strong(question))),
        Paragraph(
            words(
                f"This permanently deletes your {learnings}, your profile and your prompt history."
            )
        ),
    ]
    if view.barriers_raised:
        body.append(
            Paragraph(
                words(
                    f"The {_n(view.barriers_raised, 'barrier')} you raised "
                    f"{_stay(view.barriers_raised)} for the stewards, without your name."
                )
            )
        )
    body.append(
        Paragraph(words("This can't be undone. If you want a copy, export your data first."))
    )
    buttons = (
        Button(delete_button_label(view), PrivacyAction.DELETE_CONFIRMED, style=Style.DANGER),
        Button("Keep my data", PrivacyAction.KEEP),
        Button("Export my data first", PrivacyAction.EXPORT),
    )
    return Message(summary=words(question), blocks=(*body, Actions(buttons)))


def _deleted(view: PrivacyView) -> Message:
    done = "Your LearnLoop data is deleted."
    where = _platform(view)
    lines = [
        words(
            "✅ ",
            Strong(done),
            f" {_n(view.checkins, 'learning').capitalize()}, your profile and your prompt "
            "history are gone, and I won't prompt you again.",
        )
    ]
    if view.barriers_raised:
        lines.append(
            words(
                f"The {_n(view.barriers_raised, 'barrier')} you raised "
                f"{_stay(view.barriers_raised)}, without your name."
            )
        )
    lines.append(
        words(
            f"Messages already posted in {where.name} (such as a digest that quoted you) are "
            f"kept by {where.name} under {where.retention_owner} own retention settings."
        )
    )
    lines.append(START_AGAIN_HINT)
    return Message(summary=words(done), blocks=tuple(Paragraph(line) for line in lines))


def _exported(view: PrivacyView) -> Message:
    name = Literal(view.filename or "")
    where = _platform(view)
    if where.file_needs_consent:
        said = words(
            "I've offered you your data in our chat as ",
            name,
            ": press ",
            Strong("Allow"),
            " on the file card to save it to your OneDrive.",
        )
    else:
        said = words(f"I've sent your data to {where.chat} as ", name, ".")
    # A consented file lands in the person's own OneDrive; a DM'd one is in the DM with us.
    who = "you" if where.file_needs_consent else "you and LearnLoop"
    return Message(
        summary=said,
        blocks=(
            Paragraph(words("📥 ", said)),
            Paragraph(words(f"Only {who} can see that file."), subtle=True),
        ),
    )


def _restarted(view: PrivacyView) -> Message:
    if view.is_member:
        said = words("Welcome back: you have a new, empty profile and will get the weekly prompt.")
    else:
        said = words(
            "Your deletion is no longer on record, but you're not listed in an agency yet: "
            "ask your LearnLoop admin to add you."
        )
    return Message(summary=said, blocks=(Paragraph(said),))


def kept_message() -> Message:
    """After "Keep my data": nothing was deleted, and how to see the panel again."""
    said = words("Nothing was deleted. Type ", Cmd(Command.PRIVACY), " to see your data any time.")
    return Message(summary=said, blocks=(Paragraph(said),))


def privacy_message(view: PrivacyView) -> Message:
    """The privacy panel at its current step."""
    if view.stage is PrivacyStage.PANEL:
        return _panel(view)
    if view.stage is PrivacyStage.CONFIRM_DELETE:
        return _confirm(view)
    if view.stage is PrivacyStage.DELETED:
        return _deleted(view)
    if view.stage is PrivacyStage.KEPT:
        return kept_message()
    if view.stage is PrivacyStage.EXPORTED:
        return _exported(view)
    return _restarted(view)


def file_declined() -> Words:
    """The person declined the file Teams offered them."""
    return words("No file was saved. Type ", Cmd(Command.PRIVACY), " if you change your mind.")


def file_expired() -> Words:
    """The offered file waited too long to be allowed."""
    return words(
        "That file has expired (files wait 15 minutes for you to allow them). Type ",
        Cmd(Command.PRIVACY),
        " and press ",
        Strong(EXPORT),
        " again.",
    )


def only_in_private_chat() -> Words:
    """`privacy` typed in a channel: the panel is only shown one to one."""
    return words(
        "Type ", Cmd(Command.PRIVACY), " to me in our 1:1 chat: your data is only shown to you."
    )

"""Help: what a person can ask LearnLoop for, written once and spelled by each platform.

The commands are `Cmd` spans, so Slack shows `/learnloop pause` and Teams **pause**. The few
lines that differ are things only one platform has: Slack's App Home tab (where a person's own
learnings are) and its inquiry commands; Teams' `entries` command in their place.
"""

from __future__ import annotations

from bot.views.message import Bullets, Message, Paragraph
from bot.views.words import Cmd, Command, Emph, Literal, Strong, Words, words

INTRO = words(Strong("LearnLoop"), " helps our alliance learn together. Here's what you can do:")
REPLY = words(
    "Or just reply to my weekly message: your reply is saved as a learning your team can see."
)
CARE = words(
    "You choose who sees each learning. Please don't name or identify the people you support."
)
_OWN_ENTRIES = (
    "your learnings, each with who can see it: edit one (for 7 days after you save it), "
    "change who can see it, or delete it"
)


def _commands(platform: str) -> tuple[Words, ...]:
    lines = [
        words(
            Cmd(Command.CHECKIN),
            " — share a learning any time (what happened, what helped, what got in the way)",
        ),
        words(
            Cmd(Command.ESCALATE),
            " [what gets in the way] — raise a barrier your team can't remove",
        ),
        words(Cmd(Command.BARRIERS), " [open | mine | stale | all] — the barrier register"),
        words(
            Cmd(Command.PAUSE),
            " [2w | 10d | until 2026-12-31] — pause the weekly prompt (4 weeks if you don't say)",
        ),
        words(Cmd(Command.RESUME), " — start the weekly prompt again"),
        words(
            Cmd(Command.DIGEST, "on | off"),
            " — get (or stop) the weekly note of what the whole alliance learned",
        ),
        words(Cmd(Command.PRIVACY), " — see, export or delete what LearnLoop holds about you"),
        words(
            Cmd(Command.FIND, "WORDS [--theme THEME] [--agency AGENCY]"),
            " — search past learnings you can read, newest first (",
            Literal('"a phrase"'),
            ", ",
            Literal("-word"),
            " to leave a word out, ",
            Literal("or"),
            " between alternatives)",
        ),
    ]
    if platform == "teams":
        # Teams has no App Home tab: a person's own learnings are a command there.
        lines.append(words(Strong("entries"), f" — {_OWN_ENTRIES}"))
    else:
        lines.append(
            words(
                "LearnLoop's ",
                Strong("Home"),
                f" tab — {_OWN_ENTRIES}; editing your reply to my weekly message edits that "
                "learning too",
            )
        )
        # Inquiries are started from Slack only.
        lines.append(
            words(
                Cmd(Command.INQUIRY, "start | list | close"),
                " — for system stewards: ask a cohort a focused question for a few weeks (",
                Cmd(Command.INQUIRY, "help"),
                " says how)",
            )
        )
    lines.append(
        words(
            Cmd(Command.ADMIN, "add @person agency | remove @person | list"),
            " — for LearnLoop admins: put someone in an agency from chat (they can check in "
            "straight away)",
        )
    )
    lines.append(words(Cmd(Command.HELP), " — this message"))
    return tuple(lines)


def help_message(platform: str) -> Message:
    """Everything a person can ask LearnLoop for on `platform`."""
    return Message(
        summary=words(
            "LearnLoop helps our alliance learn together. ",
            Cmd(Command.HELP),
            " lists what you can do.",
        ),
        blocks=(
            Paragraph(INTRO),
            Bullets(_commands(platform)),
            Paragraph(REPLY),
            Paragraph(CARE),
        ),
    )


def unknown_command(typed: str, platform: str) -> Message:
    """A command LearnLoop doesn't know, followed by the help."""
    said = words("I don't know ", Literal(typed), ".")
    shown = help_message(platform)
    return Message(summary=said, blocks=(Paragraph(said), *shown.blocks))


def only_in_private_chat(command: Cmd | Strong) -> Words:
    """A command typed in a channel whose answer is one person's."""
    return words("Type ", command, " to me in our 1:1 chat: the answer is just yours.")


def welcome(member: bool, platform_id_name: str) -> Words:
    """The first words in a new 1:1 chat: what LearnLoop does, or why it can't yet.

    `platform_id_name` is what the admin needs from a stranger ("Microsoft Entra object id").
    """
    if member:
        return words(
            "Hi — I'm LearnLoop. Each week I'll ask you ",
            Strong("what did we learn this week?"),
            " It takes about a minute: press ",
            Emph("Share a learning"),
            ", or just reply. Type ",
            Cmd(Command.HELP),
            " to see what else I can do.",
        )
    return words(
        "Hi — I'm LearnLoop. You're not set up as a member of this learning alliance yet, so I "
        "can't save check-ins for you. Please ask your LearnLoop admin to add you to your "
        f"agency (they'll need your {platform_id_name}).",
    )

"""The public privacy notice and terms of use, as platform-neutral sections.

Teams requires a privacy URL and a terms-of-use URL in every app package; LearnLoop serves
both itself (`GET /privacy`, `GET /terms`) so they say what this deployment actually stores,
for how long and who sees what, with the alliance's own name and retention period.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.views.words import Literal, Words, words


@dataclass(frozen=True)
class PageSection:
    """A heading and its paragraphs."""

    heading: str
    paragraphs: tuple[Words | str, ...]


@dataclass(frozen=True)
class PublicPage:
    """A public page: a title, a one-line summary and its sections."""

    title: str
    summary: str
    sections: tuple[PageSection, ...]


def privacy_page(alliance_name: str, retention_months: int, suppress_below: int) -> PublicPage:
    """What LearnLoop stores for this alliance, for how long, and who can see it."""
    return PublicPage(
        title=f"Privacy notice — LearnLoop for {alliance_name}",
        summary=(
            f"LearnLoop asks the staff of {alliance_name} what they learned each week and "
            "shares it the way each author chooses. This page says what it keeps about you."
        ),
        sections=(
            PageSection(
                "What LearnLoop stores",
                (
                    "Your chat platform user id, your agency, your time zone and whether you "
                    "have paused the weekly prompt.",
                    "Each weekly prompt sent to you and whether you answered, skipped or said "
                    "'Nothing this week'.",
                    "What you share: your answers, themes and who may see each one. "
                    "Identifiers of the people services support — NHS numbers, National "
                    "Insurance numbers, postcodes, phone numbers, e-mail addresses and dates of "
                    "birth — are removed before anything is stored; the text as you typed it is "
                    "never kept.",
                    "Barriers you raise and their history, and an audit log of exports, "
                    "deletions and administrative actions (never the text of a learning).",
                ),
            ),
            PageSection(
                "Who can see what you share",
                (
                    "You choose for each learning: just your team, the alliance with your name, "
                    "or the alliance anonymously. An anonymous learning never shows your name "
                    "or your agency to anyone else.",
                    "Taking part is only ever counted per agency, never per person, and any "
                    f"count under {suppress_below} is shown as 'fewer than {suppress_below}'. "
                    "There are no rankings or lists of who did not answer.",
                ),
            ),
            PageSection(
                "How long it is kept",
                (
                    f"Learnings and prompt history are deleted after {retention_months} months. "
                    "Barriers stay on the alliance's register, without your name once you "
                    "delete your data.",
                ),
            ),
            PageSection(
                "Your choices",
                (
                    words(
                        "Ask LearnLoop for your data (type ",
                        Literal("privacy"),
                        " to it in Teams, or ",
                        Literal("/learnloop privacy"),
                        " in Slack) to see what it holds about you, to export it as a file, or "
                        "to delete it. You can pause the weekly prompt at any time.",
                    ),
                    f"Questions about this notice go to the data protection officer of "
                    f"{alliance_name}'s host organisation.",
                ),
            ),
        ),
    )


def terms_page(alliance_name: str) -> PublicPage:
    """The terms on which the alliance's staff use LearnLoop."""
    return PublicPage(
        title=f"Terms of use — LearnLoop for {alliance_name}",
        summary=(
            f"LearnLoop is run by {alliance_name} for its member services to learn together. "
            "By using it you agree to these terms."
        ),
        sections=(
            PageSection(
                "What it is for",
                (
                    "Sharing what you learned at work, what helped and what got in the way, "
                    "and raising barriers your team cannot remove.",
                    "It is not a case record and not a way to report a risk to someone's "
                    "safety: use your service's own procedures for those.",
                ),
            ),
            PageSection(
                "What you agree to",
                (
                    "Do not name or describe the people your service supports in a way that "
                    "could identify them. LearnLoop removes common identifiers, but not names "
                    "or circumstances.",
                    "Write in the spirit of a no-blame, learning culture: about what happened "
                    "and what the system can change, not about individual colleagues.",
                ),
            ),
            PageSection(
                "The software",
                (
                    "LearnLoop is open-source software under the MIT licence, provided as is, "
                    "without warranty. The alliance decides who may use it and may change "
                    "these terms; you can stop at any time by pausing prompts or deleting your "
                    "data.",
                ),
            ),
        ),
    )

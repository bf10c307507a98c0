"""The contributor form's words (issue 15): the same questions as the check-in, and the pages
around it. The web module lays these out with a Jinja2 template; nothing here is HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.domain.checkins import Visibility
from bot.views.checkin import NO_NAMES, VISIBILITY_FIELD, CheckinForm
from bot.views.message import Block, ChoiceField, ChoiceStyle, Form, Option, Paragraph
from bot.views.words import Link, Words, words

CONTRIBUTE_FORM = "contribute"
# A contributor chooses between these two: their group's name, or no name at all.
CHOICES = (Visibility.ALLIANCE, Visibility.ANONYMOUS)
CHOOSE_VISIBILITY = "Choose who can read this."


@dataclass(frozen=True)
class Page:
    """A short page: a title and paragraphs (thanks, or why a link does not work)."""

    title: str
    paragraphs: tuple[Words, ...]


def visibility_field(
    group_name: str, error: str | None = None, chosen: str | None = None
) -> ChoiceField:
    """Who may read the contribution, chosen by the contributor (no default)."""
    return ChoiceField(
        VISIBILITY_FIELD,
        "Who can read this?",
        (
            Option(Visibility.ALLIANCE.value, f"The alliance, as the {group_name}"),
            Option(Visibility.ANONYMOUS.value, "The alliance, anonymously"),
        ),
        style=ChoiceStyle.RADIO,
        initial=(chosen,) if chosen in {v.value for v in CHOICES} else (),
        hint=words(
            "Either way LearnLoop never knows who you are. Anonymously, not even your "
            "group's name is shown with it."
        ),
        error=error,
    )


def contribute_form(
    alliance_name: str,
    group_name: str,
    checkin: CheckinForm,
    errors: Mapping[str, str] | None = None,
    prefill: Mapping[str, Any] | None = None,
) -> Form:
    """The check-in's questions for a group's members, with their own choice of visibility.

    `errors` are by question id (as validation names them); `prefill` is what was typed.
    """
    base = checkin.form(errors=errors, prefill=prefill)
    chosen = str((prefill or {}).get("visibility") or "")
    items: list[Block | ChoiceField | object] = [
        Paragraph(
            words(
                f"The {alliance_name} asks the {group_name} what they have learned. "
                "Answer as much or as little as you like; it takes a minute."
            )
        ),
        Paragraph(
            words(
                f"🔒 {NO_NAMES} Phone numbers and other identifiers are removed "
                "before anything is stored."
            ),
            subtle=True,
        ),
    ]
    for item in base.items:
        if isinstance(item, ChoiceField) and item.id == VISIBILITY_FIELD:
            items.append(visibility_field(group_name, base.errors.get(VISIBILITY_FIELD), chosen))
        elif isinstance(item, Paragraph) and NO_NAMES in item.text.plain():
            continue  # said above, with what is removed
        else:
            items.append(item)
    return replace(
        base,
        id=CONTRIBUTE_FORM,
        title=f"Share a learning with the {alliance_name}",
        submit="Send my learning",
        items=tuple(items),  # type: ignore[arg-type]
    )


def thanks_page(alliance_name: str, redaction_summary: str, receipt_url: str = "") -> Page:
    """After a contribution is stored: thanks, and the private link back to it."""
    paragraphs = [
        words(
            f"Thank you. Your learning is with the {alliance_name} and will be read with the "
            "services' learnings in the next digest."
        ),
    ]
    if redaction_summary:
        paragraphs.append(words(redaction_summary))
    if receipt_url:
        paragraphs.append(words(RECEIPT_KEEP + " ", Link(receipt_url, receipt_url)))
        paragraphs.append(words(RECEIPT_PRIVATE))
    paragraphs.append(words("You can close this page, or use the same link again another time."))
    return Page("Thank you — your learning is saved", tuple(paragraphs))


# ------------------------------------------------------------------------ the receipt

RECEIPT_KEEP = "Keep this link to change or delete what you shared:"
RECEIPT_PRIVATE = (
    "It is yours alone: LearnLoop does not know who you are, so this link is the only way "
    "back to what you shared. Anyone with it can change or delete it, so keep it to yourself."
)
RECEIPT_TITLE = "What you shared"
CHANGE_HEADING = "Change what I shared"
CHANGE_BUTTON = "Change what I shared"
DELETE_HEADING = "Delete what I shared"
DELETE_BUTTON = "Delete what I shared"
DELETE_GOES = (
    "This removes your words, their themes and any links to barriers from LearnLoop for "
    "good. It can't be undone. Digests already sent are not changed."
)
CHANGE_CLOSED = (
    "The group's link has been withdrawn, so what was shared through it can't be changed "
    "any more. You can still delete it."
)
RECEIPT_FORGED = (
    "This link is not one LearnLoop made, or it was cut short when it was copied. Copy the "
    "whole link from where you kept it."
)
ENTRY_GONE = "What this link pointed to is no longer here: it was deleted."
CHANGED_TITLE = "Your change is saved"
DELETED_TITLE = "What you shared is deleted"
DELETED = (
    "Your words are gone from LearnLoop, with their themes. Digests already sent are not "
    "changed. This link does nothing any more."
)
RECEIPT_PROBLEM_TITLE = "This link cannot be used"


def receipt_expired(months: int) -> str:
    """A receipt older than the alliance keeps entries."""
    return (
        f"This link has expired. The alliance keeps what people share for {months} months, "
        "so what it pointed to has been removed already."
    )


def receipt_intro(group_name: str, saved_on: str, visibility_label: str) -> tuple[Words, ...]:
    """What the receipt opens: when it was shared, as whom, and what can be done."""
    return (
        words(f"You shared this on {saved_on} as part of the {group_name}: {visibility_label}."),
        words(RECEIPT_KEEP.removesuffix(":") + "; it is the only way back to it."),
    )


def change_window_note(until: str, editable: bool) -> Words:
    """Whether the words can still change (the edit window a chat author has too)."""
    if editable:
        return words(
            f"You can change it until {until}; identifiers are removed again before saving. "
            "Digests already sent are not changed."
        )
    return words(f"It could be changed until {until}. You can still delete it.")


def changed_page(redaction_summary: str, receipt_url: str) -> Page:
    """After a contributor changed what they shared."""
    paragraphs = [words("What you shared now reads as you changed it.")]
    if redaction_summary:
        paragraphs.append(words(redaction_summary))
    paragraphs.append(words(RECEIPT_KEEP + " ", Link(receipt_url, receipt_url)))
    return Page(CHANGED_TITLE, tuple(paragraphs))


def deleted_page() -> Page:
    """After a contributor deleted what they shared."""
    return Page(DELETED_TITLE, (words(DELETED),))


def receipt_problem_page(message: Words | str) -> Page:
    """A receipt that opens nothing (forged, expired, deleted) or an action refused."""
    said = message if isinstance(message, Words) else words(message)
    return Page(RECEIPT_PROBLEM_TITLE, (said, words("Nothing was changed.")))


def change_form(
    alliance_name: str,
    group_name: str,
    checkin: CheckinForm,
    errors: Mapping[str, str] | None = None,
    prefill: Mapping[str, Any] | None = None,
) -> Form:
    """The contributor's form again, filled in with what they shared, to change it."""
    base = contribute_form(alliance_name, group_name, checkin, errors, prefill)
    # The form's opening words invite a new learning; a change needs only the questions.
    return replace(base, title=CHANGE_HEADING, submit=CHANGE_BUTTON, items=base.items[1:])


def shared_lines(
    questions: Sequence[tuple[str, str]], answers: Mapping[str, str], themes: Sequence[str]
) -> tuple[tuple[str, str], ...]:
    """What was shared, question by question (label, answer), for reading back."""
    lines = [(label, answers[qid]) for qid, label in questions if answers.get(qid, "").strip()]
    if themes:
        lines.append(("Themes", ", ".join(themes)))
    return tuple(lines)


def shared_as(group_name: str, visibility: str) -> str:
    """Who can read a contribution, in the words the form offered."""
    if visibility == Visibility.ANONYMOUS.value:
        return "the alliance can read it, anonymously"
    return f"the alliance can read it, as the {group_name}"


def link_problem_page(message: Words | str) -> Page:
    """A link that cannot be used (forged, withdrawn), or a form that could not be taken."""
    said = message if isinstance(message, Words) else words(message)
    return Page("This link cannot be used", (said, words("Nothing was stored.")))


EXPIRED_FORM = (
    "This form could not be checked (it was opened in another browser, or cookies are off). "
    "Open the link again and send it from there."
)
FORM_HAS_ERRORS = "Some answers need another look: see the notes below."
TOO_LARGE = "That was more than the form takes. Please shorten your answers and send it again."

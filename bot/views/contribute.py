"""The contributor form's words (issue 15): the same questions as the check-in, and the pages
around it. The web module lays these out with a Jinja2 template; nothing here is HTML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.domain.checkins import Visibility
from bot.views.checkin import NO_NAMES, VISIBILITY_FIELD, CheckinForm
from bot.views.message import Block, ChoiceField, ChoiceStyle, Form, Option, Paragraph
from bot.views.words import Words, words

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


def thanks_page(alliance_name: str, redaction_summary: str) -> Page:
    """After a contribution is stored."""
    paragraphs = [
        words(
            f"Thank you. Your learning is with the {alliance_name} and will be read with the "
            "services' learnings in the next digest."
        ),
    ]
    if redaction_summary:
        paragraphs.append(words(redaction_summary))
    paragraphs.append(words("You can close this page, or use the same link again another time."))
    return Page("Thank you — your learning is saved", tuple(paragraphs))


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

"""The privacy panel as an Adaptive Card (issue 6's PrivacyView, rendered for Teams)."""

from __future__ import annotations

from typing import Any

from microsoft_teams.cards import AdaptiveCard

from bot.teams.cards import card, execute_verb, text
from bot.teams.ids import Verb
from bot.views.privacy import PrivacyStage, PrivacyView

START_AGAIN_HINT = "Changed your mind? Type **privacy** to me and press *Start again*."


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _date(view: PrivacyView, attr: str) -> str:
    value = getattr(view, attr)
    return value.strftime("%-d %B %Y") if value else ""


def delete_button_label(view: PrivacyView) -> str:
    """The confirm button says exactly what it deletes."""
    if view.checkins:
        return f"Delete my {_n(view.checkins, 'learning')} and profile"
    return "Delete my profile"


def _what_we_hold(view: PrivacyView) -> list[Any]:
    learnings = _n(view.checkins, "learning")
    since = f" since {_date(view, 'first_saved')}" if view.first_saved else ""
    anonymous = f" ({view.anonymous} shared anonymously)" if view.anonymous else ""
    lines = [
        "- your profile: your agency, time zone and whether your prompts are paused",
        f"- **{learnings}** you saved{since}{anonymous}",
        f"- your weekly prompt history ({_n(view.prompts, 'prompt')})",
    ]
    if view.barriers_raised:
        lines.append(f"- {_n(view.barriers_raised, 'barrier')} you raised")
    return [
        text("**Your data in LearnLoop**", weight="Bolder"),
        text("LearnLoop holds:"),
        text("\n".join(lines)),
        text(
            f"Learnings and prompt history older than {view.retention_months} months are deleted "
            "automatically. Identifiers of the people you support were removed before anything "
            "was saved.",
            is_subtle=True,
        ),
    ]


def privacy_card(view: PrivacyView) -> AdaptiveCard:
    """The privacy panel at its current step."""
    stage = view.stage
    if stage is PrivacyStage.PANEL and view.is_member:
        return card(
            *_what_we_hold(view),
            text(
                "**Export my data** sends you a file (JSON) in our chat. **Delete my data** asks "
                "you to confirm first.",
                is_subtle=True,
                size="Small",
            ),
            actions=[
                execute_verb("Export my data", Verb.PRIVACY_EXPORT).with_style("positive"),
                execute_verb("Delete my data", Verb.PRIVACY_DELETE).with_style("destructive"),
            ],
            fallback_text="Your data in LearnLoop: export it or delete it.",
        )
    if stage is PrivacyStage.PANEL and view.deleted_on:
        said = f"You deleted your LearnLoop data on {_date(view, 'deleted_on')}."
        return card(
            text(
                f"{said} LearnLoop holds nothing about you now, apart from a one-way code that "
                "stops you being added back without asking."
            ),
            text(
                "If you'd like to take part again, press **Start again**: you'll get a new, "
                "empty profile and the weekly prompt. Nothing from before comes back."
            ),
            actions=[execute_verb("Start again", Verb.PRIVACY_START_AGAIN)],
            fallback_text=said,
        )
    if stage is PrivacyStage.PANEL:
        said = (
            "LearnLoop holds no data about you: you're not a member of this learning alliance. "
            "If you think you should be, ask your LearnLoop admin."
        )
        return card(text(said), fallback_text=said)
    if stage is PrivacyStage.CONFIRM_DELETE:
        learnings = _n(view.checkins, "learning")
        if view.anonymous:
            learnings += f" (including {view.anonymous} shared anonymously)"
        body = [
            text("**Delete your LearnLoop data?**"),
            text(
                f"This permanently deletes your {learnings}, your profile and your prompt history."
            ),
        ]
        if view.barriers_raised:
            body.append(
                text(
                    f"The {_n(view.barriers_raised, 'barrier')} you raised "
                    f"{'stays' if view.barriers_raised == 1 else 'stay'} for the stewards, "
                    "without your name."
                )
            )
        body.append(text("This can't be undone. If you want a copy, export your data first."))
        return card(
            *body,
            actions=[
                execute_verb(delete_button_label(view), Verb.PRIVACY_DELETE_CONFIRMED).with_style(
                    "destructive"
                ),
                execute_verb("Keep my data", Verb.PRIVACY_KEEP),
                execute_verb("Export my data first", Verb.PRIVACY_EXPORT),
            ],
            fallback_text="Delete your LearnLoop data?",
        )
    if stage is PrivacyStage.DELETED:
        lines = [
            f"✅ **Your LearnLoop data is deleted.** {_n(view.checkins, 'learning').capitalize()}, "
            "your profile and your prompt history are gone, and I won't prompt you again."
        ]
        if view.barriers_raised:
            lines.append(
                f"The {_n(view.barriers_raised, 'barrier')} you raised "
                f"{'stays' if view.barriers_raised == 1 else 'stay'}, without your name."
            )
        lines.append(
            "Messages already posted in Teams (such as a digest that quoted you) are kept by "
            "Teams under your organisation's own retention settings."
        )
        lines.append(START_AGAIN_HINT)
        return card(*(text(line) for line in lines), fallback_text="Your data is deleted.")
    if stage is PrivacyStage.KEPT:
        said = "Nothing was deleted. Type **privacy** to me to see your data any time."
        return card(text(said), fallback_text=said)
    if stage is PrivacyStage.EXPORTED:
        said = (
            f"I've offered you your data in our chat as `{view.filename}`: press **Allow** on "
            "the file card to save it to your OneDrive."
        )
        return card(
            text(f"📥 {said}"),
            text("Only you can see that file.", is_subtle=True, size="Small"),
            fallback_text=said,
        )
    if view.is_member:
        said = "Welcome back: you have a new, empty profile and will get the weekly prompt."
    else:
        said = (
            "Your deletion is no longer on record, but you're not listed in an agency yet: "
            "ask your LearnLoop admin to add you."
        )
    return card(text(said), fallback_text=said)

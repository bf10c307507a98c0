"""An author's own entries as Adaptive Cards: the same view-models and words as the App Home."""

from __future__ import annotations

from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    Choice,
    ChoiceSetInput,
    Container,
    SubmitAction,
    SubmitData,
)

from bot.teams.cards import card, escape_markdown, execute_verb, open_dialog, text
from bot.teams.ids import VISIBILITY_INPUT, Dialog, Submit, Verb
from bot.views import entries as words
from bot.views.entries import DeleteEntryView, EntriesView, EntryLine, VisibilityChoiceView


def _entry(entry: EntryLine) -> Container:
    themes = f" · {', '.join(entry.themes)}" if entry.themes else ""
    actions: list[Any] = []
    # Outside the edit window there is no Edit button; the note says why.
    if entry.editable:
        actions.append(open_dialog(words.EDIT, Dialog.ENTRY_EDIT, checkin_id=entry.checkin_id))
    actions += [
        open_dialog(words.CHANGE_VISIBILITY, Dialog.ENTRY_VISIBILITY, checkin_id=entry.checkin_id),
        execute_verb(words.DELETE, Verb.ENTRY_DELETE, checkin_id=entry.checkin_id),
    ]
    return Container(
        separator=True,
        items=[
            text(f"**{entry.saved_on:%-d %B %Y}** — {escape_markdown(entry.excerpt)}{themes}"),
            text(
                f"Who can see it: **{entry.visibility_label}** — {entry.who_can_see}",
                size="Small",
            ),
            text(entry.edit_note, is_subtle=True, size="Small"),
            ActionSet(actions=actions),
        ],
    )


def entries_card(view: EntriesView) -> AdaptiveCard:
    """The author's entries, newest first, each with Edit, Change who can see it and Delete."""
    heading = f"**{view.heading}** {view.count_text}".strip()
    body: list[Any] = [text(heading, weight="Bolder")]
    if view.notice:
        body.append(text(f"✅ {view.notice}"))
    if not view.entries:
        body.append(text(view.empty_text))
        return card(*body, fallback_text=view.heading)
    body += [_entry(entry) for entry in view.entries]
    body.append(text(view.rule, is_subtle=True, size="Small"))
    paging = []
    if view.newer_offset is not None:
        paging.append(execute_verb(words.SHOW_NEWER, Verb.ENTRIES_PAGE, offset=view.newer_offset))
    if view.older_offset is not None:
        paging.append(execute_verb(words.SHOW_OLDER, Verb.ENTRIES_PAGE, offset=view.older_offset))
    return card(*body, actions=paging, fallback_text=view.heading)


def delete_card(view: DeleteEntryView) -> AdaptiveCard:
    """The confirmation step before one entry is deleted."""
    return card(
        text(f"**{view.title}**"),
        text(escape_markdown(view.goes)),
        *[text(line, is_subtle=True) for line in view.kept],
        actions=[
            execute_verb(
                view.confirm, Verb.ENTRY_DELETE_CONFIRMED, checkin_id=view.checkin_id
            ).with_style("destructive"),
            execute_verb(view.keep, Verb.ENTRY_KEEP),
        ],
        fallback_text=view.title,
    )


def visibility_form(view: VisibilityChoiceView) -> AdaptiveCard:
    """ "Change who can see it": the three choices, the current one selected."""
    return card(
        text(escape_markdown(view.lead)),
        ChoiceSetInput(
            id=VISIBILITY_INPUT,
            label=view.question,
            choices=[Choice(title=label, value=value) for value, label in view.options],
            style="expanded",
            value=view.current,
            is_required=True,
        ),
        text(view.note, is_subtle=True, size="Small"),
        actions=[
            SubmitAction(
                title=view.submit,
                data=SubmitData(Submit.ENTRY_VISIBILITY.value, {"checkin_id": view.checkin_id}),
            ).with_style("positive")
        ],
        fallback_text=view.title,
    )

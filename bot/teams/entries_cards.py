"""An author's own entries as Adaptive Cards, from the same views as Slack's App Home.

Every sentence and button comes from `bot.views.entries`; this only renders them.
"""

from __future__ import annotations

from microsoft_teams.cards import AdaptiveCard

from bot.teams import render
from bot.views import entries as views
from bot.views.entries import DeleteEntryView, EntriesView, VisibilityChoiceView


def entries_card(view: EntriesView) -> AdaptiveCard:
    """The author's entries, newest first, each with Edit, Change who can see it and Delete."""
    return render.card(views.entries_message(view))


def delete_card(view: DeleteEntryView) -> AdaptiveCard:
    """The confirmation step before one entry is deleted."""
    return render.card(views.delete_message(view))


def visibility_form(view: VisibilityChoiceView) -> AdaptiveCard:
    """ "Change who can see it": the three choices, the current one selected."""
    return render.form_card(views.visibility_form(view))

"""An author's own entries and the steps of changing one: one view, both renderers."""

from __future__ import annotations

import datetime as dt
import json

from bot.slack import render as slack
from bot.teams import render as teams
from bot.views import entries as views
from bot.views.entries import DeleteEntryView, EntriesView, EntryLine, VisibilityChoiceView

DAY = dt.date(2026, 11, 30)
OPTIONS = (("team", "Just my team"), ("anonymous", "The alliance, anonymously"))


def _line(checkin_id: int, editable: bool) -> EntryLine:
    return EntryLine(
        checkin_id, DAY, "Ring <housing> early", ("Housing",), "team", "Just my team",
        "your team", editable, views.edit_open_note(DAY),
    )  # fmt: skip


def _both(message: views.Message) -> tuple[str, str]:
    slack_dump = json.dumps(slack.message(message)[1], ensure_ascii=False)
    teams_dump = json.dumps(teams.card_dict(teams.card(message)), ensure_ascii=False)
    return slack_dump, teams_dump


def test_the_list_says_the_same_on_both_platforms() -> None:
    view = EntriesView((_line(1, True), _line(2, False)), total=5, older_offset=2, notice="Saved.")
    slack_dump, teams_dump = _both(views.entries_message(view))
    for said in (
        views.HEADING,
        "(5 in all)",
        "✅ Saved.",
        views.EDIT,
        views.CHANGE_VISIBILITY,
        views.DELETE,
        views.SHOW_OLDER,
        views.WINDOW_RULE,
        views.edit_open_note(DAY),
        "Who can see it: ",
    ):
        assert json.dumps(slack.mrkdwn(said), ensure_ascii=False)[1:-1] in slack_dump, said
        assert json.dumps(teams.markdown(said), ensure_ascii=False)[1:-1] in teams_dump, said
    # Only the entry still in its edit window offers Edit, on both.
    assert slack_dump.count(f'"{views.EDIT}"') == 1
    assert teams_dump.count(f'"title": "{views.EDIT}"') == 1
    # The person's own words are escaped, never markup.
    assert "&lt;housing&gt;" in slack_dump and "<housing\\\\>" in teams_dump


def test_the_empty_list_and_the_two_steps_on_both_platforms() -> None:
    slack_dump, teams_dump = _both(views.entries_message(EntriesView((), total=0)))
    assert views.EMPTY in slack_dump and views.EMPTY in teams_dump
    choice = VisibilityChoiceView(3, DAY, "Ring early", "anonymous", OPTIONS)
    form = views.visibility_form(choice, offset=10)
    modal = json.dumps(slack.modal(form), ensure_ascii=False)
    dialog = json.dumps(teams.card_dict(teams.form_card(form)), ensure_ascii=False)
    for said in (choice.title, choice.question, choice.submit, choice.lead, choice.note):
        assert json.dumps(said, ensure_ascii=False)[1:-1] in modal, said
    for said in (choice.question, choice.submit, choice.note, "Just my team"):
        assert said in dialog, said
    assert views.read_state(form.state) == (3, 10)
    gone = DeleteEntryView(3, DAY, "Ring early", barriers_linked=2)
    modal = json.dumps(slack.modal(views.delete_form(gone)), ensure_ascii=False)
    card = json.dumps(teams.card_dict(teams.card(views.delete_message(gone))), ensure_ascii=False)
    for said in (gone.title, gone.confirm, gone.keep, *gone.kept):
        assert said in modal, said
        assert said in card, said

"""The privacy panel, App Home, help, error and legal views: written once, the same words on
every platform, commands spelled by each platform's renderer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from bot.domain.errors import DataDeleted, LearnLoopError
from bot.domain.pause import BadPause, pause_until
from bot.render.pages import render_page_html
from bot.slack import render as slack
from bot.teams import render as teams
from bot.views.errors import error_said, out_of_date, something_went_wrong
from bot.views.help import help_message, unknown_command, welcome
from bot.views.home import (
    HomeAdmin,
    HomeBarrier,
    HomeLevel,
    HomeSchedule,
    HomeView,
    home_page,
    paused_notice,
)
from bot.views.legal import privacy_page, terms_page
from bot.views.message import Actions, Bullets, Heading, Message, Paragraph
from bot.views.privacy import PrivacyStage, PrivacyView, privacy_message
from bot.views.words import Cmd, Command, Emph, Link, Literal, Strong, Words, words

ZONE = dt.UTC


def pieces(message: Message) -> Iterator[str]:
    """Every piece of text the view wrote: spans, headings and button labels."""

    def of(text: Words) -> Iterator[str]:
        for part in text.parts:
            if isinstance(part, str):
                yield from (line for line in part.split("\n") if line.strip())
            elif isinstance(part, Strong | Emph | Literal):
                yield part.text
            elif isinstance(part, Link):
                yield part.label

    yield from of(message.summary)
    for block in message.blocks:
        if isinstance(block, Heading):
            yield block.text
        elif isinstance(block, Paragraph):
            yield from of(block.text)
        elif isinstance(block, Bullets):
            for line in block.items:
                yield from of(line)
        elif isinstance(block, Actions):
            yield from (button.label for button in block.buttons)


def strings(value: Any) -> Iterator[str]:
    """All strings in a rendered payload."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def both(message: Message) -> tuple[str, str]:
    """What Slack and Teams show for one message, as text."""
    text, blocks = slack.message(message)
    shown_on_slack = "\n".join([text, *strings(blocks)])
    shown_on_teams = "\n".join(strings(teams.card_dict(teams.card(message))))
    return shown_on_slack, shown_on_teams


def assert_same_words(message: Message) -> tuple[str, str]:
    on_slack, on_teams = both(message)
    for piece in pieces(message):
        assert slack.escape(piece) in on_slack, piece
        assert piece in on_teams or teams.escape(piece) in on_teams, piece
    return on_slack, on_teams


def privacy_views() -> Iterator[PrivacyView]:
    for platform in ("slack", "teams"):
        for stage in PrivacyStage:
            for member in (True, False):
                yield PrivacyView(
                    stage=stage,
                    is_member=member,
                    retention_months=24,
                    checkins=2,
                    anonymous=1,
                    prompts=3,
                    barriers_raised=1,
                    first_saved=dt.date(2026, 1, 5),
                    deleted_on=None if member else dt.date(2026, 3, 1),
                    filename="learnloop-export-2026-03-01.json",
                    platform=platform,
                )


@pytest.mark.parametrize("view", list(privacy_views()), ids=lambda v: f"{v.platform}-{v.stage}")
def test_every_privacy_step_says_the_same_words_on_both_platforms(view: PrivacyView) -> None:
    on_slack, on_teams = assert_same_words(privacy_message(view))
    # Commands are spelled by the renderer, never written into the words.
    assert "/learnloop" not in on_teams
    if view.stage in (PrivacyStage.DELETED, PrivacyStage.KEPT):
        assert "`/learnloop privacy`" in on_slack
        assert "**privacy**" in on_teams


def test_the_panel_says_where_the_file_goes_on_each_platform() -> None:
    base = next(v for v in privacy_views() if v.stage is PrivacyStage.EXPORTED)
    slack_view = PrivacyView(**{**base.__dict__, "platform": "slack"})
    teams_view = PrivacyView(**{**base.__dict__, "platform": "teams"})
    assert "our direct messages" in both(privacy_message(slack_view))[0]
    assert "press **Allow**" in both(privacy_message(teams_view))[1]


def test_confirming_a_deletion_names_what_goes_on_its_button() -> None:
    view = next(v for v in privacy_views() if v.stage is PrivacyStage.CONFIRM_DELETE)
    labels = [
        b.label for b in privacy_message(view).blocks if isinstance(b, Actions) for b in b.buttons
    ]
    assert labels == ["Delete my 2 learnings and profile", "Keep my data", "Export my data first"]


def home_view(**changes: Any) -> HomeView:
    admin = HomeAdmin(
        alliance_name="Test <Alliance>",
        agencies=2,
        agencies_by_platform={"slack": 2},
        cohorts=1,
        digests=1,
        themes=3,
        ladder=("Agency leadership", "Steward group"),
        retention_months=24,
        suppress_below=3,
        members={"active": 3},
        prompts={"answered": 3},
        prompt_errors={"user_not_found": 3},
        digests_by_status={"posted": 3},
        days=28,
    )
    fields: dict[str, Any] = {
        "roles": frozenset({"steward", "admin"}),
        "is_member": True,
        "schedule": HomeSchedule("weekly", "Thursdays at 15:00", "Europe/London", None, None),
        "levels": (
            HomeLevel(
                "Agency leadership",
                (HomeBarrier("Consent forms take weeks", "Open", 0, "https://x.example/b/1"),),
            ),
            HomeLevel("Steward group", ()),
        ),
        "open_barriers": 1,
        "admin": admin,
        "notice": paused_notice(dt.date(2026, 4, 2)),
    }
    return HomeView(**{**fields, **changes})


@pytest.mark.parametrize(
    "view",
    [home_view(), home_view(is_member=False, data_deleted=True), home_view(is_member=False)],
    ids=["member", "deleted", "stranger"],
)
def test_the_app_home_says_the_same_words_on_both_renderers(view: HomeView) -> None:
    page = home_page(view)
    message = Message(words("LearnLoop"), page.before_entries + page.after_entries)
    on_slack, on_teams = assert_same_words(message)
    if view.is_member:
        assert "*Agency leadership* — 1 open" in on_slack
        assert "<https://x.example/b/1|Consent forms take weeks> — Open, changed today" in on_slack
        assert "Test &lt;Alliance&gt;" in on_slack  # a name from config is text, not markup
        assert "`/barriers` lists them" in on_slack and "**barriers** lists them" in on_teams
    if view.data_deleted:
        assert "`/learnloop privacy`" in on_slack and "**privacy**" in on_teams


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_help_lists_the_same_commands_on_both_platforms(platform: str) -> None:
    message = help_message(platform)
    on_slack, on_teams = assert_same_words(message)
    shown = on_slack if platform == "slack" else teams.text_message(message)
    for command in ("checkin", "escalate", "barriers", "pause", "resume", "privacy", "help"):
        spelled = slack.slash(Cmd(Command(command))) if platform == "slack" else command
        assert (f"`{spelled}`" if platform == "slack" else f"**{spelled}**") in shown
    if platform == "teams":
        assert "/learnloop" not in shown and "**entries**" in shown and "inquiry" not in shown
    else:
        assert "*Home* tab" in shown and "`/learnloop inquiry start | list | close`" in shown


def test_an_unknown_command_is_named_then_the_help_follows() -> None:
    on_slack, _ = assert_same_words(unknown_command("/learnloop frobnicate", "slack"))
    assert "I don't know `/learnloop frobnicate`." in on_slack
    assert "`/learnloop privacy`" in on_slack


def error_text(error: Exception) -> tuple[str, str]:
    said = error_said(error, "ab12cd34")
    assert isinstance(said, Words)
    return slack.mrkdwn(said), teams.markdown(said)


def test_errors_carry_words_and_each_platform_spells_the_command() -> None:
    on_slack, on_teams = error_text(DataDeleted())
    assert on_slack.endswith("type `/learnloop privacy` and press *Start again*.")
    assert on_teams.endswith("type **privacy** and press **Start again**.")
    # Logs read the neutral plain text.
    assert str(DataDeleted()).endswith("type privacy and press Start again.")


def test_a_pause_it_cannot_read_says_what_to_type_on_each_platform() -> None:
    with pytest.raises(BadPause) as raised:
        pause_until("a fortnight", dt.datetime(2026, 3, 1, tzinfo=ZONE), ZONE)
    on_slack, on_teams = error_text(raised.value)
    assert "`/learnloop pause 2w`" in on_slack and "`/learnloop pause until 2026-12-31`" in on_slack
    assert "**pause 2w**" in on_teams and "/learnloop" not in on_teams
    assert "'a fortnight'" in raised.value.message


def test_an_older_error_written_as_a_string_is_shown_as_written() -> None:
    assert error_said(LearnLoopError("Try `/barriers`."), "x") == "Try `/barriers`."


def test_a_fault_gets_an_apology_with_its_reference() -> None:
    on_slack, on_teams = error_text(RuntimeError("boom"))
    assert "`ab12cd34`" in on_slack and "`ab12cd34`" in on_teams
    assert "boom" not in on_slack
    assert something_went_wrong("ab12cd34").plain().endswith("reference ab12cd34.")


def test_out_of_date_buttons_say_what_to_type_instead() -> None:
    assert slack.mrkdwn(out_of_date()) == (
        "That button is out of date. Type `/learnloop help` to see what I can do."
    )
    assert teams.markdown(out_of_date(Cmd(Command.CHECKIN))) == (
        "That button is out of date. Try **checkin** instead."
    )


def test_legal_pages_escape_config_text_and_show_commands_as_typed() -> None:
    page = render_page_html(privacy_page("A <b>Alliance</b>", 18, 3))
    assert "A &lt;b&gt;Alliance&lt;/b&gt;" in page and "<b>" not in page
    assert "<code>/learnloop privacy</code>" in page and "deleted after 18 months" in page
    assert "Terms of use" in render_page_html(terms_page("A"))


def test_help_as_teams_chat_text_keeps_its_list() -> None:
    shown = teams.text_message(help_message("teams"))
    lines = shown.split("\n")
    assert sum(line.startswith("- **") for line in lines) == 11  # digest on | off, find, admin too
    assert lines[0] == "**LearnLoop** helps our alliance learn together. Here's what you can do:"


def test_the_welcome_names_help_as_each_platform_types_it() -> None:
    hello = welcome(True, "Microsoft Entra object id")
    assert teams.markdown(hello).endswith("Type **help** to see what else I can do.")
    assert slack.mrkdwn(hello).endswith("Type `/learnloop help` to see what else I can do.")
    stranger = welcome(False, "Microsoft Entra object id")
    assert "(they'll need your Microsoft Entra object id)" in stranger.plain()

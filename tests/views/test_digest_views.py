"""The digest and inquiry views: every sentence written once, said the same on every platform."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterable
from typing import Any

from bot.domain.inquiry import DEFAULT_WEEKS, MAX_QUESTION_CHARS, MAX_WEEKS, USAGE
from bot.domain.suppression import suppress
from bot.render.digest import render_html, render_text
from bot.slack import render as slack
from bot.teams import render as teams
from bot.views.digest import (
    AgencyParticipation,
    BarrierLine,
    BarrierSummary,
    DigestView,
    Pattern,
    Quote,
    ThemeLine,
    ThemeTrend,
    Trend,
    digest_thread,
)
from bot.views.inquiry import (
    AgencyAnswers,
    InquiryLine,
    InquirySummaryView,
    PurposeAnswerView,
    PurposeSectionView,
    RaisedBarrier,
    SharedAnswer,
    ThemeAcrossAgencies,
    closed_reply,
    list_reply,
    start_form,
    started_reply,
    summary_message,
)
from bot.views.message import Block, Bullets, Group, Heading, Message, Paragraph, Thread
from bot.views.message import Quote as QuoteBlock
from bot.views.words import Channel, Strong, Words, words

DAY = dt.date(2026, 12, 3)


def c(n: int) -> Any:
    return suppress(n, 3)


def inquiry_summary() -> InquirySummaryView:
    return InquirySummaryView(
        inquiry_id=4,
        question="How is discharge working for people with no home?",
        cohort="weekly",
        started=DAY,
        ends=DAY + dt.timedelta(days=28),
        closed=True,
        suppress_below=3,
        learnings="5",
        answers="fewer than 3",
        by_agency=(AgencyAnswers("Council Housing", "3", "fewer than 3"),),
        patterns=(SharedAnswer(("Housing", "Hospital"), "Nobody knew the date", "Anonymous"),),
        themes=(ThemeAcrossAgencies("Discharge", "fewer than 3", "4"),),
        barrier_answers="3",
        barriers=(RaisedBarrier("No discharge date", "Open", "Agency leadership"),),
    )


def full_view() -> DigestView:
    """A digest with one of everything, a pattern across ten agencies among it."""
    return DigestView(
        title="What Test Alliance learned — week 49",
        period_key="2026-W49",
        period_label="week 49",
        scope_label="Test Alliance, all agencies",
        alliance_name="Test Alliance",
        suppress_below=3,
        learnings="7",
        learnings_count=7,
        agencies_contributing=c(3),
        rising=(ThemeTrend("Housing", Trend.ROSE, c(4), "fewer than 3"),),
        falling=(ThemeTrend("Money", Trend.FELL, c(0), "3"),),
        participation=(AgencyParticipation("Housing & Care", "4", "3"),),
        themes=(ThemeLine("Housing", c(4), (("Housing & Care", c(3)),)),),
        patterns=(
            Pattern(
                "learning",
                tuple(f"Agency {i}" for i in range(10)),
                c(12),
                (Quote("Ring the ward first", "Anonymous", ("Housing",)),),
                label="ward · ring",
            ),
        ),
        quotes=(Quote("We met at the food bank", "Sam, Housing"),),
        barriers=BarrierSummary(
            new=(BarrierLine("No beds on Friday", "Agency", ("Hospital",)),),
            stale=(BarrierLine("Letters late", "Steward group", ()),),
            resolved=(BarrierLine("Discharge letters", "Steward group", ("Hospital",), "Fixed"),),
        ),
        purpose=PurposeSectionView(
            "What is this system for?", "2026-Q4", (PurposeAnswerView("Homes", "Anonymous"),), "4"
        ),
        inquiries=(InquiryLine(5, "What makes a good handover?", "weekly", DAY, DAY, "open", "3"),),
        inquiry_summaries=(inquiry_summary(),),
    )


def leaves(blocks: Iterable[Block]) -> list[Words]:
    """Every piece of Words a message's blocks say."""
    found: list[Words] = []
    for item in blocks:
        if isinstance(item, Paragraph):
            found.append(item.text)
        elif isinstance(item, Bullets):
            found += item.items
        elif isinstance(item, QuoteBlock):
            found.append(item.byline)
        elif isinstance(item, Group):
            found += leaves(item.items)
    return found


def slack_texts(posts: Iterable[tuple[str, list[dict[str, Any]]]]) -> str:
    return json.dumps([blocks for _, blocks in posts], ensure_ascii=False)


def teams_texts(cards: Iterable[Any]) -> str:
    return json.dumps([teams.card_dict(card) for card in cards], ensure_ascii=False)


def said_alike(message: Message, slack_out: str, teams_out: str) -> None:
    """Each of the message's sentences is in both outputs, spelled by its platform."""
    for said in leaves(message.blocks):
        assert json.dumps(slack.mrkdwn(said), ensure_ascii=False)[1:-1] in slack_out, said
        assert json.dumps(teams.markdown(said), ensure_ascii=False)[1:-1] in teams_out, said


def test_the_digest_says_the_same_on_slack_and_teams() -> None:
    thread = digest_thread(full_view())
    slack_out = slack_texts(slack.thread(thread))
    teams_out = teams_texts(teams.thread_cards(thread))
    said_alike(thread.message, slack_out, teams_out)
    # Quotes are people's own words: both platforms carry them as written.
    for quote in ("Ring the ward first", "We met at the food bank", "Homes", "Nobody knew"):
        assert quote in slack_out and quote in teams_out
    # Teams used to leave these sections out.
    for section in ("Purpose", "Inquiries running", "Inquiry closed:"):
        assert section in teams_out


def test_a_pattern_names_five_agencies_and_counts_the_rest_everywhere() -> None:
    view = full_view()
    thread = digest_thread(view)
    slack_out = slack_texts(slack.thread(thread))
    teams_out = teams_texts(teams.thread_cards(thread))
    phrase = "Agency 0, Agency 1, Agency 2, Agency 3, Agency 4 and 5 more agencies"
    for output in (slack_out, teams_out, render_text(view), html.unescape(render_html(view))):
        assert phrase in output
        assert "Agency 9" not in output


def test_the_terminal_and_the_page_say_the_chat_digest_s_words() -> None:
    view = full_view()
    text = render_text(view)
    page = html.unescape(re.sub(r"<[^>]+>", "", render_html(view)))
    for said in leaves(digest_thread(view).message.blocks):
        assert said.plain() in text, said
        assert said.plain() in page, said


def test_the_inquiry_summary_says_the_same_on_slack_and_teams() -> None:
    message = summary_message(inquiry_summary())
    text, blocks = slack.message(message)
    card = teams.card(message)
    said_alike(message, json.dumps(blocks, ensure_ascii=False), teams_texts([card]))
    assert text == teams.plain(message.summary)
    assert text.startswith("Inquiry closed: “How is discharge working")


def test_inquiry_replies_spell_commands_for_each_platform() -> None:
    started = started_reply(4, "What helps?", "weekly", DAY, 4, "C0STEWARDS")
    assert "`/learnloop inquiry close 4` ends it sooner; its summary goes to <#C0STEWARDS>." in (
        slack.mrkdwn(started)
    )
    assert "**inquiry close 4** ends it sooner" in teams.markdown(started)
    assert "/learnloop" not in teams.markdown(started)
    assert "/learnloop" not in teams.markdown(USAGE) and "**inquiry list**" in teams.markdown(USAGE)
    assert "`/learnloop inquiry list`" in slack.mrkdwn(USAGE)
    empty = list_reply([])
    assert '`/learnloop inquiry start "Your question?"' in slack.mrkdwn(empty)
    assert '**inquiry start "Your question?"' in teams.markdown(empty)
    reply = closed_reply(inquiry_summary(), "C0STEWARDS", posted=False, error="not_in_channel")
    text, blocks = slack.message(reply)
    said_alike(reply, json.dumps(blocks, ensure_ascii=False), teams_texts([teams.card(reply)]))
    assert "<#C0STEWARDS>" in slack.mrkdwn(reply.summary)
    assert "the steward channel" in teams.markdown(reply.summary)


def test_the_start_form_has_the_same_labels_on_both_platforms() -> None:
    form = start_form(["weekly", "monthly"], MAX_WEEKS, DEFAULT_WEEKS, MAX_QUESTION_CHARS)
    modal = json.dumps(slack.modal(form))
    dialog = json.dumps(teams.card_dict(teams.form_card(form)))
    for label in ("Question for the cohort", "Cohort to ask", "How many weeks", "Start inquiry"):
        assert label in modal and label in dialog
    assert len(form.fields[2].options) == MAX_WEEKS  # type: ignore[union-attr]


# --------------------------------------------- the renderers' pieces these views need
def test_a_group_quote_and_channel_are_laid_out_by_each_platform() -> None:
    view = Message(
        summary=words("Posted in ", Channel("C0STEW", "the steward channel")),
        blocks=(
            Group(
                (
                    Paragraph(words(Strong("Heading"), " line")),
                    Bullets((words("one"),)),
                    QuoteBlock("<!here> said\nsecond line", words("Anonymous")),
                )
            ),
            Paragraph(words("See ", Channel("C0STEW", "the steward channel"), "."), subtle=True),
        ),
    )
    text, blocks = slack.message(view)
    assert text == "Posted in <#C0STEW>"
    assert blocks[0] == {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*Heading* line\n• one\n>&lt;!here&gt; said\n>second line\n_— Anonymous_",
        },
    }
    assert blocks[1]["elements"][0]["text"] == "See <#C0STEW>."
    card = teams.card_dict(teams.card(view))
    texts = json.dumps(card, ensure_ascii=False)
    assert "**Heading** line" in texts and "“<!here\\\\> said" in texts
    assert "See the steward channel." in texts  # a bot is given no Teams channel link
    assert teams.markdown(words(Channel("teams:3", "the steward channel"))) == "the steward channel"
    assert slack.mrkdwn(words(Channel("teams:3", "the steward channel"))) == "the steward channel"


def test_a_long_paragraph_is_split_between_sections_not_cut() -> None:
    long = " ".join(f"word{i}" for i in range(1200))
    blocks = slack.blocks([Paragraph(words(long))])
    assert len(blocks) > 1
    assert all(len(b["text"]["text"]) <= slack.SECTION_CHARS for b in blocks)
    assert " ".join(b["text"]["text"] for b in blocks) == long


def test_headings_and_notification_text_cannot_ping_a_channel() -> None:
    text, blocks = slack.message(Message(words("<!channel> hi"), (Heading("<!channel> hi"),)))
    assert text == "&lt;!channel&gt; hi"
    assert "<!channel>" not in json.dumps(blocks)


def test_a_thread_splits_where_each_platform_must_and_says_it_continues() -> None:
    lines = tuple(Paragraph(words(f"Part {i} " + "x" * 900)) for i in range(60))
    thread = Thread(Message(words("Digest"), lines), words("More below."), words("Digest, more"))
    posts = slack.thread(thread)
    assert len(posts) > 1 and all(len(blocks) <= slack.MESSAGE_BLOCKS for _, blocks in posts)
    assert posts[0][1][-1]["elements"][0]["text"] == "More below."
    assert [text for text, _ in posts] == ["Digest"] + ["Digest, more"] * (len(posts) - 1)
    cards = [teams.card_dict(card) for card in teams.thread_cards(thread)]
    assert len(cards) > 1 and cards[0]["body"][-1]["text"] == "More below."
    said = json.dumps(posts) + json.dumps(cards)
    assert all(said.count(f"Part {i} ") == 2 for i in range(60))  # nothing dropped on either
    short = Thread(Message(words("Digest"), lines[:2]), words("More below."), words("more"))
    assert len(slack.thread(short)) == 1 and len(teams.thread_cards(short)) == 1
    assert "More below." not in json.dumps(slack.thread(short))

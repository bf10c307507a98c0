"""Bad text and doubled deliveries at the edge: stored once, readable by every output after,
and answered once however often (or however concurrently) Slack delivers it."""

from __future__ import annotations

import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import ALICE, BOB, TEST_ALLIANCE, Live, yaml_dump
from slack_requests import message_im, view_submission
from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.domain.escalation import prepare_barrier
from bot.slack.ids import View

LONE = "\ud800"
# What each output must show instead: the Unicode replacement character.
SHOWN = "\ufffd"


def checkin_values(text: str) -> dict[str, Any]:
    return {"q_learned": {"answer": {"type": "plain_text_input", "value": text}}}


def stored_answers(live: Live) -> list[str]:
    rows = live.rows("SELECT answers FROM checkins ORDER BY id")
    return [(json.loads(a) if isinstance(a, str) else a)["learned"] for (a,) in rows]


def dms_to(live: Live, user: str) -> list[Any]:
    return [
        c for c in live.slack.calls("chat.postMessage") if c.params["channel"] in (user, f"D{user}")
    ]


def settle(live: Live, user: str, at_least: int) -> list[Any]:
    """The DMs to `user` once the first `at_least` arrived and stragglers had time to."""
    live.slack.wait_for("chat.postMessage", count=at_least)
    time.sleep(0.5)  # any extra thank-you would be posted by now: they all start together
    return dms_to(live, user)


def run_cli(database_url: str, tmp_path: Path, *args: str) -> Any:
    config = tmp_path / "alliance.yml"
    config.write_text(yaml_dump(TEST_ALLIANCE), encoding="utf-8")
    env = {"DATABASE_URL": database_url, "LEARNLOOP_CONFIG": str(config)}
    return CliRunner().invoke(cli_app, list(args), env=env)


# ------------------------------------------------------------------ lone surrogates and NUL


def test_lone_surrogates_and_nul_are_stored_as_replacement_characters(
    live: Live, database_url: str, tmp_path: Path
) -> None:
    modal = live.post(
        view_submission(
            View.CHECKIN,
            checkin_values(f"Broken {LONE} half and a \x00 NUL"),
            user_id=ALICE,
            view_id="V0SURROGATE",
        )
    )
    assert modal.status_code == 200 and modal.content in (b"", b"{}")
    reply = live.post(message_im(f"Reply {LONE}{LONE} here", user_id=BOB, event_id="Ev0LONE"))
    assert reply.status_code == 200
    assert stored_answers(live) == [
        f"Broken {SHOWN} half and a {SHOWN} NUL",
        f"Reply {SHOWN}{SHOWN} here",
    ]

    exported = run_cli(database_url, tmp_path, "export", "--member", ALICE)
    assert exported.exit_code == 0, exported.output
    doc = json.loads(exported.stdout)
    assert [c["answers"]["learned"] for c in doc["checkins"]] == [
        f"Broken {SHOWN} half and a {SHOWN} NUL"
    ]
    today = dt.date.today()
    page = tmp_path / "report.html"
    report = run_cli(
        database_url,
        tmp_path,
        "report",
        "--from",
        (today - dt.timedelta(days=7)).isoformat(),
        "--to",
        (today + dt.timedelta(days=1)).isoformat(),
        "--out",
        str(page),
    )
    assert report.exit_code == 0, report.output
    page.read_text(encoding="utf-8")
    preview = run_cli(database_url, tmp_path, "digest", "preview")
    assert preview.exit_code == 0, preview.output
    # The author's own "Export my data": the file sent to her DM is valid UTF-8 JSON.
    live.loop.services.privacy.send_export("slack", ALICE)
    [upload] = live.slack.uploads()
    own = json.loads(upload.data.decode("utf-8"))
    assert own["checkins"][0]["answers"]["learned"].startswith(f"Broken {SHOWN}")


def test_a_barrier_title_and_description_are_made_storable() -> None:
    draft = prepare_barrier(
        f"Forms {LONE} lost",
        f"Since May\x00 {LONE}",
        None,
        [],
        None,
        False,
        [],
        known_agencies=["housing"],
        ladder=["agency"],
        own_checkins=[],
    )
    assert draft.title == f"Forms {SHOWN} lost"
    assert draft.description == f"Since May{SHOWN} {SHOWN}"
    (draft.title + draft.description).encode("utf-8")


# ------------------------------------------------------------------ one thank-you per check-in


def test_sequential_slack_retries_of_a_reply_thank_once(live: Live) -> None:
    first = message_im("Ask the GP first", user_id=ALICE, event_id="Ev0RETRY4")
    assert live.post(first).status_code == 200
    for n in (1, 2, 3):
        again = message_im("Ask the GP first", user_id=ALICE, event_id="Ev0RETRY4", retry_num=n)
        assert live.post(again).status_code == 200
    assert len(stored_answers(live)) == 1
    assert len(settle(live, ALICE, 1)) == 1


def test_six_concurrent_copies_of_a_reply_store_once_and_thank_once(live: Live) -> None:
    copies = [
        message_im("Call before visiting", user_id=BOB, event_id="Ev0RACE6", retry_num=n or None)
        for n in range(6)
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(live.post, copies))
    assert [r.status_code for r in answers] == [200] * 6
    assert stored_answers(live) == ["Call before visiting"]
    thanks = settle(live, BOB, 1)
    assert len(thanks) == 1
    assert "saved as a learning" in thanks[0].params["text"]


# ------------------------------------------------------------------ concurrent view submissions


@pytest.mark.parametrize("copies", [5])
def test_concurrent_identical_view_submissions_store_one_and_answer_all(
    live: Live, copies: int
) -> None:
    req = view_submission(
        View.CHECKIN, checkin_values("Pressed Save five times"), user_id=ALICE, view_id="V0FIVE"
    )
    with ThreadPoolExecutor(max_workers=copies) as pool:
        answers = list(pool.map(live.post, [req] * copies))
    # Every copy closes the modal as a success: the duplicate sees what the first saw.
    assert [(r.status_code, r.content in (b"", b"{}")) for r in answers] == [(200, True)] * copies
    assert stored_answers(live) == ["Pressed Save five times"]
    assert len(settle(live, ALICE, 1)) == 1

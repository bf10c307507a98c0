"""After a realistic run, no raw identifier is anywhere in the database or the logs.

The run goes through the live app over signed HTTP: a prompt answered with the form, a
`/checkin` pre-filled with raw text, a plain DM reply and its Slack retry, "Add detail", an
export, a deletion, an agency export and a retention purge. Logging is captured at DEBUG
for every logger — slack_sdk and Bolt print request and response bodies at that level — and
then every text and JSON column of every table, and every captured log line, is searched
for each raw identifier (as written, and as bare digits or letters).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from conftest import ALICE, BOB, CAROL, DAN, Live
from slack_requests import (
    SIGNING_SECRET,
    app_home_opened,
    block_actions,
    message_changed_im,
    message_im,
    slash_command,
    view_submission,
)
from slack_ui import button, fill, wait_until
from sqlalchemy import JSON, String, Text, inspect, text

from bot.slack.ids import View

# Realistic raw identifiers, each one valid for its kind.
RAW = {
    "NHS number": "943 476 5919",
    "NHS number, unspaced": "4010232137",
    "NI number": "JG 10 37 59 A",
    "postcode": "BS1 4DJ",
    "second postcode": "NE1 4LP",
    "mobile": "07700 900123",
    "landline": "0117 496 0123",
    "international": "+44 7700 900456",
    "e-mail": "jo.bloggs@example.org",
    "date of birth": "14/03/1987",
}
SECRETS = {"bot token": "xoxb-test-token", "signing secret": SIGNING_SECRET}

LEARNED = (
    f"Met Mr Jones (NHS {RAW['NHS number']}, NI {RAW['NI number']}) at the food bank near "
    f"{RAW['postcode']}; his sister on {RAW['mobile']} helped. 10 people came at 10:30."
)
REPLY_TS = "1764672000.000100"
HELPED = f"Outreach emailed {RAW['e-mail']} and rang {RAW['landline']}."
IN_THE_WAY = (
    f"No bed before Friday. DOB {RAW['date of birth']}, moved from {RAW['second postcode']}."
)
REPLY = (
    f"Texting {RAW['international']} worked better than calling. NHS {RAW['NHS number, unspaced']}"
)


def variants(raw: str) -> set[str]:
    """How a value could show up: as written, without spaces, as bare digits."""
    forms = {raw, raw.replace(" ", "")}
    digits = re.sub(r"\D", "", raw)
    if len(digits) >= 8:
        forms.add(digits)
    return forms


def search(haystack: str) -> list[str]:
    """Names of the raw identifiers and secrets found in some text."""
    found = [name for name, raw in RAW.items() if any(v in haystack for v in variants(raw))]
    found += [name for name, secret in SECRETS.items() if secret in haystack]
    return found


def dump_database(live: Live, skip: Callable[[str], bool] = lambda t: False) -> dict[str, str]:
    """Every text and JSON column of every table, as one string per table."""
    engine = live.loop.engine
    inspector = inspect(engine)
    dumps = {}
    for table in inspector.get_table_names():
        if skip(table):
            continue
        columns = [
            c["name"]
            for c in inspector.get_columns(table)
            if isinstance(c["type"], String | Text | JSON) or "JSON" in str(c["type"]).upper()
        ]
        if not columns:
            continue
        select = ", ".join(f'CAST("{c}" AS TEXT)' for c in columns)
        with engine.connect() as conn:
            rows = conn.execute(text(f'SELECT {select} FROM "{table}"')).all()
        dumps[table] = json.dumps([list(r) for r in rows], ensure_ascii=False)
    return dumps


def submit_form(live: Live, form: dict[str, Any], user: str, answers: dict[str, Any]) -> None:
    resp = live.post(
        view_submission(
            View.CHECKIN,
            fill(form, answers),
            user_id=user,
            private_metadata=form["private_metadata"],
            view_id=f"V{uuid.uuid4().hex[:10].upper()}",
        )
    )
    assert resp.status_code == 200 and resp.content in (b"", b"null"), resp.text


def next_view(live: Live, before: int) -> dict[str, Any]:
    return live.slack.wait_for("views.open", count=before + 1)[-1].json_field("view")


def run_realistic_flow(live: Live) -> None:
    """Everything a pilot week does with text in it."""
    live.loop.services.prompts.send("weekly", now=True)

    # 1. Alice answers the prompt with the form, identifiers in every answer.
    prompt = next(
        c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == ALICE
    ).json_field("blocks")
    share = button(prompt, "Share a learning")
    live.post(block_actions(share["action_id"], share["value"], user_id=ALICE))
    form = next_view(live, 0)
    submit_form(
        live,
        form,
        ALICE,
        {
            "What happened that you learned from?": LEARNED,
            "What helped?": HELPED,
            "What got in the way?": IN_THE_WAY,
            "Who can see this?": "The alliance, anonymously",
        },
    )

    # 2. Bob types `/checkin <raw text>`: the form comes back pre-filled with it.
    before = len(live.slack.calls("views.open"))
    live.post(slash_command("/checkin", LEARNED, user_id=BOB))
    form = next_view(live, before)
    submit_form(live, form, BOB, {"What happened that you learned from?": LEARNED})

    # 3. Carol replies in the DM; Slack retries the event; she adds detail.
    reply = message_im(REPLY, user_id=CAROL, event_id="Ev0SCAN1", ts=REPLY_TS)
    live.post(reply)
    live.post(message_im(REPLY, user_id=CAROL, event_id="Ev0SCAN1", ts=REPLY_TS, retry_num=1))
    # Her confirmation itself: the count of every message would be met before it arrives.
    to_carol = live.slack.wait_for(
        "chat.postMessage", where=lambda c: c.params.get("channel") == f"D{CAROL}"
    )
    confirmation = to_carol[0]
    detail = button(confirmation.json_field("blocks"), "Add detail")
    before = len(live.slack.calls("views.open"))
    live.post(block_actions(detail["action_id"], detail["value"], user_id=CAROL))
    form = next_view(live, before)
    submit_form(
        live,
        form,
        CAROL,
        {
            "What happened that you learned from?": REPLY,
            "What got in the way?": IN_THE_WAY,
            "Who can see this?": "The alliance, with my name",
        },
    )

    # 3b. Carol then edits her DM reply in Slack, adding raw identifiers: the entry is edited,
    # redacted again.
    edited = message_changed_im(REPLY_TS, f"{REPLY} {HELPED}", REPLY, user_id=CAROL)
    assert live.post(edited).status_code == 200

    # 3c. Alice edits her anonymous learning from the App Home, with more raw identifiers.
    live.post(app_home_opened(ALICE))
    home = live.slack.wait_for("views.publish")[-1].json_field("view")
    edit = button(home["blocks"], "Edit")
    before = len(live.slack.calls("views.open"))
    live.post(
        block_actions(
            edit["action_id"],
            edit["value"],
            user_id=ALICE,
            container_type="view",
            view={"type": "home", "private_metadata": home["private_metadata"]},
        )
    )
    form = next_view(live, before)
    resp = live.post(
        view_submission(
            form["callback_id"],
            fill(form, {"What happened that you learned from?": f"{LEARNED} {IN_THE_WAY}"}),
            user_id=ALICE,
            private_metadata=form["private_metadata"],
        )
    )
    assert resp.status_code == 200 and resp.content in (b"", b"null"), resp.text
    # Add detail, the DM edit and the Home edit each really changed an entry.
    assert live.scalar("SELECT count(*) FROM audit_events WHERE action = 'checkin.edited'") == 3

    # 4. A mistake the form refuses (too long) — the error path must not log the text either.
    before = len(live.slack.calls("views.open"))
    live.post(slash_command("/checkin", user_id=DAN))
    form = next_view(live, before)
    resp = live.post(
        view_submission(
            View.CHECKIN,
            fill(form, {"What happened that you learned from?": LEARNED * 30}),
            user_id=DAN,
            private_metadata=form["private_metadata"],
        )
    )
    assert resp.json()["response_action"] == "errors"

    # 5. Alice exports her data; Bob deletes his.
    for user, label, name in ((ALICE, "Export my data", "x"), (BOB, "Delete my data", "d")):
        live.post(
            slash_command(
                "/learnloop", "privacy", user_id=user, response_url=live.slack.response_url(name)
            )
        )
        wait_until(lambda n=name: any(c.path.endswith(n) for c in live.slack.calls("webhook")))
        panel = [c for c in live.slack.calls("webhook") if c.path.endswith(name)][-1]
        element = button(panel.json_field("blocks"), label)
        live.post(
            block_actions(
                element["action_id"],
                user_id=user,
                response_url=live.slack.response_url(name + "2"),
            )
        )
    wait_until(lambda: len(live.slack.uploads()) == 1)
    wait_until(lambda: any(c.path.endswith("d2") for c in live.slack.calls("webhook")))
    confirm = [c for c in live.slack.calls("webhook") if c.path.endswith("d2")][-1]
    element = button(confirm.json_field("blocks"), "Delete my 1 learning and profile")
    live.post(
        block_actions(element["action_id"], user_id=BOB, response_url=live.slack.response_url("d3"))
    )
    wait_until(lambda: any(c.path.endswith("d3") for c in live.slack.calls("webhook")))

    # 6. Admin work: an agency export and the daily retention run.
    live.loop.services.privacy.export_agency("hospital", actor="cli:dpo")
    live.loop.services.privacy.purge_due(live.loop.services.privacy.clock())


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG, from before the app starts."""
    caplog.set_level(logging.DEBUG)
    return caplog


def test_no_raw_identifier_is_stored_or_logged(
    captured: pytest.LogCaptureFixture, make_live: Callable[..., Live]
) -> None:
    live = make_live()
    run_realistic_flow(live)

    # The run really carried raw identifiers through Slack and the app...
    sent = json.dumps([c.params for c in live.slack.calls("views.open")], ensure_ascii=False)
    assert RAW["NHS number"] in sent  # the `/checkin` pre-fill: slack_sdk logs such bodies
    assert live.scalar("SELECT count(*) FROM checkins") == 2  # Alice's and Carol's
    assert live.scalar("SELECT sum(redaction_count) FROM checkins") >= 8

    # ...yet none is in any table (including the audit log and the tombstones)...
    found = {table: search(dump) for table, dump in dump_database(live).items()}
    assert {t: f for t, f in found.items() if f} == {}
    stored = live.rows("SELECT answers FROM checkins ORDER BY id")
    assert "[NHS number]" in str(stored[0][0]) and "[postcode]" in str(stored[0][0])
    assert "10 people came at 10:30" in str(stored[0][0])  # ordinary text is kept

    # ...nor in any log line, at DEBUG, from any logger.
    slack_lines = [r for r in captured.records if r.name.startswith("learnloop.slack")]
    assert any("views.open" in r.getMessage() for r in slack_lines)  # DEBUG really was on
    assert any(r.name.startswith("learnloop.bolt") for r in captured.records)
    lines = [r.getMessage() + "\n" + (r.exc_text or "") for r in captured.records]
    leaks = {line[:200]: search(line) for line in lines if search(line)}
    assert leaks == {}
    assert search(captured.text) == []
    # No log line carries check-in text either (our own lines carry ids and counts).
    assert not any("food bank" in line or "Texting" in line for line in lines)


def test_a_deleted_persons_id_survives_only_in_the_audit_log(
    make_live: Callable[..., Live],
) -> None:
    live = make_live()
    run_realistic_flow(live)
    leftovers = {
        table: BOB in dump
        for table, dump in dump_database(live, skip=lambda t: t == "audit_events").items()
    }
    assert not any(leftovers.values()), leftovers
    audit = dump_database(live)["audit_events"]
    assert BOB in audit  # who asked for the deletion: the accountability record

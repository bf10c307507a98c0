"""Digests end to end: real services and database, Slack answered by the fake Web API."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from conftest import ALICE, BOB, CAROL, DAN, TEST_ALLIANCE, Clock_, Live, alliance_config
from slack_api import Call

from bot.domain.checkins import Source
from bot.domain.patterns import find_groups
from bot.render.digest import render_html
from storage.models import EscalationEventRow, EscalationRow

MANAGER = "U0MGR"
ADMIN = "U0ADMIN"
WEEK = "2026-W47"
# Thursday 19 November 2026, when people answer; the digests go out on Friday at 09:00.
THURSDAY = dt.datetime(2026, 11, 19, 15, 0, tzinfo=dt.UTC)
FRIDAY_AFTER = dt.datetime(2026, 11, 20, 9, 5, tzinfo=dt.UTC)
FRIDAY = {"days": ["fri"], "time": "09:00"}


def digest_alliance(**changes: Any) -> Any:
    """The test alliance with a steward channel, an agency channel and a manager."""
    agencies = copy.deepcopy(TEST_ALLIANCE["agencies"])
    agencies[0]["managers"] = [MANAGER]
    values: dict[str, Any] = {
        "agencies": agencies,
        "digests": [
            {"id": "alliance", "channel": "C0STEWARDS", "scope": "alliance", "schedule": FRIDAY},
            {"id": "housing", "channel": "C0HOUSING", "scope": "agency:housing"},
        ],
    }
    values.update(changes)
    return alliance_config(**values)


@pytest.fixture
def clock() -> Clock_:
    return Clock_(THURSDAY)


@pytest.fixture
def app(make_live: Callable[..., Live], clock: Clock_) -> Live:
    return make_live(alliance=digest_alliance(), clock=clock)


def share(
    live: Live,
    user: str,
    learned: str,
    visibility: str = "alliance",
    themes: list[str] | None = None,
    barrier: str = "",
) -> int:
    """Store a check-in through the real service, as the modal would."""
    saved = live.loop.services.checkins.submit(
        "slack",
        user,
        answers={"learned": learned, "got_in_the_way": barrier},
        themes=themes or [],
        visibility=visibility,
        source=Source.MODAL,
    )
    return saved.checkin_id


def posts_to(live: Live, channel: str) -> list[Call]:
    return [c for c in live.slack.calls("chat.postMessage") if c.params.get("channel") == channel]


def blocks_text(call: Call) -> str:
    return json.dumps(call.json_field("blocks"), ensure_ascii=False)


def a_week_of_learnings(live: Live) -> None:
    share(live, ALICE, "Temporary accommodation is full every Friday.", themes=["Housing"])
    share(live, BOB, "Team-only: our letters still read like threats.", visibility="team")
    share(
        live,
        CAROL,
        "No temporary accommodation available on Fridays again.",
        themes=["Housing", "Hospital discharge"],
    )
    share(live, DAN, "Asking where people will sleep tonight changed the plan.", "anonymous")


def test_the_worker_posts_each_digest_once_with_its_chart(app: Live, clock: Clock_) -> None:
    a_week_of_learnings(app)
    digests = app.loop.services.digests
    assert digests.send_due() == []  # Thursday: not due yet
    clock.now = FRIDAY_AFTER
    results = {r.destination_id: r.status for r in digests.send_due()}
    # The agency channel has no schedule of its own (only `digest send` posts it); the
    # manager's DM follows the alliance's Friday slot.
    assert results == {"alliance": "posted", f"manager:housing:{MANAGER}": "posted"}

    (steward_post,) = posts_to(app, "C0STEWARDS")
    text = blocks_text(steward_post)
    assert "What Test Alliance learned" in text
    assert "Learning seen in Council Housing and Hospital Discharge" in text
    assert "Asking where people will sleep tonight" in text and "Anonymous" in text
    assert "letters still read like threats" not in text  # team-only stays in Housing
    assert "Council Housing: fewer than 3 learnings from fewer than 3 people" in text

    # Every theme count is under 3: the text says so, and no chart draws a bar for one.
    assert "Housing* — fewer than 3: Council Housing fewer than 3" in text
    assert not [
        c
        for c in app.slack.calls("files.getUploadURLExternal")
        if "themes-by-agency" in c.params["filename"]
    ]

    (manager_post,) = posts_to(app, MANAGER)
    manager_text = blocks_text(manager_post)
    assert "What Council Housing learned" in manager_text
    assert "letters still read like threats" in manager_text
    # Hospital's anonymous learning was shared with the alliance: Housing reads it only in
    # "Across the alliance", after its own agency, and never with Hospital's name.
    own, across = manager_text.split("Across the alliance", 1)
    assert "sleep tonight" not in own
    assert "sleep tonight" in across
    assert "Hospital" not in across.split("sleep tonight", 1)[1].split('"}', 1)[0]

    # A second tick, a restart (a new service on the same database) or a retry posts nothing.
    assert digests.send_due() == []
    assert app.loop.services.digests.send(digests.destination("alliance"), WEEK).status == (
        "already"
    )
    assert len(posts_to(app, "C0STEWARDS")) == 1
    rows = app.rows("SELECT destination_id, period, status, message_ts FROM digests ORDER BY 1")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("alliance", WEEK, "posted"),
        (f"manager:housing:{MANAGER}", WEEK, "posted"),
    ]
    assert all(r[3] for r in rows)


def test_two_workers_at_once_post_one_digest(app: Live, clock: Clock_) -> None:
    a_week_of_learnings(app)
    clock.now = FRIDAY_AFTER
    digests = app.loop.services.digests
    dest = digests.destination("alliance")
    app.slack.set_latency(0.2)  # keep the first post in flight while the second worker tries
    results: list[str] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        results.append(digests.send(dest, WEEK).status)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["already", "posted"]
    assert len(posts_to(app, "C0STEWARDS")) == 1


def test_a_private_channel_waits_for_an_invite_and_admins_hear_once(
    app: Live, clock: Clock_, caplog: pytest.LogCaptureFixture
) -> None:
    a_week_of_learnings(app)
    clock.now = FRIDAY_AFTER
    app.slack.fail_when(
        "chat.postMessage", lambda p: p.get("channel") == "C0STEWARDS", "channel_not_found"
    )
    digests = app.loop.services.digests
    dest = digests.destination("alliance")
    with caplog.at_level(logging.WARNING):
        assert digests.send(dest, WEEK).status == "waiting"
    assert "LearnLoop is not in channel C0STEWARDS" in caplog.text
    (admin_dm,) = posts_to(app, ADMIN)
    assert "<#C0STEWARDS>" in admin_dm.params["text"] and "/invite" in admin_dm.params["text"]
    assert app.scalar("SELECT status FROM digests WHERE destination_id = 'alliance'") == "waiting"

    # The worker keeps trying; admins are not told again.
    assert [r.status for r in digests.send_due() if r.destination_id == "alliance"] == ["waiting"]
    assert len(posts_to(app, ADMIN)) == 1

    app.slack.clear_faults()  # someone invited the bot
    # Waiting digests are retried every few minutes, not on every tick.
    assert [r for r in digests.send_due() if r.destination_id == "alliance"] == []
    clock.advance(minutes=5)
    assert [r.status for r in digests.send_due() if r.destination_id == "alliance"] == ["posted"]
    assert len([c for c in posts_to(app, "C0STEWARDS") if c.json_field("blocks")]) == 3
    assert app.scalar("SELECT status FROM digests WHERE destination_id = 'alliance'") == "posted"


def test_a_public_channel_is_joined_and_the_digest_posted(app: Live, clock: Clock_) -> None:
    a_week_of_learnings(app)
    clock.now = FRIDAY_AFTER
    app.slack.queue("chat.postMessage", {"ok": False, "error": "not_in_channel"})
    digests = app.loop.services.digests
    assert digests.send(digests.destination("alliance"), WEEK).status == "posted"
    (join,) = app.slack.calls("conversations.join")
    assert join.params["channel"] == "C0STEWARDS"
    assert len(posts_to(app, "C0STEWARDS")) == 2  # refused, then posted
    assert posts_to(app, ADMIN) == []


def test_a_transient_failure_is_retried_on_the_next_tick(app: Live, clock: Clock_) -> None:
    a_week_of_learnings(app)
    clock.now = FRIDAY_AFTER
    app.slack.fail_when(
        "chat.postMessage", lambda p: p.get("channel") == "C0STEWARDS", "internal_error"
    )
    digests = app.loop.services.digests
    assert digests.send(digests.destination("alliance"), WEEK).status == "retry"
    app.slack.clear_faults()
    assert digests.send(digests.destination("alliance"), WEEK).status == "posted"


def test_an_anonymous_author_appears_in_no_message_file_or_report(app: Live, clock: Clock_) -> None:
    share(app, ALICE, "Temporary accommodation is full every Friday.", "anonymous", ["Housing"])
    share(app, BOB, "Named: the food bank is where people talk.", "alliance", ["Housing"])
    share(app, CAROL, "Temporary accommodation is full on Fridays too.", "alliance", ["Housing"])
    share(app, DAN, "Temporary accommodation full every Friday night.", "alliance", ["Housing"])
    with app.loop.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE members SET display_name = 'Alice Secret' WHERE platform_user_id = 'U0ALICE'"
        )
        conn.exec_driver_sql(
            "UPDATE members SET display_name = 'Bob Named' WHERE platform_user_id = 'U0BOB'"
        )
    alice_id = app.scalar("SELECT id FROM members WHERE platform_user_id = 'U0ALICE'")
    app.slack.reset()
    clock.now = FRIDAY_AFTER
    digests = app.loop.services.digests
    for dest in digests.destinations():
        assert digests.send(dest, WEEK).status == "posted"
    view, charts = digests.report(dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    page = render_html(view, charts)

    sent = [c.body.decode("utf-8", "replace") for c in app.slack.calls()]
    files = [u.data.decode("latin-1") for u in app.slack.uploads()]
    for output in [*sent, *files, page]:
        assert "U0ALICE" not in output and "Alice Secret" not in output
        assert f'"member_id": {alice_id}' not in output
    # The named author is attributed where they chose to be, so this test can fail.
    assert any("Bob Named" in body for body in sent) and "Bob Named" in page
    assert any("Anonymous" in body for body in sent)


def test_barriers_from_the_register_appear_you_said_we_did(app: Live, clock: Clock_) -> None:
    a_week_of_learnings(app)
    with app.loop.services.uow() as uow:
        old = THURSDAY - dt.timedelta(days=40)
        resolved = EscalationRow(
            title="Discharge waits for a housing assessment",
            description="…",
            agencies=["housing", "hospital"],
            level="alliance",
            status="resolved",
            outcome="Housing now assesses on the ward.",
            created_at=old,
            updated_at=THURSDAY,
        )
        stale = EscalationRow(
            title="Sober-first rule for assessments",
            description="…",
            agencies=["hospital"],
            level="agency",
            status="open",
            created_at=old,
            updated_at=old,
        )
        uow.session.add_all([resolved, stale])
        uow.session.flush()
        uow.session.add(
            EscalationEventRow(
                escalation_id=resolved.id,
                kind="resolved",
                from_status="in_progress",
                to_status="resolved",
                at=THURSDAY,
            )
        )
        uow.commit()
    clock.now = FRIDAY_AFTER
    digests = app.loop.services.digests
    view = digests.build(digests.destination("alliance"), WEEK)
    assert [(b.title, b.note) for b in view.barriers.resolved] == [
        ("Discharge waits for a housing assessment", "Housing now assesses on the ward.")
    ]
    assert [b.title for b in view.barriers.stale] == ["Sober-first rule for assessments"]
    housing = digests.build(digests.destination("housing"), WEEK)
    assert housing.barriers.stale == ()  # the stale one only affects the hospital


def test_an_empty_week_still_builds(app: Live, clock: Clock_) -> None:
    digests = app.loop.services.digests
    view = digests.build(digests.destination("alliance"), "2026-W10")
    assert view.learnings_count == 0 and view.barriers.empty and not view.patterns


def test_the_alliance_file_adds_its_own_words_to_the_pattern_finder(
    make_live: Callable[..., Live], clock: Clock_
) -> None:
    housing = "Residents moved to Holly House went without their methadone."
    hospital = "Patients discharged to temporary accommodation missed methadone doses."
    # With the built-in table alone they share one term ("methadone"): not a pattern.
    assert [len(g.members) for g in find_groups([housing, hospital])] == [1, 1]
    local = digest_alliance(pattern_terms={"temporary accommodation": ["Holly House"]})
    app = make_live(alliance=local, clock=clock)
    share(app, ALICE, housing)
    share(app, CAROL, hospital)
    clock.now = FRIDAY_AFTER
    digests = app.loop.services.digests
    (pattern,) = digests.build(digests.destination("alliance"), WEEK).patterns
    assert pattern.agencies == ("Council Housing", "Hospital Discharge")
    assert "methadone" in pattern.label
    # The board's themes page finds the same pattern, several weeks at a time.
    board = digests.board_destination("alliance")
    earlier = digests.period(board, "2026-W40")
    assert digests.week_patterns(board, [digests.period(board, WEEK), earlier]) == [
        (pattern,),
        (),
    ]

"""The Learning Board's kept weeks never show what a change to a check-in no longer allows.

Finished weeks' theme counts and shared patterns are kept (`storage/kept_weeks.py`). Each write
that changes or removes a check-in — deleting an entry, changing who can see it, editing it
(form or chat reply), erasing a person, the retention purge, a person's shown name changing —
must drop the weeks it was counted in. For each, on SQLite and PostgreSQL: the worker keeps
the weeks, the change is made through the real service, and then every audience's themes page
shows, week by week, either exactly what is worked out fresh from the database (each week's
digest: its theme lines and its patterns) or "still being worked out"; after the worker's next
pass it equals the fresh page entirely.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, cast

import pytest
from conftest import test_settings as settings_for
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.alliance import parse_alliance
from bot.app import LearnLoop, build
from bot.domain.checkins import Source
from bot.ports import Messenger, MessengerError
from bot.services.board import Viewer
from bot.views.board import ThemesView
from storage.models import BoardKeptWeekRow, CheckinRow, MemberRow

# Thursday 19 November 2026: the running week is W47 (16–22 November, Europe/London = UTC).
NOW = dt.datetime(2026, 11, 19, 15, 0, tzinfo=dt.UTC)
SUNDAY_W46 = dt.datetime(2026, 11, 15, 20, 0, tzinfo=dt.UTC)  # still editable on the 19th
W45 = dt.datetime(2026, 11, 4, 10, 0, tzinfo=dt.UTC)
W41 = dt.datetime(2026, 10, 7, 10, 0, tzinfo=dt.UTC)  # past one month's retention
SAME = [
    "Temporary accommodation is full every Friday",
    "No temporary accommodation available on Fridays again",
    "Temporary accommodation full again on Friday",
]
OTHER = "Joint visits with the ward saved a week of waiting"
EDITED = "Letters still read like threats to tenants"
CHAIR = "chair@board.example"
WEEKS = 8


class Unconnected:
    """A messenger that reaches nobody: nothing is posted in these tests."""

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> NoReturn:
            raise MessengerError("not_connected", name)

        return refuse


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def alliance() -> Any:
    return parse_alliance(
        {
            "alliance": {
                "name": "Kept Alliance",
                "timezone": "Europe/London",
                "suppress_below": 1,  # every count shows: a stale one cannot hide
                "retention_months": 1,
            },
            "themes": ["Housing", "Mental health"],
            "roles": {"stewards": ["USTEWARD"]},
            "agencies": [
                {"id": "alpha", "name": "Agency Alpha", "members": ["UALPHAA", "UALPHAB"]},
                {"id": "bravo", "name": "Agency Bravo", "members": ["UBRAVOA", "UBRAVOB"]},
            ],
            "people": [
                {"email": CHAIR, "name": "Pat Chair", "role": "board"},
                {"email": "lead@alpha.example", "name": "Jo Lead", "role": "manager:alpha"},
            ],
            "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
            "digests": [{"id": "alliance", "channel": "C0STEWARDS", "scope": "alliance"}],
        }
    )


VIEWERS = [
    Viewer(f"email:{CHAIR}", "Pat Chair", "board"),
    Viewer("email:lead@alpha.example", "Jo Lead", "manager", "alpha"),
]


@pytest.fixture
def loop(database_url: str) -> Iterator[tuple[LearnLoop, Clock, dict[str, int]]]:
    """The alliance with entries in two finished weeks, one past retention, and this week."""
    clock = Clock()
    settings = settings_for(database_url, "http://127.0.0.1:9/api/").model_copy(
        update={"board_secret_key": SecretStr("kept-weeks-test-key-0123456789")}
    )
    app = build(
        settings,
        alliance=alliance(),
        clock=clock,
        messenger=cast(Messenger, Unconnected()),
        with_slack=False,
    )
    checkins = app.services.checkins
    ids: dict[str, int] = {}

    def add(name: str, user: str, at: dt.datetime, text: str, visibility: str = "alliance") -> None:
        clock.now = at
        saved = checkins.submit(
            "slack",
            user,
            answers={"learned": text},
            themes=["Housing"] if "accommodation" in text else ["Mental health"],
            visibility=visibility,
            source=Source.MODAL,
        )
        ids[name] = saved.checkin_id

    add("old", "UALPHAA", W41, SAME[0])
    add("old2", "UBRAVOA", W41 + dt.timedelta(minutes=5), SAME[1])
    add("w45", "UBRAVOB", W45, OTHER)
    add("alpha", "UALPHAA", SUNDAY_W46, SAME[0])
    add("bravo", "UBRAVOA", SUNDAY_W46 + dt.timedelta(minutes=5), SAME[1])
    add("anon", "UBRAVOB", SUNDAY_W46 + dt.timedelta(minutes=10), SAME[2], "anonymous")
    add("now", "UALPHAB", NOW - dt.timedelta(hours=2), OTHER)
    # A chat reply (team only), then shared: `edit_reply` edits it by its message.
    clock.now = SUNDAY_W46 + dt.timedelta(minutes=20)
    reply = checkins.submit_reply("slack", "UALPHAB", SAME[2], "Ev1", source_message="D1:1.1")
    app.services.entries.change_visibility("slack", "UALPHAB", reply.checkin_id, "alliance")
    ids["reply"] = reply.checkin_id
    clock.now = NOW
    yield app, clock, ids
    app.engine.dispose()


def fresh(app: LearnLoop, viewer: Viewer) -> list[tuple[Any, Any]]:
    """Each week's (theme lines, patterns) worked out from the database now: its digest's."""
    board, digests = app.services.board, app.services.digests
    dest = digests.board_destination(viewer.scope)
    periods = board._weeks(board.clock(), WEEKS)
    lines = digests.week_themes(dest, periods)
    return [
        (tuple(week_lines), digests.build(dest, p).patterns)
        for p, week_lines in zip(periods, lines, strict=True)
    ]


def shown(view: ThemesView) -> list[tuple[Any, Any]]:
    return [(w.lines, None if w.patterns_pending else w.patterns) for w in view.weeks]


def kept_rows(app: LearnLoop) -> int:
    with app.services.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(BoardKeptWeekRow)) or 0)


def keep_everything(app: LearnLoop) -> None:
    board = app.services.board
    while board.keep_due(board.clock(), dt.timedelta(hours=1)):
        pass


def rename(app: LearnLoop, user: str, name: str) -> None:
    """A person's shown name changes (Teams sends it with each activity; here by hand)."""
    with app.services.uow() as uow:
        member = uow.session.scalar(select(MemberRow).where(MemberRow.platform_user_id == user))
        assert member is not None
        member.display_name = name
        uow.commit()


Change = Callable[[LearnLoop, dict[str, int]], None]
CHANGES: dict[str, Change] = {
    "entry deleted": lambda app, ids: (
        app.services.entries.delete("slack", "UALPHAA", ids["alpha"]) and None
    ),
    "shared with the team only": lambda app, ids: (
        app.services.entries.change_visibility("slack", "UBRAVOA", ids["bravo"], "team") and None
    ),
    "anonymous entry deleted": lambda app, ids: (
        app.services.entries.delete("slack", "UBRAVOB", ids["anon"]) and None
    ),
    "edited in the form": lambda app, ids: (
        app.services.checkins.submit(
            "slack",
            "UALPHAA",
            answers={"learned": EDITED},
            themes=["Mental health"],
            visibility="alliance",
            source=Source.MODAL,
            checkin_id=ids["alpha"],
        )
        and None
    ),
    "chat reply edited": lambda app, ids: (
        app.services.checkins.edit_reply("slack", "UALPHAB", "D1:1.1", EDITED) and None
    ),
    "person erased": lambda app, ids: (
        app.services.privacy.delete_member("slack", "UBRAVOA") and None
    ),
    "retention purge": lambda app, ids: (
        app.services.privacy.purge(app.services.board.clock()) and None
    ),
    "shown name changed": lambda app, ids: rename(app, "UALPHAA", "Alex Renamed"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_after_a_change_the_kept_weeks_show_only_what_is_worked_out_fresh(
    loop: tuple[LearnLoop, Clock, dict[str, int]], change: str
) -> None:
    app, _, ids = loop
    if change == "shown name changed":
        rename(app, "UALPHAA", "Alex Before")
    keep_everything(app)
    assert kept_rows(app) > 0
    before = {v.scope: fresh(app, v) for v in VIEWERS}
    for viewer in VIEWERS:
        assert shown(app.services.board.themes(viewer, WEEKS)) == before[viewer.scope]

    CHANGES[change](app, ids)

    after = {v.scope: fresh(app, v) for v in VIEWERS}
    assert after != before, "the change must change what someone reads (else this proves nothing)"
    for viewer in VIEWERS:
        page = shown(app.services.board.themes(viewer, WEEKS))
        for week, (got, want) in enumerate(zip(page, after[viewer.scope], strict=True)):
            assert got[0] == want[0], (change, viewer.scope, week)  # counts: never stale
            assert got[1] is None or got[1] == want[1], (change, viewer.scope, week)
    keep_everything(app)
    for viewer in VIEWERS:
        assert shown(app.services.board.themes(viewer, WEEKS)) == after[viewer.scope]


def test_with_nothing_kept_the_page_works_out_the_running_weeks_patterns_only(
    loop: tuple[LearnLoop, Clock, dict[str, int]],
) -> None:
    app, _, _ = loop
    for viewer in VIEWERS:
        view = app.services.board.themes(viewer, WEEKS)
        want = fresh(app, viewer)
        assert [w.lines for w in view.weeks] == [lines for lines, _ in want]
        assert not view.weeks[0].patterns_pending
        assert view.weeks[0].patterns == want[0][1]
        assert all(w.patterns_pending for w in view.weeks[1:])
    # The finished weeks' counts were kept on that first view; their patterns are the worker's.
    with app.services.uow() as uow:
        kinds = dict(
            uow.session.execute(
                select(BoardKeptWeekRow.kind, func.count()).group_by(BoardKeptWeekRow.kind)
            ).all()
        )
    assert kinds == {"counts": WEEKS - 1, "patterns": len(VIEWERS)}  # + each running week
    keep_everything(app)
    for viewer in VIEWERS:
        assert shown(app.services.board.themes(viewer, WEEKS)) == fresh(app, viewer)


def test_a_week_claimed_before_a_change_and_filled_after_it_is_not_kept(
    loop: tuple[LearnLoop, Clock, dict[str, int]],
) -> None:
    """The race the claim exists for: a week's check-ins read, then an entry of that week
    deleted, then the week's figures stored. The deletion drops the claim, so nothing is."""
    app, clock, ids = loop
    board = app.services.board
    dest = app.services.digests.board_destination("alliance")
    week = board._weeks(clock(), 2)[1]  # W46
    claims = board._claim([week], "patterns", dest, clock())
    assert claims
    worked_out = app.services.digests.week_patterns(dest, [week])[0]
    assert worked_out, "the week has a shared pattern to go stale"
    app.services.entries.delete("slack", "UALPHAA", ids["alpha"])
    board._fill(claims, {week.start: []})
    assert kept_rows(app) == 0
    view = board.themes(VIEWERS[0], WEEKS)
    assert view.weeks[1].patterns_pending


def test_a_new_check_in_keeps_the_finished_weeks(
    loop: tuple[LearnLoop, Clock, dict[str, int]],
) -> None:
    """A check-in saved now belongs to the running week: the finished weeks stay kept."""
    app, _, _ = loop
    keep_everything(app)
    kept = kept_rows(app)
    app.services.checkins.submit(
        "slack",
        "UBRAVOB",
        answers={"learned": OTHER},
        themes=["Housing"],
        visibility="alliance",
        source=Source.MODAL,
    )
    assert kept_rows(app) == kept
    with app.services.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CheckinRow)) == 9

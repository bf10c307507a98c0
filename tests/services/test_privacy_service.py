"""Export, erasure, tombstones, retention and the audit log, through the real services.

Direct service calls on each backend, with a recording messenger and a settable clock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import ALICE, BOB, CAROL, Clock_, alliance_config
from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from bot.app import LearnLoop, build
from bot.domain.checkins import Source
from bot.domain.errors import DataDeleted, NotAMember, NotFound
from bot.domain.privacy import subject_key
from bot.ports import MessageRef
from bot.settings import Settings
from bot.views.privacy import PrivacyStage
from storage.models import (
    AuditEventRow,
    Base,
    CheckinRow,
    EscalationRow,
    PromptRow,
    TombstoneRow,
)

UTC = dt.UTC
START = dt.datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@dataclass
class RecordingMessenger:
    """Stands in for Slack: records what would be sent."""

    files: list[tuple[str, str, bytes, str]] = field(default_factory=list)
    channels: dict[str, list[str]] = field(default_factory=dict)
    sent: list[tuple[str, Any]] = field(default_factory=list)

    def send_file(self, user_id: str, filename: str, content: bytes, comment: str) -> None:
        self.files.append((user_id, filename, content, comment))

    def channel_members(self, channel: str) -> list[str]:
        return list(self.channels.get(channel, []))

    def send(self, to: str, message: Any, *, paced: bool = False) -> MessageRef:
        # Only the prompt fan-out is paced: that is what the test looks for.
        self.sent.append(("prompt" if paced else "message", to))
        return MessageRef(channel=f"D{to}", ts=f"{len(self.sent)}.0001")

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self.sent.append((name, args))


@dataclass
class App:
    loop: LearnLoop
    clock: Clock_
    messenger: RecordingMessenger

    @property
    def services(self) -> Any:
        return self.loop.services

    def checkin(self, user: str, learned: str, visibility: str = "team", **answers: str) -> int:
        saved = self.services.checkins.submit(
            "slack",
            user,
            answers={"learned": learned, **answers},
            themes=["Housing"],
            visibility=visibility,
            source=Source.MODAL,
        )
        return saved.checkin_id

    def count(self, model: type[Any], *where: Any) -> int:
        with self.loop.services.uow() as uow:
            return uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def member_id(self, user: str) -> int | None:
        with self.loop.services.uow() as uow:
            row = uow.members.by_platform_id("slack", user)
            return row.id if row else None


def make_app(database_url: str, **alliance_changes: Any) -> App:
    clock = Clock_(START)
    messenger = RecordingMessenger()
    loop = build(
        Settings(_env_file=None, database_url=database_url),
        alliance=alliance_config(**alliance_changes),
        clock=clock,
        messenger=messenger,  # type: ignore[arg-type]
        with_slack=False,
    )
    return App(loop, clock, messenger)


@pytest.fixture
def app(database_url: str) -> Iterator[App]:
    made = make_app(database_url)
    yield made
    made.loop.engine.dispose()


def raise_barrier(app: App, user: str, title: str = "No beds on Fridays") -> int:
    with app.services.uow() as uow:
        row = EscalationRow(
            title=title,
            description="Temporary accommodation is full every Friday.",
            raised_by_id=app.member_id(user),
            agencies=["housing"],
            level="agency",
            created_at=app.clock(),
            updated_at=app.clock(),
        )
        uow.session.add(row)
        uow.session.flush()
        uow.commit()
        return row.id


# ------------------------------------------------------------------------- export


def test_own_export_has_everything_including_anonymous_entries(app: App) -> None:
    app.checkin(ALICE, "Met at the food bank", "team", helped="Outreach came along")
    app.checkin(ALICE, "Letters read like threats", "anonymous")
    app.checkin(BOB, "Bob's learning", "alliance")
    raise_barrier(app, ALICE)
    app.services.members.pause("slack", ALICE, START + dt.timedelta(days=14))

    doc = app.services.privacy.export_member("slack", ALICE, actor="cli:dpo")

    assert doc["format"] == "learnloop-export/1"
    assert doc["subject"]["user_id"] == ALICE
    assert doc["subject"]["agency_name"] == "Council Housing"
    assert doc["subject"]["paused_until"].startswith("2026-12-15")
    learned = [c["answers"]["learned"] for c in doc["checkins"]]
    assert learned == ["Met at the food bank", "Letters read like threats"]  # not Bob's
    anonymous = doc["checkins"][1]
    assert anonymous["visibility"] == "anonymous"
    assert anonymous["visibility_label"] == "The alliance, anonymously"
    assert {c["byline"] for c in doc["checkins"]} == {"You"}
    assert doc["checkins"][0]["themes"] == ["Housing"]
    assert doc["checkins"][0]["questions"][0]["id"] == "learned"
    assert [b["title"] for b in doc["barriers_raised"]] == ["No beds on Fridays"]
    assert [a["action"] for a in doc["activity"]] == ["prompts.paused"]
    json.dumps(doc)  # serialisable as it is
    with app.services.uow() as uow:
        [event] = [e for e in uow.audit.since() if e.action == "privacy.exported"]
        assert (event.actor, event.target) == ("cli:dpo", f"member:{app.member_id(ALICE)}")
        assert event.details == {"checkins": 2}


def test_agency_export_never_ties_an_anonymous_entry_to_its_author(app: App) -> None:
    app.checkin(ALICE, "Named learning", "alliance")
    app.checkin(ALICE, "Anonymous learning", "anonymous")
    app.checkin(BOB, "Team learning", "team")
    app.checkin(CAROL, "Another agency's learning", "alliance")

    doc = app.services.privacy.export_agency("housing", actor="cli:dpo")

    by_text = {c["answers"]["learned"]: c for c in doc["checkins"]}
    assert set(by_text) == {"Named learning", "Anonymous learning", "Team learning"}
    assert by_text["Named learning"]["author"] == {"platform": "slack", "user_id": ALICE}
    anonymous = by_text["Anonymous learning"]
    assert anonymous["byline"] == "Anonymous" and "author" not in anonymous
    assert ALICE not in json.dumps(anonymous)
    assert by_text["Team learning"]["author"]["user_id"] == BOB
    assert {m["user_id"] for m in doc["members"]} == {ALICE, BOB}
    with pytest.raises(NotFound, match="known: housing, hospital"):
        app.services.privacy.export_agency("nowhere", actor="cli:dpo")


def test_self_service_export_is_sent_to_the_person_and_audited(app: App) -> None:
    app.checkin(ALICE, "Texting works better than calling", "anonymous")
    view = app.services.privacy.send_export("slack", ALICE)
    assert view.stage is PrivacyStage.EXPORTED
    assert view.filename == "learnloop-my-data-2026-12-01.json"
    [(user, filename, content, _comment)] = app.messenger.files
    assert (user, filename) == (ALICE, view.filename)
    doc = json.loads(content)
    assert doc["checkins"][0]["answers"]["learned"] == "Texting works better than calling"
    with app.services.uow() as uow:
        [event] = [e for e in uow.audit.since() if e.action == "privacy.exported"]
        assert event.actor == f"slack:{ALICE}" and event.details["delivered"] == "direct message"


def test_strangers_have_nothing_to_export(app: App) -> None:
    with pytest.raises(NotAMember):
        app.services.privacy.export_member("slack", "U0STRANGER", actor="cli:dpo")
    view = app.services.privacy.panel("slack", "U0STRANGER")
    assert not view.is_member and view.deleted_on is None


# ------------------------------------------------------------------------- erasure


def test_delete_removes_checkins_profile_and_prompts_and_keeps_barriers_unattributed(
    app: App,
) -> None:
    app.services.prompts.send("weekly", now=True)
    app.checkin(ALICE, "One", "team")
    app.checkin(ALICE, "Two", "anonymous")
    bob_checkin = app.checkin(BOB, "Bob's", "team")
    barrier = raise_barrier(app, ALICE)
    alice = app.member_id(ALICE)

    confirm = app.services.privacy.confirm_delete("slack", ALICE)
    assert (confirm.checkins, confirm.anonymous, confirm.barriers_raised) == (2, 1, 1)

    view = app.services.privacy.delete_member("slack", ALICE)

    assert view.stage is PrivacyStage.DELETED
    assert (view.checkins, view.prompts, view.barriers_raised) == (2, 1, 1)
    assert app.member_id(ALICE) is None
    assert app.count(CheckinRow, CheckinRow.member_id == alice) == 0
    assert app.count(CheckinRow) == 1  # Bob's stays
    assert app.count(CheckinRow, CheckinRow.id == bob_checkin) == 1
    assert app.count(PromptRow, PromptRow.member_id == alice) == 0
    assert app.count(PromptRow) == 3  # everyone else's prompts stay
    with app.services.uow() as uow:
        kept = uow.session.get(EscalationRow, barrier)
        assert kept is not None and kept.raised_by_id is None
        assert kept.title == "No beds on Fridays"
        [tomb] = uow.session.scalars(select(TombstoneRow)).all()
        assert tomb.subject_key == subject_key("slack", ALICE)
        [event] = [e for e in uow.audit.since() if e.action == "privacy.deleted"]
        assert event.target == f"member:{alice}"
        assert event.details == {"checkins": 2, "prompts": 1, "barriers_unattributed": 1}


def test_nothing_brings_a_deleted_person_back_until_they_start_again(app: App) -> None:
    app.checkin(ALICE, "Before", "team")
    app.services.privacy.delete_member("slack", ALICE)

    # A restart syncs the config, which lists Alice; a prompt run lists her too.
    app.services.members.sync_config()
    report = app.services.prompts.send("weekly", now=True)[0]
    assert report.sent == 3 and ("prompt", ALICE) not in app.messenger.sent
    assert app.member_id(ALICE) is None

    # A retried Slack event (same event id) or a new reply is not stored.
    with pytest.raises(DataDeleted, match="Start again"):
        app.services.checkins.submit_reply("slack", ALICE, "Retried reply", "Ev0RETRY")
    with pytest.raises(DataDeleted):
        app.services.checkins.question_set_for("slack", ALICE)
    with app.services.uow() as uow, pytest.raises(DataDeleted):
        uow.members.ensure("slack", ALICE, "housing")  # the repository's safety net
    assert app.count(CheckinRow) == 0 and app.member_id(ALICE) is None

    # Deleting again is harmless; the panel says what happened.
    again = app.services.privacy.delete_member("slack", ALICE)
    assert again.stage is PrivacyStage.DELETED and again.checkins == 0
    panel = app.services.privacy.panel("slack", ALICE)
    assert not panel.is_member and panel.deleted_on == dt.date(2026, 12, 1)

    restarted = app.services.privacy.start_again("slack", ALICE)
    assert restarted.is_member
    assert app.member_id(ALICE) is not None
    assert app.count(TombstoneRow) == 0
    app.services.checkins.submit_reply("slack", ALICE, "Fresh start", "Ev0NEW")
    assert app.count(CheckinRow) == 1
    actions = [e.action for e in app.services.privacy.audit_log(actor="t")]
    assert actions == ["privacy.deleted", "privacy.restarted"]


def test_channel_members_are_found_again_when_they_start_again(database_url: str) -> None:
    agencies = [
        {"id": "housing", "name": "Council Housing", "channel": "C0HOUSING"},
        {"id": "hospital", "name": "Hospital Discharge", "members": [CAROL]},
    ]
    app = make_app(database_url, agencies=agencies)
    try:
        app.messenger.channels["C0HOUSING"] = [ALICE]
        app.services.prompts.send("weekly", now=True)
        app.services.privacy.delete_member("slack", ALICE)
        app.services.prompts.send("weekly", now=True)  # the channel still lists her
        assert app.member_id(ALICE) is None
        assert app.services.privacy.start_again("slack", ALICE).is_member
        with app.services.uow() as uow:
            assert uow.members.by_platform_id("slack", ALICE).agency_id == "housing"
    finally:
        app.loop.engine.dispose()


def test_only_a_member_or_a_deleted_person_can_delete(app: App) -> None:
    with pytest.raises(NotAMember):
        app.services.privacy.delete_member("slack", "U0STRANGER")
    assert app.count(TombstoneRow) == 0


# ------------------------------------------------------------------------- retention


def test_purge_deletes_checkins_and_prompts_past_retention(app: App) -> None:
    # Retention is 24 months by default; "now" is 1 Dec 2026, so the cutoff is 1 Dec 2024.
    ages = {
        "25 months old": dt.datetime(2024, 11, 1, tzinfo=UTC),
        "a second too old": dt.datetime(2024, 12, 1, 9, 59, 59, tzinfo=UTC),
        "exactly at the cutoff": dt.datetime(2024, 12, 1, 10, 0, tzinfo=UTC),
        "23 months old": dt.datetime(2025, 1, 1, tzinfo=UTC),
        "this week": dt.datetime(2026, 11, 30, tzinfo=UTC),
    }
    for label, when in ages.items():
        app.clock.now = when
        app.services.prompts.send("weekly", now=True)
        app.checkin(ALICE, label)
    app.clock.now = START

    preview = app.services.privacy.purge(dry_run=True, actor="cli:ops")
    assert (preview.checkins, preview.prompts) == (2, 8)
    assert app.count(CheckinRow) == 5  # a dry run deletes nothing

    report = app.services.privacy.purge()
    assert report.cutoff == dt.datetime(2024, 12, 1, 10, 0, tzinfo=UTC)
    assert (report.checkins, report.prompts, report.dry_run) == (2, 8, False)
    with app.services.uow() as uow:
        left = [r.answers["learned"] for r in uow.session.scalars(select(CheckinRow))]
        assert sorted(left) == ["23 months old", "exactly at the cutoff", "this week"]
        events = [(e.actor, e.action, e.details["checkins"]) for e in uow.audit.since()]
    assert events == [("cli:ops", "retention.previewed", 2), ("worker", "retention.purged", 2)]
    # Run again the same day: nothing more to do, and the run is still recorded.
    assert app.services.privacy.purge().checkins == 0


def test_the_worker_purges_once_a_day_after_two_in_the_morning(app: App) -> None:
    """The worker calls purge_due every minute; the audit log makes it one run a day."""
    app.clock.now = dt.datetime(2024, 1, 1, tzinfo=UTC)
    app.checkin(ALICE, "Old enough to go")
    london = ZoneInfo("Europe/London")

    def tick(local: str) -> Any:
        now = dt.datetime.fromisoformat(local).replace(tzinfo=london).astimezone(UTC)
        app.clock.now = now
        return app.services.privacy.purge_due(now)

    first = tick("2026-07-01T02:00")  # summer time: 01:00 UTC
    assert first is not None and first.checkins == 1
    assert tick("2026-07-01T02:01") is None
    assert tick("2026-07-01T23:59") is None
    assert tick("2026-07-02T01:59") is None
    assert tick("2026-07-02T02:00") is not None
    # A worker that starts late in the day still runs that day.
    assert tick("2026-07-04T15:30") is not None
    assert tick("2026-07-04T15:31") is None
    # A person's manual run doesn't stand in for the worker's.
    app.services.privacy.purge(actor="cli:ops")
    assert tick("2026-07-05T02:00") is not None
    runs = [e for e in app.services.privacy.audit_log(actor="t") if e.actor == "worker"]
    assert len(runs) == 3 + 1


def test_retention_follows_the_config(database_url: str) -> None:
    app = make_app(
        database_url,
        alliance={"name": "Short memory", "timezone": "Europe/London", "retention_months": 6},
    )
    try:
        app.clock.now = START - dt.timedelta(days=200)
        app.checkin(ALICE, "Old")
        app.clock.now = START - dt.timedelta(days=100)
        app.checkin(ALICE, "Recent")
        app.clock.now = START
        report = app.services.privacy.purge()
        assert report.retention_months == 6 and report.checkins == 1
    finally:
        app.loop.engine.dispose()


# ------------------------------------------------------------------------- the audit log


def test_audit_log_is_append_only_in_the_database(app: App) -> None:
    app.services.privacy.purge()
    with app.services.uow() as uow:
        [row] = uow.audit.since()
        row_id = row.id
    for statement in (
        update(AuditEventRow).where(AuditEventRow.id == row_id).values(actor="someone else"),
        delete(AuditEventRow).where(AuditEventRow.id == row_id),
    ):
        with app.loop.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(statement)
    assert app.count(AuditEventRow) == 1


def test_audit_since_filters_and_reading_is_recorded(app: App) -> None:
    app.services.privacy.purge(actor="a")
    later = START + dt.timedelta(hours=1)  # the purge is recorded at the service's time
    assert app.services.privacy.audit_log(actor="b", since=later) == []
    entries = app.services.privacy.audit_log(actor="c")
    assert [e.action for e in entries] == ["retention.purged", "audit.viewed"]
    assert entries[1].actor == "b"


# ------------------------------------------------------------------------- the schema


def test_every_reference_to_a_member_lets_them_be_erased(engine: Any) -> None:
    """A foreign key to members without ON DELETE would block erasure or keep the link."""
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "members":
                assert fk.ondelete in ("CASCADE", "SET NULL"), f"{table.name}.{fk.parent.name}"
    # ...and the database agrees with the models.
    inspector = inspect(engine)
    for name in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(name):
            if fk["referred_table"] == "members":
                rule = (fk.get("options") or {}).get("ondelete", "")
                assert rule.upper() in ("CASCADE", "SET NULL"), f"{name}: {fk}"


def test_tombstones_hold_no_platform_ids(app: App) -> None:
    app.services.privacy.delete_member("slack", ALICE)
    with app.loop.engine.connect() as conn:
        dump = json.dumps(
            [list(r) for r in conn.execute(text("SELECT * FROM tombstones"))], default=str
        )
    assert ALICE not in dump


def test_the_bulk_member_path_skips_deleted_people_too(app: App) -> None:
    app.services.privacy.delete_member("slack", ALICE)
    with app.services.uow() as uow:
        rows = uow.members.ensure_many("slack", {ALICE: "housing", "U0NEW": "housing"})
        uow.commit()
    assert [r.platform_user_id for r in rows] == ["U0NEW"]
    assert app.member_id(ALICE) is None

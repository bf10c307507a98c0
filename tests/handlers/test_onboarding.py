"""Alliance-scale onboarding (issue 16): reload, members by e-mail, leadership channels, admin add.

Every Slack interaction is a signed HTTP request into the running app, whose WebClient talks
to the fake Slack Web API on 127.0.0.1.
"""

from __future__ import annotations

import copy
import logging
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ALICE, BOB, CAROL, TEST_ALLIANCE, Live, alliance_config
from slack_api import Call
from slack_requests import slash_command
from slack_ui import wait_until

from bot.alliance import parse_alliance
from bot.reload import ConfigWatcher
from bot.services.roster import Roster
from bot.settings import ConfigError

ADMIN = "U0ADMIN"
NEWBIE = "U0NEWBIE"


def write_alliance(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def served_from(live: Live, path: Path) -> ConfigWatcher:
    """Point the running app at an alliance file on disk; a watcher that reloads it."""
    live.loop.settings = live.loop.settings.model_copy(update={"learnloop_config": path})
    return ConfigWatcher(live.loop, poll_seconds=3600)


def with_member(user_id: str) -> dict[str, Any]:
    data = copy.deepcopy(TEST_ALLIANCE)
    data["agencies"][0]["members"].append(user_id)
    return data


def refusal_to(live: Live, user: str) -> str:
    """The text of the latest private note LearnLoop posted to `user` (an error's words)."""
    notes = [c for c in live.slack.calls("chat.postEphemeral") if c.params.get("user") == user]
    return str(notes[-1].params["text"]) if notes else ""


def answer(live: Live, name: str) -> Call:
    """The latest message posted to the response_url called `name`."""
    wait_until(lambda: any(c.path.endswith(f"/{name}") for c in live.slack.calls("webhook")))
    return [c for c in live.slack.calls("webhook") if c.path.endswith(f"/{name}")][-1]


def shown(call: Call) -> str:
    return str(call.params.get("text")) + str(call.json_field("blocks") or "")


def checkin(live: Live, user: str) -> None:
    resp = live.post(slash_command("/checkin", user_id=user))
    assert resp.status_code == 200


# ----------------------------------------------------------------------------- reload


def test_a_person_added_to_the_file_is_recognised_after_a_reload(
    live: Live, tmp_path: Path
) -> None:
    path = tmp_path / "alliance.yml"
    write_alliance(path, TEST_ALLIANCE)
    watcher = served_from(live, path)
    checkin(live, NEWBIE)
    wait_until(lambda: "not set up as a member" in refusal_to(live, NEWBIE))
    assert not live.slack.calls("views.open")

    write_alliance(path, with_member(NEWBIE))
    watcher.poke()
    assert watcher.check() is True

    checkin(live, NEWBIE)
    live.slack.wait_for("views.open")
    assert live.loop.alliance.agency("housing").members[-1] == NEWBIE
    assert live.loop.services.alliance is live.loop.alliance


def test_a_broken_file_keeps_the_old_one_with_one_clear_log_line(
    live: Live, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "alliance.yml"
    broken = with_member(NEWBIE)
    broken["alliance"]["timezone"] = "Europe/Atlantis"
    broken["cohorts"][0]["agencies"] = ["housing", "nowhere"]
    write_alliance(path, broken)
    watcher = served_from(live, path)
    before = live.loop.alliance.version
    # `learnloop reload` bumps the counter every process polls.
    with live.loop.services.uow() as uow:
        uow.onboarding.request_reload(live.loop.clock())
        uow.commit()

    with caplog.at_level(logging.INFO, logger="learnloop"):
        assert watcher.check() is False

    assert live.loop.alliance.version == before
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    line = errors[0].getMessage()
    assert str(path) in line and "not reloaded" in line and "2 problems" in line
    assert "alliance.timezone" in line and "cohorts.0.agencies.1" in line
    # The old file still serves: its members check in, the new name is still a stranger.
    checkin(live, ALICE)
    live.slack.wait_for("views.open")
    checkin(live, NEWBIE)
    wait_until(lambda: "not set up as a member" in refusal_to(live, NEWBIE))
    assert not watcher.check(), "nothing new asked for: no second reload"


def test_sighup_reloads_the_file(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "alliance.yml"
    write_alliance(path, with_member(NEWBIE))
    watcher = served_from(live, path)
    previous = signal.getsignal(signal.SIGHUP)
    try:
        watcher.install_sighup()
        os.kill(os.getpid(), signal.SIGHUP)
        assert watcher.check() is True
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert NEWBIE in live.loop.alliance.agency("housing").members
    assert live.scalar("SELECT count(*) FROM members WHERE platform_user_id = :u", u=NEWBIE) == 1


def test_learnloop_reload_reaches_a_watching_process(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "alliance.yml"
    write_alliance(path, with_member(NEWBIE))
    watcher = served_from(live, path).start()
    try:
        with live.loop.services.uow() as uow:
            uow.onboarding.request_reload(live.loop.clock())
            uow.commit()
        watcher.poll_seconds = 0.05
        watcher.poke()  # only to cut the test's first wait short; the counter does the asking
        wait_until(lambda: NEWBIE in live.loop.alliance.agency("housing").members)
    finally:
        watcher.stop()


# ----------------------------------------------------------------------------- e-mail


def test_an_unknown_address_is_reported_to_admins_and_the_others_are_prompted(
    make_live: Any, caplog: pytest.LogCaptureFixture
) -> None:
    agencies = copy.deepcopy(TEST_ALLIANCE["agencies"])
    agencies[0]["members"] = [ALICE, "Bob@Council.example", "nobody@council.example"]
    live = make_live(alliance_config(agencies=agencies))
    live.slack.set_user_email("bob@council.example", BOB)

    with caplog.at_level(logging.WARNING):
        report = live.loop.services.prompts.send("weekly", now=True)[0]

    prompted = {c.params["channel"] for c in live.slack.calls("chat.postMessage")}
    assert {ALICE, BOB, CAROL} <= prompted
    told = [c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == ADMIN]
    assert len(told) == 1
    assert "nobody@council.example" in shown(told[0])
    assert "agencies.0.members.2" in shown(told[0])
    lines = [r.getMessage() for r in caplog.records if "agencies.0.members.2" in r.getMessage()]
    assert len(lines) == 1 and "admins told" in lines[0]
    assert "nobody@council.example" not in lines[0]
    assert report.failed == 0
    lookups = {c.params["email"] for c in live.slack.calls("users.lookupByEmail")}
    assert lookups == {"bob@council.example", "nobody@council.example"}
    # The addresses themselves are never stored, only a one-way key.
    sources = [row[0] for row in live.rows("SELECT source FROM directory_listings")]
    assert sources and not any("@" in s for s in sources)

    # The next pass reads the stored lookups: no new lookups, admins are not told twice.
    live.loop.services.prompts.roster.cohort_members(live.loop.alliance.cohorts[0])
    assert len(live.slack.calls("users.lookupByEmail")) == 2
    told = [c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == ADMIN]
    assert len(told) == 1


def test_channel_listings_are_shared_through_the_database(make_live: Any) -> None:
    agencies = copy.deepcopy(TEST_ALLIANCE["agencies"])
    agencies[1] = {"id": "hospital", "name": "Hospital Discharge", "channel": "C0HOSP"}
    live = make_live(alliance_config(agencies=agencies))
    live.slack.set_channel_members("C0HOSP", [CAROL, "U0ERIN"])
    services = live.loop.services
    cohort = live.loop.alliance.cohorts[0]

    first = services.prompts.roster.cohort_members(cohort)
    # Another process (a second roster on the same database) reuses the stored listing.
    other = Roster(
        services.uow, live.loop.alliance, services.members, live.loop.messenger, live.loop.clock
    )
    second = other.cohort_members(cohort)

    assert len(live.slack.calls("conversations.members")) == 1
    assert {m.user_id for m in first} == {m.user_id for m in second} >= {CAROL, "U0ERIN"}
    stored = live.scalar("SELECT user_ids FROM directory_listings WHERE kind = 'channel'")
    assert "U0ERIN" in str(stored)


# ----------------------------------------------------------------------------- leadership


def test_the_first_rung_posts_to_the_agencys_own_leadership_channel(make_live: Any) -> None:
    agencies = copy.deepcopy(TEST_ALLIANCE["agencies"])
    agencies[0]["leadership_channel"] = "C0HOUSELEADS"
    live = make_live(alliance_config(agencies=agencies))
    barriers = live.loop.services.escalations

    for agency in ("housing", "hospital"):
        change = barriers.raise_barrier(
            "slack",
            ALICE,
            title=f"Forms for {agency}",
            description="The referral form asks for the same thing three times",
            who_is_affected=None,
            agencies=[agency],
            level="agency",
            anonymous=False,
            checkin_ids=[],
        )
        barriers.publish(change)

    posted = {
        c.params["channel"]: shown(c)
        for c in live.slack.calls("chat.postMessage")
        if c.params["channel"].startswith("C")
    }
    assert "Forms for housing" in posted["C0HOUSELEADS"]
    assert "Forms for hospital" in posted["C0LEADS"]
    assert "Forms for housing" not in posted["C0LEADS"]


def test_check_config_validates_the_leadership_channel() -> None:
    data = copy.deepcopy(TEST_ALLIANCE)
    data["agencies"][0]["leadership_channel"] = "19:abc@thread.tacv2"
    with pytest.raises(ConfigError) as caught:
        parse_alliance(data)
    assert any(p.startswith("agencies.0.leadership_channel:") for p in caught.value.problems)
    data["agencies"][0]["leadership_channel"] = "C0HOUSELEADS"
    data["escalation_ladder"] = []
    with pytest.raises(ConfigError) as caught:
        parse_alliance(data)
    assert any("no escalation_ladder" in p for p in caught.value.problems)


def test_members_may_be_listed_by_address_but_managers_may_not() -> None:
    data = copy.deepcopy(TEST_ALLIANCE)
    data["agencies"][0]["members"].append("ann@council.example")
    assert parse_alliance(data).agency("housing").member_emails == ["ann@council.example"]
    data["agencies"][0]["managers"] = ["boss@council.example"]
    with pytest.raises(ConfigError) as caught:
        parse_alliance(data)
    assert any(p.startswith("agencies.0.managers.0:") for p in caught.value.problems)


# ----------------------------------------------------------------------------- admin add


def admin(live: Live, user: str, text: str, name: str) -> Call:
    resp = live.post(
        slash_command(
            "/learnloop", f"admin {text}", user_id=user, response_url=live.slack.response_url(name)
        )
    )
    assert resp.status_code == 200
    return answer(live, name)


def test_admin_add_by_someone_who_is_not_an_admin_is_refused(live: Live) -> None:
    live.post(slash_command("/learnloop", f"admin add <@{NEWBIE}|newbie> housing", user_id=ALICE))
    wait_until(lambda: "Only LearnLoop admins" in refusal_to(live, ALICE))
    assert live.scalar("SELECT count(*) FROM agency_additions") == 0
    assert live.scalar("SELECT count(*) FROM members WHERE platform_user_id = :u", u=NEWBIE) == 0


def test_an_admin_adds_someone_who_can_then_check_in_and_removes_them(live: Live) -> None:
    checkin(live, NEWBIE)
    wait_until(lambda: "not set up as a member" in refusal_to(live, NEWBIE))

    said = shown(admin(live, ADMIN, f"add <@{NEWBIE}|newbie> hospital", "add"))
    assert "is now a member of" in said and "Hospital Discharge" in said
    checkin(live, NEWBIE)
    live.slack.wait_for("views.open")
    assert live.rows(
        "SELECT actor, action FROM audit_events WHERE action LIKE 'member.%' ORDER BY id"
    ) == [(f"slack:{ADMIN}", "member.added")]
    # The roster prompts them with the agency from now on.
    cohort = live.loop.alliance.cohorts[0]
    members = live.loop.services.prompts.roster.cohort_members(cohort)
    assert any(m.user_id == NEWBIE and m.agency_id == "hospital" for m in members)

    listed = shown(admin(live, ADMIN, "list", "list"))
    assert NEWBIE in listed and "Hospital Discharge" in listed

    said = shown(admin(live, ADMIN, f"remove <@{NEWBIE}|newbie>", "remove"))
    assert "no longer in" in said
    before = len(live.slack.calls("chat.postEphemeral"))
    checkin(live, NEWBIE)
    wait_until(lambda: len(live.slack.calls("chat.postEphemeral")) > before)
    assert "not set up as a member" in refusal_to(live, NEWBIE)


def test_admin_mistakes_say_what_to_do(live: Live) -> None:
    live.post(slash_command("/learnloop", f"admin add <@{NEWBIE}> libraries", user_id=ADMIN))
    wait_until(lambda: "There is no agency" in refusal_to(live, ADMIN))
    assert "housing" in refusal_to(live, ADMIN) and "hospital" in refusal_to(live, ADMIN)
    live.post(slash_command("/learnloop", "admin add", user_id=ADMIN))
    wait_until(lambda: "/learnloop admin add @person agency" in refusal_to(live, ADMIN))
    live.post(slash_command("/learnloop", f"admin remove <@{BOB}>", user_id=ADMIN))
    wait_until(lambda: "was not added from chat" in refusal_to(live, ADMIN))

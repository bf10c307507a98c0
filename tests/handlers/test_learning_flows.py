"""Learning that flows back: what each digest audience sees, and the practitioners' note.

One week in a two-agency alliance (two people each, so every agency is under the threshold of
three): named, team-only and anonymous learnings, and a barrier resolved with an outcome. Then
each audience's output is read back from the fake Slack Web API as Slack received it: the
agency channel, a manager's DM, the stewards' digest and every practitioner's weekly note.
The note is switched by signed `/learnloop digest off|on` commands and App Home buttons.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from conftest import ALICE, BOB, CAROL, DAN, STEWARD, TEST_ALLIANCE, Clock_, Live, alliance_config
from slack_requests import app_home_opened, block_actions, slash_command, view_submission
from slack_ui import button, fill, initial_state, visible_text, wait_until

from bot.domain.checkins import Source
from bot.domain.escalation import Action
from bot.slack.ids import View

# Thursday 3 December 2026; the note goes at the default slot, Friday 09:00 London.
THURSDAY = dt.datetime(2026, 12, 3, 15, 30, tzinfo=dt.UTC)
FRIDAY_NOTE = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)
HOUSING_MANAGER, HOSPITAL_MANAGER = "U0MGRHOUSE", "U0MGRHOSP"

ALICE_SHARED = "Joint visits with the ward saved a week of waiting."
BOB_TEAM = "Our letters still read like threats to tenants."
CAROL_SHARED = "A shared care plan got someone home on a Friday."
CAROL_ANONYMOUS = "Asking where people will sleep tonight changed the whole plan."
DAN_TEAM = "The discharge lounge closes at five, so people wait on the ward."
OUTCOME = "Pharmacies now take scripts sent by the ward."


def flows_alliance(schedule: dict[str, Any] | None = None, **extra: Any) -> Any:
    agencies = [
        {**TEST_ALLIANCE["agencies"][0], "managers": [HOUSING_MANAGER]},
        {**TEST_ALLIANCE["agencies"][1], "managers": [HOSPITAL_MANAGER]},
    ]
    digests: list[dict[str, Any]] = [
        {"id": "alliance", "channel": "C0STEWARDS", "scope": "alliance"},
        {"id": "housing", "channel": "C0HOUSING", "scope": "agency:housing"},
    ]
    if schedule is not None:
        digests = [{**d, "schedule": schedule} for d in digests]
    return alliance_config(agencies=agencies, digests=digests, **extra)


VISIBILITY_LABELS = {
    "team": "Just my team",
    "alliance": "The alliance, with my name",
    "anonymous": "The alliance, anonymously",
}


def share(live: Live, user: str, text: str, visibility: str) -> None:
    """A check-in as a person makes it: signed `/checkin`, then its modal filled by labels."""
    before = len(live.slack.calls("views.open"))
    assert live.post(slash_command("/checkin", user_id=user)).status_code == 200
    view = live.slack.wait_for("views.open", count=before + 1)[-1].json_field("view")
    answers = {
        "What happened that you learned from?": text,
        "Who can see this?": VISIBILITY_LABELS[visibility],
        "Themes": ["Housing"],
    }
    saved = live.scalar("SELECT count(*) FROM checkins")
    response = live.post(
        view_submission(
            View.CHECKIN,
            {**initial_state(view), **fill(view, answers)},
            user_id=user,
            private_metadata=view["private_metadata"],
            view_id=f"V{uuid.uuid4().hex[:10].upper()}",
            view={"blocks": view["blocks"]},
        )
    )
    assert response.status_code == 200, response.text
    assert live.scalar("SELECT count(*) FROM checkins") == saved + 1


def week(make_live: Callable[..., Live]) -> tuple[Live, Clock_]:
    clock = Clock_(THURSDAY)
    live = make_live(alliance=flows_alliance(), clock=clock)
    share(live, ALICE, ALICE_SHARED, "alliance")
    share(live, BOB, BOB_TEAM, "team")
    share(live, CAROL, CAROL_SHARED, "alliance")
    share(live, CAROL, CAROL_ANONYMOUS, "anonymous")
    share(live, DAN, DAN_TEAM, "team")
    escalations = live.loop.services.escalations
    escalations.raise_barrier(
        "slack",
        DAN,
        title="Scripts lost when people move out of area",
        description="The pharmacy can't see the script",
        who_is_affected=None,
        agencies=["hospital"],
        level=None,
        anonymous=False,
        checkin_ids=[],
    )
    barrier_id = live.scalar("SELECT max(id) FROM escalations")
    escalations.act("slack", STEWARD, barrier_id, None, Action.RESOLVE, OUTCOME)
    return live, clock


def posted_to(live: Live, channel: str) -> str:
    """Everything LearnLoop posted to a channel or DM: fallback text and blocks, as JSON text."""
    calls = [c for c in live.slack.calls("chat.postMessage") if c.params.get("channel") == channel]
    assert calls, f"nothing posted to {channel}"
    return "\n".join(
        c.params.get("text", "") + json.dumps(c.json_field("blocks"), ensure_ascii=False)
        for c in calls
    )


def send_digest(live: Live, dest_id: str) -> None:
    digests = live.loop.services.digests
    result = digests.send(digests.destination(dest_id))
    assert result.status == "posted", result


def section(text: str, start: str) -> str:
    """The text from a heading on (what a digest says under it)."""
    assert start in text, text
    return text[text.index(start) :]


# ------------------------------------------------------------------ agency channel, manager DM


def test_the_agency_channel_opens_with_its_own_agency_then_the_alliance(
    make_live: Callable[..., Live],
) -> None:
    live, _ = week(make_live)
    send_digest(live, "housing")
    said = posted_to(live, "C0HOUSING")
    # Its own agency first: its own team-only learning may be read there.
    assert said.index(BOB_TEAM) < said.index("Across the alliance")
    across = section(said, "Across the alliance")
    # Then the alliance: the other agency's shared learning, named...
    assert "shared care plan" in across and "Hospital Discharge" in across
    # ...its anonymous one, without its agency (quoted among the whole alliance's)...
    assert "sleep tonight" in across
    quote = across[across.index("sleep tonight") :].split('"}')[0]  # the quote and its byline
    assert "Anonymous · Housing" in quote and "Hospital Discharge" not in quote
    # ...and "you said, we did" for a barrier of another agency.
    assert "You said, we did" in across and "Pharmacies now take scripts" in across
    # Never another agency's team-only entries, nor its own again below.
    assert "discharge lounge" not in said
    assert BOB_TEAM[:20] not in across


def test_a_small_agencys_manager_never_sees_its_own_anonymous_entry(
    make_live: Callable[..., Live],
) -> None:
    live, _ = week(make_live)
    send_digest(live, f"manager:hospital:{HOSPITAL_MANAGER}")
    said = posted_to(live, HOSPITAL_MANAGER)
    # Two people took part in Hospital Discharge: fewer than three, so "anonymous" would name
    # one of a handful; the entry is quoted only where its agency can't be told (k-anonymity).
    assert "sleep tonight" not in said
    assert "Anonymous" not in said.replace("Anonymous learnings are never attributed", "")
    assert "discharge lounge" in said  # its own team's entry, in its own section
    across = section(said, "Across the alliance")
    assert "Joint visits with the ward" in across  # Council Housing's, shared with the alliance
    assert "letters still read like threats" not in said  # Council Housing's team-only entry
    # Counts under the threshold read "fewer than 3" there as everywhere.
    assert "fewer than 3" in said
    assert " 2 learnings" not in said and " 1 learnings" not in said


def test_the_steward_digest_quotes_the_anonymous_entry_without_its_agency(
    make_live: Callable[..., Live],
) -> None:
    live, _ = week(make_live)
    send_digest(live, "alliance")
    said = posted_to(live, "C0STEWARDS")
    assert "sleep tonight" in said
    assert "discharge lounge" not in said and "letters still read like threats" not in said
    # The alliance's own digest has no "Across the alliance" section: it is the alliance.
    assert "Across the alliance" not in said


# ------------------------------------------------------------------ the practitioners' note


def notes_to(live: Live, person: str) -> int:
    """How many alliance notes LearnLoop sent someone."""
    return sum(
        1
        for c in live.slack.calls("chat.postMessage")
        if c.params.get("channel") == person
        and "What Test Alliance learned" in c.params.get("text", "")
    )


def note_sent(live: Live, when: dt.datetime = FRIDAY_NOTE) -> Any:
    return live.loop.services.notes.send_due(when)


def test_every_practitioner_gets_the_note_once_whether_or_not_they_took_part(
    make_live: Callable[..., Live],
) -> None:
    live, _ = week(make_live)
    # Before the slot, nothing goes.
    assert note_sent(live, FRIDAY_NOTE - dt.timedelta(hours=1)) is None
    result = note_sent(live)
    # Everyone in an agency, managers too: taking part is never required.
    assert result.sent == 6
    for person in (ALICE, BOB, CAROL, DAN, HOUSING_MANAGER, HOSPITAL_MANAGER):
        assert notes_to(live, person) == 1
        (said,) = [
            c.params["text"] + json.dumps(c.json_field("blocks"), ensure_ascii=False)
            for c in live.slack.calls("chat.postMessage")
            if c.params.get("channel") == person
            and "What Test Alliance learned" in c.params.get("text", "")
        ]
        assert "shared care plan" in said and "Joint visits with the ward" in said
        # Alliance-level and the same for everyone: the anonymous entry, with no agency.
        assert "sleep tonight" in said
        assert "Pharmacies now take scripts" in said
        # Never anyone's team-only entries.
        assert "discharge lounge" not in said and "letters still read like" not in said
        assert "/learnloop digest off" in said
    # Once per member per week, however often the worker ticks.
    before = len(live.slack.calls("chat.postMessage"))
    assert note_sent(live, FRIDAY_NOTE + dt.timedelta(minutes=5)) is None
    assert len(live.slack.calls("chat.postMessage")) == before
    assert live.scalar("SELECT count(*) FROM alliance_notes WHERE status = 'sent'") == 6


def test_digest_off_and_on_by_command(make_live: Callable[..., Live]) -> None:
    live, clock = week(make_live)
    resp = live.post(
        slash_command(
            "/learnloop", "digest off", user_id=BOB, response_url=live.slack.response_url("off")
        )
    )
    assert resp.status_code == 200
    (answer,) = live.slack.wait_for("webhook")
    assert "won't get the weekly alliance note" in answer.params["text"]
    assert "/learnloop digest on" in answer.params["text"]
    assert live.scalar("SELECT alliance_note FROM members WHERE platform_user_id = :u", u=BOB) in (
        False,
        0,
    )
    note_sent(live)
    assert notes_to(live, BOB) == 0
    assert notes_to(live, ALICE) == 1

    # A mistake says what to type.
    live.post(
        slash_command(
            "/learnloop", "digest maybe", user_id=BOB, response_url=live.slack.response_url("x")
        )
    )
    wait_until(lambda: len(live.slack.calls("webhook")) == 2)
    assert "/learnloop digest on" in live.slack.calls("webhook")[-1].params["text"]

    live.post(
        slash_command(
            "/learnloop", "digest on", user_id=BOB, response_url=live.slack.response_url("on")
        )
    )
    wait_until(lambda: len(live.slack.calls("webhook")) == 3)
    assert "You'll get the weekly note" in live.slack.calls("webhook")[-1].params["text"]
    # Next week it comes again.
    clock.advance(days=7)
    assert note_sent(live, FRIDAY_NOTE + dt.timedelta(days=7)).sent == 6
    assert notes_to(live, BOB) == 1


def test_the_note_is_switched_from_the_home_tab(make_live: Callable[..., Live]) -> None:
    live = make_live(alliance=flows_alliance(), clock=Clock_(THURSDAY))

    def home() -> tuple[str, list[dict[str, Any]]]:
        calls = [c for c in live.slack.calls("views.publish") if c.params["user_id"] == ALICE]
        blocks = calls[-1].json_field("view")["blocks"]
        return visible_text(blocks), blocks

    def press(label: str, count: int) -> str:
        element = button(home()[1], label)
        request = block_actions(
            element["action_id"], element.get("value"), user_id=ALICE, container_type="view"
        )
        assert live.post(request).status_code == 200
        wait_until(
            lambda: (
                len([c for c in live.slack.calls("views.publish") if c.params["user_id"] == ALICE])
                >= count
            )
        )
        return home()[0]

    assert live.post(app_home_opened(ALICE)).status_code == 200
    wait_until(lambda: bool(live.slack.calls("views.publish")))
    text, _ = home()
    assert "The weekly alliance note" in text  # on by default for a new member
    off = press("Stop the weekly alliance note", 2)
    assert "won't get the weekly alliance note" in off
    assert live.scalar(
        "SELECT alliance_note FROM members WHERE platform_user_id = :u", u=ALICE
    ) in (
        False,
        0,
    )
    on = press("Send me the weekly alliance note", 3)
    assert "You'll get the weekly note" in on
    assert live.scalar(
        "SELECT alliance_note FROM members WHERE platform_user_id = :u", u=ALICE
    ) in (
        True,
        1,
    )


def test_an_agency_channel_and_its_manager_share_one_build_per_tick(
    make_live: Callable[..., Live], monkeypatch: Any
) -> None:
    friday = {"days": ["fri"], "time": "09:00"}
    live = make_live(alliance=flows_alliance(friday), clock=Clock_(THURSDAY))
    share(live, ALICE, ALICE_SHARED, "alliance")
    service = live.loop.services.digests
    built: list[Any] = []
    inputs = service._inputs

    def counted(audience: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(audience)
        return inputs(audience, *args, **kwargs)

    monkeypatch.setattr(service, "_inputs", counted)
    results = service.send_due(FRIDAY_NOTE)
    posted = {r.destination_id for r in results if r.status == "posted"}
    assert {"housing", f"manager:housing:{HOUSING_MANAGER}"} <= posted
    # The channel and the manager read the same digest: built once in the tick.
    assert sum(1 for a in built if a.agency_id == "housing") == 1
    assert posted_to(live, "C0HOUSING").count(ALICE_SHARED[:20]) >= 1
    assert ALICE_SHARED[:20] in posted_to(live, HOUSING_MANAGER)


def test_a_small_agencys_anonymous_purpose_answer_stays_out_of_its_own_digest(
    make_live: Callable[..., Live],
) -> None:
    # The first week of 2027: a purpose cycle for a quarterly cadence.
    clock = Clock_(dt.datetime(2027, 1, 7, 15, 30, tzinfo=dt.UTC))
    live = make_live(alliance=flows_alliance(purpose={"cadence": "quarterly"}), clock=clock)
    live.loop.services.checkins.submit(
        "slack",
        CAROL,
        answers={"learned": "Wards are full", "purpose": "To get people well; it isn't."},
        themes=[],
        visibility="anonymous",
        source=Source.MODAL,
    )
    digests = live.loop.services.digests
    stewards = digests.build(digests.destination("alliance"), "2027-W01")
    assert stewards.purpose is not None
    assert [a.byline for a in stewards.purpose.answers] == ["Anonymous"]
    manager = digests.build(digests.destination(f"manager:hospital:{HOSPITAL_MANAGER}"), "2027-W01")
    # One contributor in Hospital Discharge: its anonymous answer is not quoted there.
    assert manager.purpose is None or manager.purpose.answers == ()

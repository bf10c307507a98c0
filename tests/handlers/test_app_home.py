"""The App Home per role, through the live app (app_home_opened → views.publish)."""

from __future__ import annotations

from typing import Any

from conftest import ALICE, BOB, CAROL, STEWARD, Live
from slack_api import Call
from slack_requests import app_home_opened, block_actions
from slack_ui import button, button_labels, visible_text, wait_until

from bot.domain.checkins import Source

ADMIN = "U0ADMIN"


def open_home(live: Live, user: str, count: int = 1) -> tuple[str, list[dict[str, Any]]]:
    """Open the App Home as `user`: what the published page says, and its blocks."""
    before = len(published(live, user))
    response = live.post(app_home_opened(user))
    assert response.status_code == 200
    wait_until(lambda: len(published(live, user)) > before)
    blocks = published(live, user)[-1].json_field("view")["blocks"]
    return visible_text(blocks), blocks


def published(live: Live, user: str) -> list[Call]:
    return [c for c in live.slack.calls("views.publish") if c.params.get("user_id") == user]


def press_in_home(live: Live, user: str, blocks: list[dict[str, Any]], label: str) -> str:
    """Press a Home tab button by its label; the page republished afterwards, as text."""
    element = button(blocks, label)
    before = len(published(live, user))
    request = block_actions(
        element["action_id"], element.get("value"), user_id=user, container_type="view"
    )
    assert live.post(request).status_code == 200
    wait_until(lambda: len(published(live, user)) > before)
    return visible_text(published(live, user)[-1].json_field("view")["blocks"])


def share(
    live: Live, user: str, text: str, visibility: str, themes: list[str], answer: bool = False
) -> int:
    saved = live.loop.services.checkins.submit(
        "slack",
        user,
        answers={"learned": text},
        themes=themes,
        visibility=visibility,
        source=Source.MODAL,
        answer_latest_prompt=answer,
    )
    return saved.checkin_id


# --------------------------------------------------------------------------- practitioner


def test_a_practitioner_sees_their_last_checkins_with_who_can_see_each(live: Live) -> None:
    for n in range(1, 6):
        share(live, ALICE, f"Learning number {n} about joint visits", "team", ["Housing"])
    share(live, ALICE, "Joint visits with the ward saved a week", "anonymous", [])
    share(live, BOB, "Bob's own learning about rent arrears", "alliance", [])

    text, blocks = open_home(live, ALICE)

    assert "*Your recent learnings* (6 in all)" in text
    assert "Joint visits with the ward saved a week" in text
    assert "Learning number 1 " not in text  # only the latest five
    assert "Learning number 2 about joint visits · Housing" in text
    assert (
        "Who can see it: *The alliance, anonymously* — everyone in the alliance, without your "
        "name or agency" in text
    )
    assert "Who can see it: *Just my team* — people in Council Housing, with your name" in text
    assert "rent arrears" not in text  # someone else's learning never appears
    assert "Thursdays at 15:00, your time (Europe/London)." in text
    # Each entry shown can be edited (saved this week), re-shared or deleted by its author.
    assert button_labels(blocks) == [
        "Pause prompts for 4 weeks",
        "Stop the weekly alliance note",  # on by default for every member
        *["Edit", "Change who can see it", "Delete"] * 5,
        "Show older",
        "Export my data",
        "Delete my data",
    ]
    assert "Open barriers by level" not in text
    assert "Configuration and delivery" not in text


def test_pausing_and_resuming_from_the_home_tab(live: Live) -> None:
    _, blocks = open_home(live, ALICE)
    paused = press_in_home(live, ALICE, blocks, "Pause prompts for 4 weeks")
    assert "Paused: no prompts until" in paused and "*Paused* until" in paused
    assert live.scalar("SELECT paused_until FROM members WHERE platform_user_id = :u", u=ALICE)
    blocks = published(live, ALICE)[-1].json_field("view")["blocks"]
    resumed = press_in_home(live, ALICE, blocks, "Resume my prompts")
    assert "your weekly prompt is on again" in resumed
    assert (
        live.scalar("SELECT paused_until FROM members WHERE platform_user_id = :u", u=ALICE) is None
    )


def test_export_and_delete_from_the_home_tab_go_to_the_dm(live: Live) -> None:
    share(live, ALICE, "Something worth keeping", "team", [])
    _, blocks = open_home(live, ALICE)

    exported = press_in_home(live, ALICE, blocks, "Export my data")
    assert "Your data is in your messages with LearnLoop" in exported
    assert live.slack.calls("files.completeUploadExternal")
    assert live.slack.calls("webhook") == []  # the Home tab has no response_url to answer

    deleted = press_in_home(live, ALICE, blocks, "Delete my data")
    assert "Nothing is deleted yet: confirm it in your messages" in deleted
    confirm = [c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == ALICE]
    assert "Delete my 1 learning and profile" in button_labels(confirm[-1].json_field("blocks"))
    assert live.scalar("SELECT count(*) FROM checkins") == 1  # not until confirmed


def test_the_messages_tab_publishes_nothing(live: Live) -> None:
    assert live.post(app_home_opened(ALICE, tab="messages")).status_code == 200
    live.post(app_home_opened(BOB))  # a later event, to know the first was handled
    wait_until(lambda: bool(published(live, BOB)))
    assert published(live, ALICE) == []


def test_someone_not_in_any_agency_is_told_how_to_join(live: Live) -> None:
    text, blocks = open_home(live, "U0STRANGER")
    assert "You're not on LearnLoop's list for any agency yet" in text
    assert button_labels(blocks) == []


# --------------------------------------------------------------------------------- steward


def raise_barrier(live: Live, user: str, title: str, level: str) -> None:
    live.loop.services.escalations.raise_barrier(
        "slack",
        user,
        title=title,
        description="Housing can't assess until a discharge date is fixed.",
        who_is_affected=None,
        agencies=["housing", "hospital"],
        level=level,
        anonymous=False,
        checkin_ids=[],
    )


def test_a_steward_also_sees_open_barriers_by_level(live: Live) -> None:
    raise_barrier(live, ALICE, "Assessments wait for a discharge date", "agency")
    raise_barrier(live, CAROL, "No beds on Fridays", "agency")
    raise_barrier(live, CAROL, "Consent forms take weeks", "alliance")

    text, _ = open_home(live, STEWARD)

    assert "Open barriers by level" in text
    assert "*Agency leadership* — 2 open" in text
    assert "*Steward group* — 1 open" in text
    assert "Consent forms take weeks — Open, changed today" in text
    assert "3 open in all." in text
    assert "Configuration and delivery" not in text
    # The practitioner's page shows no barriers list.
    assert "Open barriers by level" not in open_home(live, ALICE)[0]


# ----------------------------------------------------------------------------------- admin


def test_an_admin_also_sees_configuration_and_delivery_counts_only(live: Live) -> None:
    live.slack.fail_when("chat.postMessage", lambda p: p.get("channel") == BOB, "user_not_found")
    live.loop.services.prompts.send("weekly", now=True)
    share(live, ALICE, "Shared after the prompt", "alliance", [], answer=True)

    text, _ = open_home(live, ADMIN)

    assert "Configuration and delivery" in text
    assert "*Test Alliance*" in text
    assert "Agencies: 2 (Slack 2)" in text
    assert "Cohorts: 1 · Digests: 1 · Themes: 3" in text
    assert "Escalation ladder: Agency leadership → Steward group" in text
    # Counts about people follow the suppression rule (3 here) like every other output.
    assert "Prompts: answered fewer than 3, failed fewer than 3, sent fewer than 3" in text
    assert "Failed prompts by reason: user not found fewer than 3" in text
    assert "People: active 3, inactive fewer than 3, paused fewer than 3" in text
    assert "Open barriers by level" in text
    for person in (ALICE, BOB, CAROL):  # counts only: nobody is named
        assert person not in text

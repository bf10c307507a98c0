"""The check-in loop on Teams: install, proactive prompt, card form, plain reply, typed commands.

Signed activities go into the live app; its proactive sends and card updates land on the fake
Bot Connector. Buttons and inputs are found by the labels a person sees.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from conftest import Clock_
from teams_fixtures import (  # noqa: F401 - the *_fixture imports register fixtures
    JONI,
    MEGAN,
    OUTSIDER,
    STEWARDS_CHANNEL,
    TeamsLive,
    bot_connector_fixture,
    key_service_fixture,
    make_teams_live_fixture,
    teams_live_fixture,
)
from teams_requests import TENANT_ID
from teams_ui import button, card_text, fill, inputs

from bot.teams.ids import ExtensionCommand

NHS_NUMBER = "943 476 5919"


def prompt_everyone(teams: TeamsLive) -> None:
    """Send this week's prompt now, as `learnloop prompts send --now` does."""
    teams.loop.services.prompts.send(now=True)


def dialog_card(body: dict) -> dict:
    """The Adaptive Card a task/fetch or task/submit answer opens in the dialog."""
    task = body["task"]
    assert task["type"] == "continue", body
    return task["value"]["card"]["content"]


# ------------------------------------------------------------------------- install


def test_personal_install_stores_the_conversation_and_says_hello(teams_live: TeamsLive) -> None:
    teams_live.install(MEGAN)

    row = teams_live.rows(
        "SELECT conversation_id, kind, service_url, tenant_id, member_id FROM teams_conversations"
    )
    assert len(row) == 1
    conversation_id, kind, service_url, tenant_id, member_id = row[0]
    assert (conversation_id, kind, tenant_id) == (MEGAN.chat_id, "personal", TENANT_ID)
    assert service_url == teams_live.connector.url
    megan_id = teams_live.scalar(
        "SELECT id FROM members WHERE platform = 'teams' AND platform_user_id = :u", u=MEGAN.aad
    )
    assert member_id == megan_id
    hello = teams_live.connector.last_send(MEGAN.chat_id)
    assert "what did we learn this week?" in hello.text
    # The bot authenticated to the Bot Connector with its own token.
    assert hello.authorization and hello.authorization.startswith("Bearer ")


def test_someone_not_in_the_alliance_is_told_to_ask_their_admin(teams_live: TeamsLive) -> None:
    teams_live.install(OUTSIDER)
    assert "not set up as a member" in teams_live.connector.last_send(OUTSIDER.chat_id).text


def test_install_in_a_team_channel_tells_the_admin_its_id(teams_live: TeamsLive) -> None:
    driver = teams_live.driver
    assert driver.post(driver.channel_install(MEGAN, STEWARDS_CHANNEL)).status_code == 200
    assert driver.post(driver.team_install(MEGAN, STEWARDS_CHANNEL)).status_code == 200

    kinds = teams_live.rows("SELECT kind, name FROM teams_conversations")
    assert kinds == [("channel", "Stewards")]
    assert STEWARDS_CHANNEL in teams_live.connector.last_send(STEWARDS_CHANNEL).text


def test_uninstall_forgets_the_conversation(teams_live: TeamsLive) -> None:
    teams_live.install(MEGAN)
    driver = teams_live.driver
    assert driver.post(driver.personal_uninstall(MEGAN)).status_code == 200
    assert teams_live.scalar("SELECT count(*) FROM teams_conversations") == 0


# ------------------------------------------------------------------ proactive prompt


def test_the_weekly_prompt_reaches_teams_members_who_installed(teams_live: TeamsLive) -> None:
    teams_live.install(MEGAN)
    teams_live.connector.clear()

    prompt_everyone(teams_live)

    prompt = teams_live.connector.last_send(MEGAN.chat_id)
    card = prompt.card
    assert card["version"] == "1.5"
    assert "What did we learn this week?" in card_text(card)
    for title in ("Share a learning", "Skip this week", "Pause prompts"):
        button(card, title)
    status, channel, ts = teams_live.rows(
        "SELECT p.status, p.channel_id, p.message_ts FROM prompts p JOIN members m "
        "ON m.id = p.member_id WHERE m.platform_user_id = :u",
        u=MEGAN.aad,
    )[0]
    assert (status, ts) == ("sent", prompt.activity_id)
    assert channel.startswith("teams:")
    # Joni never installed the app: nobody can message her yet, so she is not retried each week.
    joni = teams_live.rows(
        "SELECT p.status, p.error, m.active, m.inactive_reason FROM prompts p JOIN members m "
        "ON m.id = p.member_id WHERE m.platform_user_id = :u",
        u=JONI.aad,
    )
    assert joni == [("failed", "not_installed", False, "not_installed")]
    assert teams_live.connector.sends(JONI.chat_id) == []


def test_installing_later_makes_a_member_reachable_again(
    make_teams_live: Callable[..., TeamsLive],
) -> None:
    clock = Clock_(dt.datetime(2026, 12, 3, 15, 30, tzinfo=dt.UTC))
    teams = make_teams_live(clock=clock)
    prompt_everyone(teams)  # Joni hasn't installed: marked unreachable
    teams.install(JONI)
    assert teams.scalar("SELECT active FROM members WHERE platform_user_id = :u", u=JONI.aad) in (
        True,
        1,
    )

    clock.advance(days=7)
    prompt_everyone(teams)
    assert "What did we learn this week?" in card_text(teams.connector.last_send(JONI.chat_id).card)


def test_a_connector_refusal_is_recorded_on_the_ledger(teams_live: TeamsLive) -> None:
    teams_live.install(MEGAN)
    teams_live.connector.fail_next("send", 403)  # Megan blocked the bot
    prompt_everyone(teams_live)
    error = teams_live.scalar(
        "SELECT p.error FROM prompts p JOIN members m ON m.id = p.member_id "
        "WHERE m.platform_user_id = :u",
        u=MEGAN.aad,
    )
    assert error == "conversation_blocked"


def test_a_rate_limited_send_is_retried(teams_live: TeamsLive) -> None:
    teams_live.install(MEGAN)
    teams_live.connector.clear()
    teams_live.connector.fail_next("send", 429, headers={"Retry-After": "0"})
    prompt_everyone(teams_live)
    assert len(teams_live.connector.sends(MEGAN.chat_id)) == 2
    assert teams_live.scalar("SELECT count(*) FROM prompts WHERE status = 'sent'") >= 1


# ------------------------------------------------------------------ the card form


def open_form(teams: TeamsLive, card: dict, title: str = "Share a learning") -> dict:
    """Press a button that opens the check-in dialog; return the dialog's card."""
    return dialog_card(teams.driver.invoke(teams.driver.task_fetch(MEGAN, button(card, title))))


def test_share_a_learning_opens_the_same_questions_and_stores_it_redacted(
    teams_live: TeamsLive,
) -> None:
    teams_live.install(MEGAN)
    prompt_everyone(teams_live)
    prompt = teams_live.connector.last_send(MEGAN.chat_id)

    form = open_form(teams_live, prompt.card)
    labels = list(inputs(form))
    assert labels == [
        "What happened that you learned from?",
        "What helped?",
        "What got in the way?",
        "Themes",
        "Who can see this?",
    ]
    data = fill(
        form,
        {
            "What happened that you learned from?": f"Discharge stalled; NHS no {NHS_NUMBER}.",
            "What helped?": "A joint call with housing.",
            "Themes": ["Housing", "Hospital discharge"],
            "Who can see this?": "The alliance, anonymously",
        },
        submit="Save learning",
    )
    body = teams_live.driver.invoke(teams_live.driver.task_submit(MEGAN, data))
    assert body == {}  # the dialog closes

    answers, visibility, source, agency = teams_live.rows(
        "SELECT answers, visibility, source, agency_id FROM checkins"
    )[0]
    answers = json.loads(answers) if isinstance(answers, str) else answers
    assert NHS_NUMBER not in json.dumps(answers)
    assert answers["helped"] == "A joint call with housing."
    assert (visibility, source, agency) == ("anonymous", "teams_card", "nhs")
    themes = teams_live.rows(
        "SELECT t.name FROM themes t JOIN checkin_themes ct ON ct.theme_id = t.id ORDER BY t.name"
    )
    assert [t for (t,) in themes] == ["Hospital discharge", "Housing"]
    assert teams_live.scalar("SELECT status FROM prompts WHERE id = 1") == "answered" or (
        teams_live.scalar("SELECT count(*) FROM prompts WHERE status = 'answered'") == 1
    )
    # The prompt card itself now says thank you, and what was removed.
    update = teams_live.connector.updates(MEGAN.chat_id)[-1]
    assert update.activity_id == prompt.activity_id
    said = card_text(update.card)
    assert "Thank you" in said and "NHS number" in said


def test_a_form_with_a_missing_answer_comes_back_with_the_reason(teams_live: TeamsLive) -> None:
    teams_live.install(MEGAN)
    prompt_everyone(teams_live)
    form = open_form(teams_live, teams_live.connector.last_send(MEGAN.chat_id).card)
    data = fill(form, {"What helped?": "Tea."}, submit="Save learning")

    again = dialog_card(teams_live.driver.invoke(teams_live.driver.task_submit(MEGAN, data)))

    assert "this one is needed" in card_text(again)
    assert inputs(again)["What helped?"]["value"] == "Tea."  # what they typed is kept
    assert teams_live.scalar("SELECT count(*) FROM checkins") == 0


def test_skip_and_pause_answer_with_the_updated_card(teams_live: TeamsLive) -> None:
    teams_live.install(MEGAN)
    prompt_everyone(teams_live)
    card = teams_live.connector.last_send(MEGAN.chat_id).card

    skipped = teams_live.driver.invoke(
        teams_live.driver.card_action(MEGAN, button(card, "Skip this week"))
    )
    assert skipped["type"] == "application/vnd.microsoft.card.adaptive"
    assert "skipped this week" in card_text(skipped["value"])
    assert teams_live.scalar("SELECT count(*) FROM prompts WHERE status = 'skipped'") == 1

    paused = teams_live.driver.invoke(
        teams_live.driver.card_action(MEGAN, button(card, "Pause prompts"))
    )
    assert "Prompts paused until" in card_text(paused["value"])
    assert teams_live.scalar(
        "SELECT paused_until FROM members WHERE platform_user_id = :u", u=MEGAN.aad
    )


# ------------------------------------------------------------------ plain replies


def test_a_plain_reply_is_a_check_in_stored_once(teams_live: TeamsLive) -> None:
    teams_live.install(MEGAN)
    prompt_everyone(teams_live)
    driver = teams_live.driver
    reply = driver.message(MEGAN, f"Ring 07700 900123 back. Also {NHS_NUMBER}.", "1700000099999")

    assert driver.post(reply).status_code == 200
    assert driver.post(reply).status_code == 200  # Teams retried: stored once

    rows = teams_live.rows("SELECT answers, visibility, source FROM checkins")
    assert len(rows) == 1
    answers, visibility, source = rows[0]
    stored = json.dumps(json.loads(answers) if isinstance(answers, str) else answers)
    assert "07700" not in stored and NHS_NUMBER not in stored
    assert (visibility, source) == ("team", "dm_reply")
    # One thank-you per stored reply: the retry is answered 200 and sends nothing more.
    thanks = [
        c.card
        for c in teams_live.connector.sends(MEGAN.chat_id)
        if c.cards and "Thank you — saved as a learning" in card_text(c.card)
    ]
    assert len(thanks) == 1
    saved = thanks[0]
    # "Add detail" opens the form pre-filled with the redacted reply.
    form = open_form(teams_live, saved, "Add detail")
    first = inputs(form)["What happened that you learned from?"]["value"]
    assert first.startswith("Ring") and "07700" not in first
    assert teams_live.scalar("SELECT status FROM prompts WHERE status = 'answered'") == "answered"


def test_typed_commands(teams_live: TeamsLive) -> None:
    teams_live.install(MEGAN)
    driver, connector = teams_live.driver, teams_live.connector

    driver.post(driver.message(MEGAN, "help"))
    assert "**pause**" in connector.last_send(MEGAN.chat_id).text

    driver.post(driver.message(MEGAN, "pause 2w"))
    assert "Paused: no prompts until" in connector.last_send(MEGAN.chat_id).text
    assert teams_live.scalar(
        "SELECT paused_until FROM members WHERE platform_user_id = :u", u=MEGAN.aad
    )

    driver.post(driver.message(MEGAN, "pause a fortnight"))
    assert "couldn't understand" in connector.last_send(MEGAN.chat_id).text
    assert "**pause 2w**" in connector.last_send(MEGAN.chat_id).text

    driver.post(driver.message(MEGAN, "resume"))
    assert "Welcome back" in connector.last_send(MEGAN.chat_id).text
    assert (
        teams_live.scalar(
            "SELECT paused_until FROM members WHERE platform_user_id = :u", u=MEGAN.aad
        )
        is None
    )

    # A learning that starts with a command word is still a learning.
    driver.post(driver.message(MEGAN, "Help from the GP surgery unblocked the discharge."))
    assert teams_live.scalar("SELECT count(*) FROM checkins") == 1
    assert (
        teams_live.scalar("SELECT count(*) FROM audit_events WHERE action = 'prompts.paused'") == 1
    )

    driver.post(driver.message(MEGAN, "checkin The step-down bed came through"))
    launcher = connector.last_send(MEGAN.chat_id).card
    form = open_form(teams_live, launcher)
    assert (
        inputs(form)["What happened that you learned from?"]["value"]
        == "The step-down bed came through"
    )


def test_the_message_extension_opens_and_saves_the_form(teams_live: TeamsLive) -> None:
    driver = teams_live.driver
    body = driver.invoke(driver.extension_fetch(MEGAN, ExtensionCommand.CHECKIN))
    form = dialog_card(body)
    data = fill(
        form, {"What happened that you learned from?": "Shared care plans help."}, "Save learning"
    )
    assert driver.invoke(driver.extension_submit(MEGAN, ExtensionCommand.CHECKIN, data)) == {}
    assert teams_live.scalar("SELECT source FROM checkins") == "teams_card"


def test_someone_outside_the_alliance_is_told_why_nothing_was_saved(teams_live: TeamsLive) -> None:
    teams_live.install(OUTSIDER)
    teams_live.driver.post(teams_live.driver.message(OUTSIDER, "We learned a lot this week."))
    assert "not set up as a member" in teams_live.connector.last_send(OUTSIDER.chat_id).text
    assert teams_live.scalar("SELECT count(*) FROM checkins") == 0


def test_an_older_client_presses_skip_as_a_submit(teams_live: TeamsLive) -> None:
    teams_live.install(MEGAN)
    prompt_everyone(teams_live)
    skip = button(teams_live.connector.last_send(MEGAN.chat_id).card, "Skip this week")
    # Action.Execute's fallback: an Action.Submit whose data arrives on a message activity.
    activity = teams_live.driver.message(MEGAN, "")
    activity.pop("text")
    activity["value"] = skip["fallback"]["data"]
    assert teams_live.driver.post(activity).status_code == 200
    assert teams_live.scalar("SELECT count(*) FROM prompts WHERE status = 'skipped'") == 1
    assert "skipped this week" in card_text(teams_live.connector.last_send(MEGAN.chat_id).card)


def test_in_a_channel_only_shared_answers_are_given(teams_live: TeamsLive) -> None:
    driver, connector = teams_live.driver, teams_live.connector
    driver.post(driver.channel_install(MEGAN, STEWARDS_CHANNEL))
    for text, expected in (
        ("<at>LearnLoop</at> help", "**checkin**"),
        ("<at>LearnLoop</at> barriers mine", "in our 1:1 chat"),
        ("<at>LearnLoop</at> pause 2w", "in our 1:1 chat"),
        ("<at>LearnLoop</at> We learned a lot", "**checkin**"),  # learnings belong in the 1:1
    ):
        activity = driver.message(MEGAN, text, conversation_id=STEWARDS_CHANNEL)
        activity["conversation"].update({"conversationType": "channel", "isGroup": True})
        assert driver.post(activity).status_code == 200
        assert expected in connector.last_send(STEWARDS_CHANNEL).text, text
    assert teams_live.scalar("SELECT count(*) FROM checkins") == 0
    assert (
        teams_live.scalar(
            "SELECT paused_until FROM members WHERE platform_user_id = :u", u=MEGAN.aad
        )
        is None
    )

"""Each Slack workspace is paced on its own: one throttled hard with 429s never slows the others.

Three workspaces installed through OAuth, one fake Slack Web API on 127.0.0.1 telling them apart
by their bot tokens. Workspace A is limited to a few posts a second; B and C are not limited.
The fake's record of what it accepted is the judge (no wall-clock asserts): B and C get every
prompt through without a single 429 and finish while A is still far from done.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from oauth_workspaces import install_workspaces, oauth_settings, token_of
from slack_api import FakeSlackAPI
from slack_requests import SIGNING_SECRET

from bot.alliance import parse_alliance
from bot.app import LearnLoop, build
from bot.slack.messenger import SlackMessenger
from bot.slack.pacing import WorkspacePacers

TEAMS = ("T0AAAA", "T0BBBB", "T0CCCC")  # A is throttled, B and C are not
PER_WORKSPACE = 30
THROTTLED_RATE = 3.0  # posts a second in workspace A (the others: unlimited)


def members_of(team: str) -> list[str]:
    return [f"U{team[2]}{n:04d}" for n in range(PER_WORKSPACE)]


def three_workspaces() -> Any:
    return parse_alliance(
        {
            "alliance": {"name": "Paced", "timezone": "Europe/London", "slack_team": TEAMS[1]},
            "agencies": [
                {
                    "id": f"agency{i}",
                    "name": f"Agency {i}",
                    "team": team,
                    "members": members_of(team),
                }
                for i, team in enumerate(TEAMS)
            ],
            "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
        }
    )


@pytest.fixture
def oauth_loop(database_url: str, fake_slack: FakeSlackAPI) -> Iterator[LearnLoop]:
    settings = oauth_settings(fake_slack.url, database_url, SIGNING_SECRET)
    loop = build(settings, alliance=three_workspaces())
    install_workspaces(loop, TEAMS)
    yield loop
    loop.engine.dispose()


def pacers_of(loop: LearnLoop) -> WorkspacePacers:
    messenger = loop.services.prompts.messenger
    assert isinstance(messenger, SlackMessenger) and messenger.pacers is not None
    return messenger.pacers


def test_a_throttled_workspace_never_slows_the_others(
    oauth_loop: LearnLoop, fake_slack: FakeSlackAPI
) -> None:
    throttled, *free = TEAMS
    fake_slack.set_token_rate_limit("chat.postMessage", token_of(throttled), THROTTLED_RATE)

    report = oauth_loop.services.prompts.send("weekly", now=True)[0]

    assert report.sent == len(TEAMS) * PER_WORKSPACE, report
    posts = {team: fake_slack.accepted("chat.postMessage", token_of(team)) for team in TEAMS}
    assert {team: len(p) for team, p in posts.items()} == dict.fromkeys(TEAMS, PER_WORKSPACE)
    # Each workspace's prompts went with its own token, to its own people.
    for team in TEAMS:
        assert {c.params["channel"] for c in posts[team]} == set(members_of(team))
    # The free workspaces were never refused: every call they made was accepted at once...
    for team in free:
        calls = [c for c in fake_slack.calls("chat.postMessage") if c.token == token_of(team)]
        assert len(calls) == PER_WORKSPACE and not any(c.refused for c in calls)
    refused = [
        c
        for c in fake_slack.calls("chat.postMessage")
        if c.token == token_of(throttled) and c.refused
    ]
    assert refused, "workspace A was never throttled: the test proves nothing"
    # ...and they were done before the throttled one had sent even half of its prompts.
    half_of_throttled = sorted(c.timestamp for c in posts[throttled])[PER_WORKSPACE // 2]
    for team in free:
        assert max(c.timestamp for c in posts[team]) < half_of_throttled
    # Each workspace learned its own limit: only A's pacer was told about 429s.
    known = pacers_of(oauth_loop).known()
    assert set(known) == set(TEAMS)
    assert known[throttled].rate_limits > 0
    assert all(known[team].rate_limits == 0 for team in free)


def test_a_single_workspace_is_one_pacer(database_url: str, fake_slack: FakeSlackAPI) -> None:
    from conftest import alliance_config
    from conftest import test_settings as settings_for

    loop = build(settings_for(database_url, fake_slack.url), alliance=alliance_config())
    try:
        report = loop.services.prompts.send("weekly", now=True)[0]
        assert report.sent == 4
        assert list(pacers_of(loop).known()) == [""]
    finally:
        loop.engine.dispose()


def test_members_by_address_are_looked_up_in_their_agencys_workspace(
    database_url: str, fake_slack: FakeSlackAPI
) -> None:
    """users.lookupByEmail is asked with the token of the agency's own workspace, not the
    alliance's default one: each workspace answers only for its own people."""
    data = {
        "alliance": {"name": "Paced", "timezone": "Europe/London", "slack_team": TEAMS[1]},
        "agencies": [
            {
                "id": f"agency{i}",
                "name": f"Agency {i}",
                "team": team,
                "members": [f"p@{team.lower()}.x"],
            }
            for i, team in enumerate(TEAMS)
        ],
        "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
    }
    for team in TEAMS:
        fake_slack.set_user_email(f"p@{team.lower()}.x", members_of(team)[0])
    settings = oauth_settings(fake_slack.url, database_url, SIGNING_SECRET)
    loop = build(settings, alliance=parse_alliance(data))
    try:
        install_workspaces(loop, TEAMS)
        members = loop.services.prompts.roster.cohort_members(loop.alliance.cohorts[0])
        assert {m.user_id for m in members} == {members_of(team)[0] for team in TEAMS}
        asked = {(c.params["email"], c.token) for c in fake_slack.calls("users.lookupByEmail")}
        assert asked == {(f"p@{team.lower()}.x", token_of(team)) for team in TEAMS}
    finally:
        loop.engine.dispose()

"""Digests are posted workspace by workspace side by side: a slow workspace delays only its own.

Three workspaces installed through OAuth, two agencies in each with a digest in its own channel,
one fake Slack Web API on 127.0.0.1 telling them apart by their bot tokens. Every answer to
workspace A's calls is held back; the fake's record of when each post arrived is the judge (no
wall-clock asserts): B's and C's digests all arrive before A's last one, and every digest is
posted once, the parts the ledger records being the parts Slack received.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from oauth_workspaces import install_workspaces, oauth_settings, token_of
from slack_api import FakeSlackAPI
from slack_requests import SIGNING_SECRET

from bot.alliance import parse_alliance
from bot.app import LearnLoop, build
from storage.models import DigestRow

TEAMS = ("T0DAAA", "T0DBBB", "T0DCCC")  # A answers slowly, B and C at once
AGENCIES_PER_WORKSPACE = 2
SLOW_SECONDS = 0.4
# Friday 20 November 2026, just after the digests' 09:00 slot.
FRIDAY_AFTER = dt.datetime(2026, 11, 20, 9, 5, tzinfo=dt.UTC)


def channel_of(agency: int) -> str:
    return f"C0DG{agency:03d}"


def team_of(agency: int) -> str:
    return TEAMS[agency % len(TEAMS)]  # dealt round-robin: A, B, C, A, B, C


AGENCIES = range(len(TEAMS) * AGENCIES_PER_WORKSPACE)


def laned_alliance() -> Any:
    friday = {"days": ["fri"], "time": "09:00"}
    return parse_alliance(
        {
            "alliance": {"name": "Laned", "timezone": "Europe/London", "slack_team": TEAMS[1]},
            "agencies": [
                {
                    "id": f"agency{a}",
                    "name": f"Agency {a}",
                    "team": team_of(a),
                    "members": [f"U{team_of(a)[3]}{a:04d}"],
                }
                for a in AGENCIES
            ],
            "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
            "digests": [
                {
                    "id": f"agency{a}-digest",
                    "channel": channel_of(a),
                    "scope": f"agency:agency{a}",
                    "schedule": friday,
                }
                for a in AGENCIES
            ],
        }
    )


@pytest.fixture
def oauth_loop(database_url: str, fake_slack: FakeSlackAPI) -> Iterator[LearnLoop]:
    settings = oauth_settings(fake_slack.url, database_url, SIGNING_SECRET)
    loop = build(settings, alliance=laned_alliance())
    install_workspaces(loop, TEAMS)
    yield loop
    loop.engine.dispose()


def test_a_slow_workspace_delays_only_its_own_digests_and_each_is_posted_once(
    oauth_loop: LearnLoop, fake_slack: FakeSlackAPI
) -> None:
    slow, *quick = TEAMS
    fake_slack.set_token_latency(token_of(slow), SLOW_SECONDS)

    results = oauth_loop.services.digests.send_due(FRIDAY_AFTER)

    assert sorted(r.destination_id for r in results) == sorted(
        f"agency{a}-digest" for a in AGENCIES
    )
    assert {r.status for r in results} == {"posted"}
    posts = [c for c in fake_slack.calls("chat.postMessage") if not c.refused]
    by_team = {team: [c for c in posts if c.token == token_of(team)] for team in TEAMS}
    # Each digest went with its own workspace's token, into its own channel.
    for a in AGENCIES:
        channels = {c.params["channel"] for c in by_team[team_of(a)]}
        assert channel_of(a) in channels
    # The quick workspaces' digests were all out before the slow one's last digest arrived:
    # one after another they would have waited behind each of A's slow answers.
    slow_last = max(c.timestamp for c in by_team[slow])
    for team in quick:
        assert by_team[team] and max(c.timestamp for c in by_team[team]) < slow_last
    # Posted once: each channel received exactly the parts its ledger row records...
    with oauth_loop.engine.connect() as conn:
        rows = {row.destination_id: row for row in conn.execute(DigestRow.__table__.select())}
    for a in AGENCIES:
        row = rows[f"agency{a}-digest"]
        assert row.status == "posted"
        sent = [c for c in posts if c.params.get("channel") == channel_of(a)]
        assert len(sent) == len(row.parts or []) >= 1
    # ...and another tick (or another worker) posts nothing again.
    assert oauth_loop.services.digests.send_due(FRIDAY_AFTER) == []
    assert len([c for c in fake_slack.calls("chat.postMessage") if not c.refused]) == len(posts)

"""The weekly-cycle benchmark's machinery at a tiny size: everyone gets exactly what is due.

bench/weekly_cycle.py counts duplicates and misses from what its fake Slack accepted; a harness
that miscounted would make its figures worthless, so it is run here end to end: two Slack
workspaces with their own limits and one Teams tenant, 20 practitioners, one real worker
process per phase, signed DM replies into the live web app, reminders and digests. No timing
is asserted.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from bench.multi_workspace_slack import MultiWorkspaceSlack
from bench.rate_limited_connector import RateLimitedConnector
from bench.weekly_cycle import Shape, one_round


def test_a_tiny_weekly_cycle_reaches_everyone_once(database_url: str, tmp_path: Path) -> None:
    shape = Shape(practitioners=20, agencies=2, workspaces=2, checkins=8, rate=20.0, slow_rate=5.0)
    outcome = one_round(shape, 1, database_url, tmp_path, kill=False, wipe=False)
    assert (outcome.duplicates, outcome.misses) == (0, 0)
    assert outcome.checkins == 8
    # Both workspaces were used, so the ideal is the slow workspace's share over its limit.
    assert outcome.prompt_ideal == 10 / 5.0


def test_each_workspace_has_its_own_limit() -> None:
    shape = Shape(practitioners=0, agencies=1, workspaces=2, checkins=0, rate=50.0, slow_rate=1.0)
    tokens = {shape.token(w): shape.team(w) for w in range(2)}

    with MultiWorkspaceSlack(tokens, shape.rates()) as fake, httpx.Client() as http:

        def post(w: int) -> int:
            answer = http.post(
                fake.url + "chat.postMessage",
                data={"channel": "C0X", "text": "hi"},
                headers={"Authorization": f"Bearer {shape.token(w)}"},
            )
            return answer.status_code

        slow = [post(1) for _ in range(3)]
        fast = [post(0) for _ in range(3)]
    assert slow[0] == 200 and 429 in slow[1:]  # the throttled workspace refuses its second
    assert fast == [200, 200, 200]  # and that never slows the other
    assert [p.team for p in fake.posts()].count(shape.team(1)) == 1
    assert fake.refused()[shape.team(1)] == len(slow) - 1


def test_a_teams_conversation_has_its_own_limit_within_the_tenants() -> None:
    with RateLimitedConnector("tenant", per_conversation=1.0, per_tenant=3.0) as connector:
        with httpx.Client() as http:

            def send(conversation: str) -> int:
                url = f"{connector.url}/v3/conversations/{conversation}/activities"
                return http.post(url, json={"type": "message", "text": "hi"}).status_code

            first = [send("a:one"), send("a:one")]
            others = [send("a:two"), send("a:three"), send("a:four")]
    assert first == [200, 429]  # one conversation's limit
    assert others == [200, 200, 429]  # the tenant's: three a second in all
    assert [s.conversation_id for s in connector.sent()] == ["a:one", "a:two", "a:three"]


def test_the_worker_killed_mid_send_is_one_that_was_sending(
    postgres_url: str, tmp_path: Path
) -> None:
    # On PostgreSQL every worker sends, so the bench reads from the ledger's leases which one
    # is sending when half the prompts are out, and SIGKILLs that one.
    shape = Shape(practitioners=40, agencies=2, workspaces=2, checkins=4, rate=8.0, tenants=0)
    outcome = one_round(shape, 2, postgres_url, tmp_path, kill=True)
    assert (outcome.duplicates, outcome.misses) == (0, 0)
    assert outcome.killed_worker.startswith("prompts-")
    assert outcome.sent_by.get(outcome.killed_worker, 0) > 0  # it had been sending
    assert len(outcome.sent_by) >= 2  # the sending was shared

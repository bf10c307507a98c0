"""Several workers share a fan-out through the ledger's leases: each prompt is sent once.

Three senders, each with its own engine and connections and its own worker id, start one
cohort's fan-out at the same moment on PostgreSQL. They claim batches of rows with
`FOR UPDATE SKIP LOCKED`, so each takes different rows, every member is prompted exactly once
(the fake Slack Web API's record is the judge), and the work is shared. A reservation that
expired (its worker died before sending) is taken over; the late owner then sends nothing.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import Live, alliance_config
from conftest import test_settings as settings_for
from sqlalchemy import Engine, text

from bot.app import LearnLoop, build
from bot.services.prompts import CohortReport
from storage.locks import AdvisoryPresence
from storage.uow import UnitOfWorkFactory

MEMBERS = [f"U0S{i:03d}" for i in range(120)]
WORKERS = 3


def shared_alliance() -> Any:
    return alliance_config(
        agencies=[{"id": "housing", "name": "Council Housing", "members": MEMBERS}],
    )


def prompted(live: Live) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in live.slack.messages():
        if (message.get("metadata") or {}).get("event_type") == "learnloop_prompt":
            counts[message["channel"][1:]] = counts.get(message["channel"][1:], 0) + 1
    return counts


def execute(live: Live, sql: str) -> None:
    with live.loop.engine.begin() as conn:
        conn.execute(text(sql))


@pytest.fixture
def senders(make_live: Callable[..., Live], database_url: str) -> Iterator[tuple[Live, list[Any]]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several sending workers need PostgreSQL; SQLite runs one (see below)")
    live = make_live(shared_alliance())
    others: list[LearnLoop] = [
        build(settings_for(database_url, live.slack.url), alliance=shared_alliance())
        for _ in range(WORKERS - 1)
    ]
    presences = []
    for n, loop in enumerate([live.loop, *others]):
        presence = AdvisoryPresence(loop.engine, f"worker-{n}")
        presence.announce()
        presences.append(presence)
        loop.services.prompts.worker_id = f"worker-{n}"
        loop.services.prompts.presence = presence
    yield live, [live.loop.services.prompts, *(o.services.prompts for o in others)]
    for presence in presences:
        presence.close()
    for loop in others:
        loop.engine.dispose()


def test_workers_racing_on_postgresql_send_each_prompt_once_and_share_the_work(
    senders: tuple[Live, list[Any]],
) -> None:
    live, services = senders
    live.slack.set_latency(0.01)  # sends take a moment, as Slack's do: the race is real
    start = threading.Barrier(len(services))
    reports: list[list[CohortReport]] = [[] for _ in services]

    def run(i: int) -> None:
        start.wait()
        reports[i] = services[i].send("weekly", now=True)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(services))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert prompted(live) == dict.fromkeys(MEMBERS, 1)
    sent = [sum(r.sent for r in report) for report in reports]
    assert sum(sent) == len(MEMBERS)
    assert sum(1 for n in sent if n > 0) >= 2, f"one worker sent everything: {sent}"
    # Every row is settled: nothing left leased, each marked sent by the worker that sent it.
    assert live.scalar("SELECT count(*) FROM prompts WHERE sending_at IS NOT NULL") == 0
    by_worker = dict(
        live.rows("SELECT leased_by, count(*) FROM prompts WHERE status = 'sent' GROUP BY 1")
    )
    assert sorted(by_worker.values()) == sorted(n for n in sent if n > 0)


def test_a_worker_that_is_gone_has_its_sends_in_doubt_settled_at_once(
    senders: tuple[Live, list[Any]],
) -> None:
    live, services = senders
    first, second = services[0], services[1]
    [report] = first.send("weekly", now=True)
    assert report.sent == len(MEMBERS)
    # Ten rows look as if a worker that has since died was sending them (no presence lock).
    execute(
        live,
        "UPDATE prompts SET status = 'pending', sending_at = now(), leased_by = 'dead-worker', "
        "lease_expires_at = now() + interval '10 minutes' "
        "WHERE id IN (SELECT id FROM prompts ORDER BY id LIMIT 10)",
    )
    # One row is leased by a worker that is alive (worker-2): it is left alone.
    execute(
        live,
        "UPDATE prompts SET status = 'pending', sending_at = now(), leased_by = 'worker-2', "
        "lease_expires_at = now() + interval '10 minutes' "
        "WHERE id = (SELECT max(id) FROM prompts)",
    )
    settled = second.settle_in_doubt(dt.datetime.now(dt.UTC))
    assert settled == 10  # found in the DMs (they had been delivered): marked sent
    assert live.scalar("SELECT count(*) FROM prompts WHERE leased_by = 'worker-2'") == 1
    assert prompted(live) == dict.fromkeys(MEMBERS, 1)


def test_an_expired_reservation_is_taken_over_and_its_late_owner_sends_nothing(
    engine: Engine,
) -> None:
    uow = UnitOfWorkFactory(engine)
    now = dt.datetime(2026, 12, 3, 15, tzinfo=dt.UTC)
    with uow() as u:
        u.config.upsert_agency("housing", "Housing", "slack")
        u.config.upsert_cohort("weekly", "hls-default")
        ids = [u.members.ensure("slack", f"U{n}", "housing").id for n in range(3)]
        u.prompts.insert_pending("weekly", [(m, "weekly:2026-W49") for m in ids])
        u.commit()
    with uow() as u:
        rows = [r.id for r in u.prompts.for_cycles("weekly", ["weekly:2026-W49"])]
        until = now + dt.timedelta(minutes=2)
        assert u.prompts.claim(rows, "a", now, until) == sorted(rows)
        u.commit()
    with uow() as u:
        # Held by a: b gets none of them while the reservation lasts...
        assert u.prompts.claim(rows, "b", now + dt.timedelta(minutes=1), until) == []
        # ...and all of them once it has expired (a died before sending).
        later = now + dt.timedelta(minutes=3)
        assert u.prompts.claim(rows, "b", later, later + dt.timedelta(minutes=2)) == sorted(rows)
        assert u.prompts.begin_send(rows[0], "b", later, later + dt.timedelta(minutes=10))
        u.commit()
    with uow() as u:
        # a comes back late: its reservation is gone, so it sends none of them.
        assert not any(u.prompts.begin_send(r, "a", later, later) for r in rows)
        # b's send of the first has begun: no one else can claim it, even after expiry.
        much_later = later + dt.timedelta(hours=1)
        assert u.prompts.claim(rows, "c", much_later, much_later) == sorted(rows[1:])

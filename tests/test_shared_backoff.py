"""Several workers share a workspace's limit: a 429 one of them is told holds them all back.

Two LearnLoops built on one database (two workers, each its own engine, sessions and pacers)
send into two OAuth-installed workspaces on one fake Slack Web API over HTTP on 127.0.0.1. The
fake's workspace A takes a few posts, then answers every post 429 with one Retry-After until
that time is up; workspace B has no limit. Worker 1 meets the 429. Worker 2 starts sending to
A's people only after that, while A is still held: it must not send there before the time is
up (it was never told 429 itself: only the `workspace_backoff` row says so), and its sends to B
go out meanwhile, none refused. The fake's record of each call (with its arrival time) is the
judge.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from oauth_workspaces import install_workspaces, oauth_settings, token_of
from slack_api import FakeSlackAPI
from slack_requests import SIGNING_SECRET
from sqlalchemy import Engine

from bot.alliance import parse_alliance
from bot.app import LearnLoop, build
from bot.shared_holds import SharedHolds, slack_key, teams_key
from bot.slack.messenger import SlackMessenger
from bot.views.message import Message, Paragraph
from bot.views.words import words
from storage.backoff import BackoffStore

HELD, FREE = "T0HELD", "T0FREE"
LOCKOUT = 5  # seconds workspace A refuses everything after its first 429 (its Retry-After)
TAKES = 8  # posts A accepts before that
# A call already past its check when the hold was written may still arrive just after the first
# 429 (each worker reads others' holds at most every quarter second): allowed, and only then.
IN_FLIGHT = 1.0


def people(team: str, worker: int, count: int) -> list[str]:
    return [f"U{team[3]}{worker}{n:03d}" for n in range(count)]


HELLO = Message(words("Hello"), (Paragraph(words("Hello")),))
FIRST_A, SECOND_A = people(HELD, 1, 20), people(HELD, 2, 10)
SECOND_B = people(FREE, 2, 30)


def alliance() -> Any:
    return parse_alliance(
        {
            "alliance": {"name": "Shared", "timezone": "Europe/London", "slack_team": FREE},
            "agencies": [
                {"id": "held", "name": "Held", "team": HELD, "members": FIRST_A + SECOND_A},
                {"id": "free", "name": "Free", "team": FREE, "members": SECOND_B},
            ],
            "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
        }
    )


@pytest.fixture
def two_workers(database_url: str, fake_slack: FakeSlackAPI) -> Iterator[list[LearnLoop]]:
    settings = oauth_settings(fake_slack.url, database_url, SIGNING_SECRET)
    loops = [build(settings, alliance=alliance()) for _ in range(2)]
    install_workspaces(loops[0], (HELD, FREE))
    yield loops
    for loop in loops:
        loop.engine.dispose()


def messenger_of(loop: LearnLoop) -> SlackMessenger:
    messenger = loop.services.prompts.messenger
    assert isinstance(messenger, SlackMessenger) and messenger.holds is not None
    return messenger


def send_all(messenger: SlackMessenger, users: list[str], threads: int = 4) -> list[str]:
    """Paced DMs to `users` from `threads` threads, as the fan-out sends; the errors, if any."""
    errors: list[str] = []
    queue = list(users)
    lock = threading.Lock()

    def run() -> None:
        while True:
            with lock:
                if not queue:
                    return
                user = queue.pop()
            try:
                messenger.send(
                    user, Message(words("Hello"), (Paragraph(words("Hello")),)), paced=True
                )
            except Exception as exc:  # noqa: BLE001 - reported by the test
                errors.append(f"{user}: {exc}")

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    return errors


def test_a_429_told_to_one_worker_holds_every_worker_in_that_workspace_only(
    two_workers: list[LearnLoop], fake_slack: FakeSlackAPI
) -> None:
    first, second = (messenger_of(loop) for loop in two_workers)
    fake_slack.set_token_lockout("chat.postMessage", token_of(HELD), after=TAKES, seconds=LOCKOUT)

    first_errors: list[str] = []
    sender = threading.Thread(target=lambda: first_errors.extend(send_all(first, FIRST_A)))
    sender.start()
    deadline = time.monotonic() + 30
    while fake_slack.lockout_began("chat.postMessage", token_of(HELD)) is None:
        assert time.monotonic() < deadline, "workspace A never answered 429"
        time.sleep(0.02)
    began = fake_slack.lockout_began("chat.postMessage", token_of(HELD))
    assert began is not None
    ends = began + LOCKOUT
    # Worker 2 comes to A only now, well inside A's hold: it has never been told 429 by Slack
    # (were it not told by the database, its first post would arrive early and be refused).
    time.sleep(IN_FLIGHT + 0.5)
    free_errors: list[str] = []
    free = threading.Thread(target=lambda: free_errors.extend(send_all(second, SECOND_B)))
    free.start()
    second_errors = send_all(second, SECOND_A)
    free.join(timeout=60)
    sender.join(timeout=60)
    assert first_errors == [] and second_errors == [] and free_errors == []

    posts = [c for c in fake_slack.calls("chat.postMessage") if c.token == token_of(HELD)]
    delivered = {c.params["channel"] for c in posts if not c.refused}
    assert delivered == set(FIRST_A + SECOND_A)  # everyone got theirs, once the time was up
    assert len([c for c in posts if not c.refused]) == len(FIRST_A + SECOND_A)
    # After the first 429 nobody sent to A before the time was up (bar calls in flight)...
    early = [c for c in posts if began + IN_FLIGHT <= c.timestamp < ends]
    assert early == [], [(c.params["channel"], c.timestamp - began) for c in early]
    # ...worker 2 in particular, whose every call to A came after it and was taken.
    second_calls = [c for c in posts if c.params["channel"] in SECOND_A]
    assert second_calls and all(c.timestamp >= ends and not c.refused for c in second_calls)
    assert second.holds is not None and second.holds.recorded == 0
    assert first.holds is not None and first.holds.recorded >= 1
    # Workspace B kept its full speed meanwhile: every post taken at once, while A was held.
    b_calls = [c for c in fake_slack.calls("chat.postMessage") if c.token == token_of(FREE)]
    assert len(b_calls) == len(SECOND_B) and not any(c.refused for c in b_calls)
    assert max(c.timestamp for c in b_calls) < ends


def test_a_hold_is_kept_across_workers_in_the_database(engine: Engine) -> None:
    """The store: another worker reads a hold, a shorter one never cuts it, keys are apart."""
    # Worker 2 asks the database every time (a cached answer would hide what is stored).
    one, two = SharedHolds(BackoffStore(engine)), SharedHolds(BackoffStore(engine), refresh=0.0)
    key, other = slack_key(HELD), slack_key(FREE)
    assert two.remaining(key) == 0.0
    one.record(key, 30.0)
    assert 25.0 < two.remaining(key) <= 30.0
    two.record(key, 1.0)  # told a shorter wait later: the longer one stands
    three = SharedHolds(BackoffStore(engine))
    assert 25.0 < three.remaining(key) <= 30.0
    assert three.remaining(other) == 0.0
    assert three.remaining(teams_key(HELD)) == 0.0  # a tenant of that name is another key

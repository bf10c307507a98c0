"""Two workers sending into one rate-limited Slack workspace: a 429 shared through the database
(`workspace_backoff`) against each worker honouring only its own.

Side by side in one run, against the fake Slack Web API on 127.0.0.1 (workspace A limited per
bot token: a token bucket of --rate posts a second, 429 + Retry-After beyond it; workspace B
unlimited). Two LearnLoops built on one SQLite file stand for two workers (each its own engine,
pacers and shared-holds reader); each sends --messages paced DMs into A from 8 threads, and
--messages into B, all at once. Rounds alternate the two ways (shared first, then own only).

Reported per way, medians over --rounds: posts refused with 429 in A, A's accepted rate
against its limit, and the wall time until B's and A's last post.

    python bench/shared_backoff.py [--messages 150] [--rate 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from oauth_workspaces import install_workspaces, oauth_settings, token_of  # noqa: E402
from slack_api import FakeSlackAPI  # noqa: E402

from bot.alliance import parse_alliance  # noqa: E402
from bot.app import LearnLoop, build  # noqa: E402
from bot.slack.messenger import SlackMessenger  # noqa: E402
from bot.views.message import Message, Paragraph  # noqa: E402
from bot.views.words import words  # noqa: E402

HELD, FREE = "T0HELD", "T0FREE"
HELLO = Message(words("Hello"), (Paragraph(words("Hello")),))
THREADS = 8


def people(team: str, worker: int, count: int) -> list[str]:
    return [f"U{team[3]}{worker}{n:05d}" for n in range(count)]


def loops(db: Path, fake: FakeSlackAPI, messages: int) -> list[LearnLoop]:
    data = {
        "alliance": {"name": "Bench", "timezone": "Europe/London", "slack_team": FREE},
        "agencies": [
            {
                "id": team.lower(),
                "name": team,
                "team": team,
                "members": people(team, 1, messages) + people(team, 2, messages),
            }
            for team in (HELD, FREE)
        ],
        "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
    }
    settings = oauth_settings(fake.url, f"sqlite:///{db}", "bench", log_level="ERROR")
    made = [build(settings, alliance=parse_alliance(data)) for _ in range(2)]
    install_workspaces(made[0], (HELD, FREE))
    return made


def send_all(messenger: SlackMessenger, users: list[str]) -> None:
    queue = list(users)
    lock = threading.Lock()

    def run() -> None:
        while True:
            with lock:
                if not queue:
                    return
                user = queue.pop()
            messenger.send(user, HELLO, paced=True)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def one_round(shared: bool, messages: int, rate: float) -> dict[str, float]:
    with FakeSlackAPI() as fake, tempfile.TemporaryDirectory() as tmp:
        workers = loops(Path(tmp) / "b.db", fake, messages)
        messengers: list[SlackMessenger] = []
        for loop in workers:
            messenger = loop.services.prompts.messenger
            assert isinstance(messenger, SlackMessenger)
            if not shared:
                messenger.holds = None  # each worker honours only the 429s it is told
            messengers.append(messenger)
        fake.set_token_rate_limit("chat.postMessage", token_of(HELD), rate)
        started = time.time()
        jobs = [
            threading.Thread(target=send_all, args=(m, people(team, i + 1, messages)))
            for i, m in enumerate(messengers)
            for team in (HELD, FREE)
        ]
        for job in jobs:
            job.start()
        for job in jobs:
            job.join()
        calls = fake.calls("chat.postMessage")
        held = [c for c in calls if c.token == token_of(HELD)]
        free = [c for c in calls if c.token == token_of(FREE)]
        taken = sorted(c.timestamp for c in held if not c.refused)
        assert len(taken) == 2 * messages, len(taken)
        assert len([c for c in free if not c.refused]) == 2 * messages
        for loop in workers:
            loop.engine.dispose()
    sending = taken[-1] - taken[0]
    return {
        "refused": float(sum(1 for c in held if c.refused)),
        "rate": (len(taken) - 1) / sending / rate if sending > 0 else 0.0,
        "held_done": taken[-1] - started,
        "free_done": max(c.timestamp for c in free) - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=150, help="per worker per workspace")
    parser.add_argument("--rate", type=float, default=20.0, help="workspace A's posts a second")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for _ in range(args.rounds):
        for shared in (True, False):
            results[shared].append(one_round(shared, args.messages, args.rate))
    print(
        f"2 workers x {args.messages} posts into A (limit {args.rate:g}/s) and into B "
        f"(no limit), median of {args.rounds} rounds"
    )
    med: dict[bool, dict[str, float]] = {
        shared: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        for shared, runs in results.items()
    }
    for shared, label in ((True, "shared 429s (workspace_backoff)"), (False, "own 429s only")):
        m = med[shared]
        print(
            f"  {label:<32} A refused {m['refused']:5.0f}   A rate/limit {m['rate']:.3f}   "
            f"A done {m['held_done']:6.1f} s   B done {m['free_done']:5.1f} s"
        )
        print(f"    runs: refused {[int(r['refused']) for r in results[shared]]}")
    own, share = med[False], med[True]
    if share["refused"]:
        print(f"  429s, own ÷ shared: {own['refused'] / share['refused']:.2f}")
    print(f"  A's wall time, shared ÷ own: {share['held_done'] / own['held_done']:.2f}")


if __name__ == "__main__":
    main()

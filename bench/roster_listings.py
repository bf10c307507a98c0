"""What storing channel listings in the database costs a roster pass, against a per-process dict.

Run from the repository root::

    python bench/roster_listings.py                       # 70 agencies x 150 members, 5 runs
    python bench/roster_listings.py --agencies 70 --members 150 --runs 5 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/learnloop_bench

70 agencies each name a Slack channel of `--members` people on the fake Slack Web API
(tests/slack_api.py, over HTTP on 127.0.0.1). After a first pass has created every member, each
run times one `cohort_members` pass three ways, side by side in the same process:

- **fetch**: no stored listing, so each channel is listed from Slack and stored;
- **stored**: the listings are fresh in `directory_listings` (what every process now reads);
- **dict**: the old behaviour, a per-process dict of listings (no database read for them).

It also counts the Slack calls a second roster (another process) makes while the listings are
fresh: 0 with the database, one per channel with a dict. Medians over the runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from slack_api import FakeSlackAPI  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.alliance import parse_alliance  # noqa: E402
from bot.metrics import Metrics  # noqa: E402
from bot.ports import system_clock  # noqa: E402
from bot.services.members import MemberService  # noqa: E402
from bot.services.roster import Roster  # noqa: E402
from bot.slack.messenger import SlackMessenger  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.uow import UnitOfWorkFactory  # noqa: E402


class DictRoster(Roster):
    """The roster as it was: listings kept in this process's memory only."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self._memory: dict[tuple[str, str, str], list[str]] = {}

    def _stored(self, keys: list[tuple[str, str, str]]) -> dict:  # type: ignore[type-arg]
        return {}  # nothing read from the database

    def _listing(self, key: tuple[str, str, str], cached: object, refresh: bool) -> list[str]:
        if key not in self._memory:
            self._memory[key] = self.messenger.channel_members(key[2])
        return self._memory[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=70)
    parser.add_argument("--members", type=int, default=150)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    slack = FakeSlackAPI().start()
    agencies = []
    for a in range(args.agencies):
        channel = f"C0AG{a:04d}"
        slack.set_channel_members(channel, [f"U{a:03d}M{m:04d}" for m in range(args.members)])
        agencies.append({"id": f"agency-{a}", "name": f"Agency {a}", "channel": channel})
    alliance = parse_alliance(
        {
            "alliance": {"name": "Bench Alliance"},
            "agencies": agencies,
            "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate(engine)
        uow = UnitOfWorkFactory(engine)
        members = MemberService(uow, alliance, system_clock)
        members.sync_config()
        client = WebClient(token="xoxb-bench", base_url=slack.url)
        messenger = SlackMessenger(client, Metrics())
        cohort = alliance.cohorts[0]

        def roster(kind: type[Roster] = Roster) -> Roster:
            return kind(uow, alliance, members, messenger, system_clock)

        roster().cohort_members(cohort)  # creates every member once
        timings: dict[str, list[float]] = {"fetch": [], "stored": [], "dict": []}
        for _ in range(args.runs):
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM directory_listings"))
            start = time.perf_counter()
            roster().cohort_members(cohort)
            timings["fetch"].append(time.perf_counter() - start)
            start = time.perf_counter()
            roster().cohort_members(cohort)
            timings["stored"].append(time.perf_counter() - start)
            cached = roster(DictRoster)
            cached.cohort_members(cohort)  # fills its dict
            start = time.perf_counter()
            cached.cohort_members(cohort)
            timings["dict"].append(time.perf_counter() - start)
        before = len(slack.calls("conversations.members"))
        roster().cohort_members(cohort)
        shared = len(slack.calls("conversations.members")) - before
        before = len(slack.calls("conversations.members"))
        roster(DictRoster).cohort_members(cohort)
        per_process = len(slack.calls("conversations.members")) - before
        engine.dispose()
    slack.stop()

    median = {name: statistics.median(values) for name, values in timings.items()}
    total = args.agencies * args.members
    print(
        f"{args.agencies} agencies x {args.members} members = {total:,} on {engine.dialect.name}, "
        f"{args.runs} runs, medians, at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    for name in ("fetch", "stored", "dict"):
        print(f"  {name:6} pass {median[name] * 1000:8.1f} ms")
    print(f"  stored / dict: {median['stored'] / median['dict']:.2f}x")
    print(f"  fetch / stored: {median['fetch'] / median['stored']:.2f}x")
    print(
        f"  Slack listing calls by a second process while fresh: {shared} stored, "
        f"{per_process} with a dict"
    )


if __name__ == "__main__":
    main()

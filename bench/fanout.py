"""Fan-out of one prompt cycle to thousands of members against a rate-limited, flaky Slack.

Run from the repository root::

    python bench/fanout.py                      # 5,000 members, R = 50/s, 2% 5xx, 3 runs each
    python bench/fanout.py --members 1000 --runs 1 --database-url postgresql+psycopg://...

The fake Slack Web API (tests/slack_api.py) runs in this process and answers chat.postMessage
beyond R calls a second with 429 + Retry-After, and 2% of calls with HTTP 500. R is a token
bucket holding a second's burst (`--limiter bucket`, the default) or a sliding one-second
window (`--limiter window`: no burst, so every 429 pause is lost time). The real
`learnloop worker` runs as a child process on a SQLite file (or the PostgreSQL database given,
whose schema is wiped). Members are everyone in one channel (25 pages of 200); their profiles
are seeded as already looked up, as they are when a worker has been running all week. Two modes,
side by side: an undisturbed fan-out, and one where the worker is SIGKILLed halfway and started
again. Reported: the achieved rate as a fraction of R (deliveries over the time from the first
call to the last), duplicates, misses, and the worker's peak RSS (VmHWM; the larger of the two
processes when restarted). Medians over the runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from slack_api import FakeSlackAPI  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from worker_process import (  # noqa: E402
    CHANNEL,
    WorkerProcess,
    channel_alliance,
    wait_for,
    worker_env,
    write_config,
)

from storage.db import make_engine, migrate  # noqa: E402
from storage.models import AgencyRow, MemberRow  # noqa: E402

LOGS: Path | None = None  # --logs: keep each run's worker logs and database here
LIMITER = "bucket"  # --limiter: how the fake Slack enforces R


@dataclass
class Outcome:
    """One run's figures."""

    rate_fraction: float
    duplicates: int
    misses: int
    peak_rss_mb: float
    seconds: float


def fresh_database(url: str | None, folder: Path, members: list[str]) -> str:
    """An empty, migrated database with the members' profiles already looked up."""
    if url is None:
        url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(insert(AgencyRow).values(id="everyone", name="Everyone", platform="slack"))
        conn.execute(
            insert(MemberRow),
            [
                {
                    "platform": "slack",
                    "platform_user_id": user_id,
                    "agency_id": "everyone",
                    "timezone": "Europe/London",
                    "timezone_checked_at": now,
                    "active": True,
                    "created_at": now,
                }
                for user_id in members
            ],
        )
    engine.dispose()
    return url


def prompts_received(fake: FakeSlackAPI) -> Counter[str]:
    """Prompts really posted, per member."""
    return Counter(
        m["channel"][1:]
        for m in fake.messages()
        if (m.get("metadata") or {}).get("event_type") == "learnloop_prompt"
    )


def one_run(
    members: int, rate: float, failures: float, kill: bool, database_url: str | None
) -> Outcome:
    """Fan one cycle out to `members` people; SIGKILL the worker halfway if `kill`."""
    people = [f"U{i:07d}" for i in range(members)]
    with tempfile.TemporaryDirectory() as tmp, FakeSlackAPI() as fake:
        folder = Path(tmp)
        if LOGS is not None:
            folder = LOGS / ("killed" if kill else "undisturbed")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "bench.db").unlink(missing_ok=True)
        url = fresh_database(database_url, folder, people)
        fake.set_channel_members(CHANNEL, people, page_size=200)
        if LIMITER == "window":
            fake.set_window_rate_limit("chat.postMessage", rate)
        else:
            fake.set_rate_limit("chat.postMessage", rate)
        fake.fail_randomly("chat.postMessage", failures, seed=members)
        env = worker_env(url, fake.url, write_config(folder, channel_alliance()))
        workers = [WorkerProcess(folder, env, "worker-1").start()]
        timeout = members / rate * 3 + 60
        try:
            if kill:
                half = members // 2
                wait_for(lambda: len(prompts_received(fake)) >= half, timeout, "half", poll=0.25)
                workers[0].kill()
                workers.append(WorkerProcess(folder, env, "worker-2").start())

            def done() -> bool:
                workers[-1].sample_rss()
                return len(prompts_received(fake)) >= members

            wait_for(done, timeout, "every member prompted", poll=0.5)
            time.sleep(1.0)  # anything still in flight would show up as a duplicate
            workers[-1].terminate()
        finally:
            for worker in workers:
                worker.stop_quietly()
        calls = fake.calls("chat.postMessage")
        received = prompts_received(fake)
        first, last = calls[0].timestamp, calls[-1].timestamp
        delivered = sum(1 for n in received.values() if n)
        return Outcome(
            rate_fraction=delivered / (last - first) / rate,
            duplicates=sum(n - 1 for n in received.values() if n > 1),
            misses=sum(1 for p in people if received[p] == 0),
            peak_rss_mb=max(w.peak_rss_kb for w in workers) / 1024,
            seconds=last - first,
        )


def main() -> None:
    """Run both modes and print medians side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=50.0, help="R: chat.postMessage per second")
    parser.add_argument("--failures", type=float, default=0.02, help="share of calls that 5xx")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="PostgreSQL to wipe (default SQLite)")
    parser.add_argument("--logs", type=Path, default=None, help="keep worker logs here")
    parser.add_argument(
        "--limiter",
        choices=["bucket", "window"],
        default="bucket",
        help="token bucket holding a second's burst (default), or a sliding one-second window",
    )
    parser.add_argument(
        "--mode", choices=["both", "undisturbed", "killed"], default="both", help="which runs"
    )
    args = parser.parse_args()
    global LOGS, LIMITER
    LOGS, LIMITER = args.logs, args.limiter
    results: dict[str, list[Outcome]] = {"undisturbed": [], "killed halfway": []}
    for run in range(args.runs):
        for mode, kill in (("undisturbed", False), ("killed halfway", True)):
            if args.mode != "both" and kill != (args.mode == "killed"):
                continue
            outcome = one_run(args.members, args.rate, args.failures, kill, args.database_url)
            results[mode].append(outcome)
            print(
                f"run {run + 1} {mode:15} rate {outcome.rate_fraction:.3f} R  "
                f"dup {outcome.duplicates}  miss {outcome.misses}  "
                f"RSS {outcome.peak_rss_mb:.0f} MB  {outcome.seconds:.1f} s",
                flush=True,
            )
    print(
        f"\n{args.members} members, R = {args.rate:g}/s ({args.limiter}), "
        f"{args.failures:.0%} 5xx, median of {args.runs} run(s)"
    )
    print(f"{'':16}{'rate / R':>10}{'duplicates':>12}{'misses':>8}{'peak RSS':>10}{'time':>9}")
    for mode, outcomes in results.items():
        if not outcomes:
            continue
        print(
            f"{mode:16}"
            f"{statistics.median(o.rate_fraction for o in outcomes):>10.3f}"
            f"{max(o.duplicates for o in outcomes):>12}"
            f"{max(o.misses for o in outcomes):>8}"
            f"{statistics.median(o.peak_rss_mb for o in outcomes):>7.0f} MB"
            f"{statistics.median(o.seconds for o in outcomes):>7.1f} s"
        )
    print("(duplicates and misses: the worst run; target: rate >= 0.95 R, 0, 0, < 250 MB)")


if __name__ == "__main__":
    main()

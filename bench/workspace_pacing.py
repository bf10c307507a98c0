"""One fan-out over three Slack workspaces, one of them throttled hard: how fast does each go?

Three workspaces installed through OAuth (SQLite in a temp dir), each with `--members` people
and its own `chat.postMessage` limit enforced by the fake Slack Web API on 127.0.0.1 (a token
bucket per bot token, 429 + Retry-After beyond it): workspace A at `--throttled-rate`, B and C
at `--rate`. `prompts send --now` prompts all of them in one fan-out. For each workspace it
prints the achieved rate as a share of that workspace's limit (its deliveries over the time
from the fan-out's first post to its own last accepted one; a one-second burst allowed by the
bucket can take it a little over 1) and its 429s; medians over `--runs`.

It imports whatever `bot` is on the path, so the same script measures two versions side by side:

    python bench/workspace_pacing.py                         # this checkout (installed editable)
    PYTHONPATH=/path/to/older/checkout python bench/workspace_pacing.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fake Slack Web API (not the code measured)

from oauth_workspaces import install_workspaces, oauth_settings, token_of  # noqa: E402
from slack_api import FakeSlackAPI  # noqa: E402

import bot  # noqa: E402
from bot.alliance import parse_alliance  # noqa: E402
from bot.app import build  # noqa: E402

TEAMS = ("T0AAAA", "T0BBBB", "T0CCCC")  # A is throttled


def alliance(members: int) -> Any:
    return parse_alliance(
        {
            "alliance": {"name": "Bench", "timezone": "Europe/London", "slack_team": TEAMS[1]},
            "agencies": [
                {
                    "id": f"agency{i}",
                    "name": f"Agency {i}",
                    "team": team,
                    "members": [f"U{team[2]}{n:05d}" for n in range(members)],
                }
                for i, team in enumerate(TEAMS)
            ],
            "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
        }
    )


def one_run(fake: FakeSlackAPI, members: int, rates: dict[str, float]) -> dict[str, Any]:
    fake.reset()
    for team, rate in rates.items():
        fake.set_token_rate_limit("chat.postMessage", token_of(team), rate)
    with tempfile.TemporaryDirectory() as tmp:
        settings = oauth_settings(
            fake.url, f"sqlite:///{Path(tmp) / 'b.db'}", "bench", log_level="ERROR"
        )
        loop = build(settings, alliance=alliance(members))
        install_workspaces(loop, TEAMS)
        started = time.time()
        report = loop.services.prompts.send("weekly", now=True)[0]
        wall = time.time() - started
        loop.engine.dispose()
    assert report.sent == members * len(TEAMS), report
    out: dict[str, Any] = {"wall": wall}
    # The fan-out begins with its first post (after the members' lists and profiles).
    begun = min(c.timestamp for c in fake.calls("chat.postMessage"))
    for team in TEAMS:
        calls = [c for c in fake.calls("chat.postMessage") if c.token == token_of(team)]
        accepted = [c.timestamp for c in calls if not c.refused]
        assert len(accepted) == members, (team, len(accepted))
        took = max(accepted) - begun
        achieved = members / took if took > 0 else float("inf")
        out[team] = (achieved / rates[team], sum(c.refused for c in calls), took)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=150, help="people per workspace")
    parser.add_argument("--rate", type=float, default=50.0, help="limit of B and C (per second)")
    parser.add_argument("--throttled-rate", type=float, default=5.0, help="limit of A")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rates = {TEAMS[0]: args.throttled_rate, TEAMS[1]: args.rate, TEAMS[2]: args.rate}
    runs = []
    with FakeSlackAPI() as fake:
        for _ in range(args.runs):
            runs.append(one_run(fake, args.members, rates))
    print(f"code: {Path(bot.__file__).parent.parent}")
    print(
        f"{args.members} people in each of 3 workspaces; limits A {args.throttled_rate}/s, "
        f"B and C {args.rate}/s; median of {args.runs} runs"
    )
    for team in TEAMS:
        fractions = [r[team][0] for r in runs]
        print(
            f"  {team}  rate / its limit {statistics.median(fractions):.3f} "
            f"({', '.join(f'{f:.3f}' for f in fractions)})  "
            f"done after {statistics.median(r[team][2] for r in runs):6.1f} s  "
            f"429s {statistics.median(r[team][1] for r in runs):.0f}"
        )
    print(f"  wall time {statistics.median(r['wall'] for r in runs):.1f} s")


if __name__ == "__main__":
    main()

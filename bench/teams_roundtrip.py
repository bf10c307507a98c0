"""Teams on the shared web app: inbound latency beside Slack's, concurrency, proactive fan-out.

Run from the repository root::

    python bench/teams_roundtrip.py                    # 200 requests, 200 members, 3 runs
    python bench/teams_roundtrip.py --requests 50 --members 50 --runs 1

Everything runs in this process against the test fakes on 127.0.0.1: the fake Slack Web API,
a fake Bot Connector and a local key service that signs real RS256 tokens (the SDK validates
each one as in production). SQLite. Reported, medians over the runs:

1. `help` typed to the bot on Teams (JWT check, SDK parsing, the reply posted to the
   connector before the 200) beside `/learnloop help` on Slack (signature check, Bolt, the
   help text in the ack), one request at a time;
2. with the Bot Connector answering in 200 ms (a slow region): Teams `help` with 8 clients
   at once beside one at a time, and `GET /healthz` while those 8 are in flight beside it
   alone — whether waiting on Teams holds up the rest of the web app;
3. `prompts send --now` to Teams members who installed the app: time per prompt delivered.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import httpx  # noqa: E402
from conftest import TEST_ALLIANCE, test_settings  # noqa: E402
from live_server import LiveServer  # noqa: E402
from slack_api import FakeSlackAPI  # noqa: E402
from slack_requests import slash_command  # noqa: E402
from teams_auth import KeyService  # noqa: E402
from teams_connector import FakeBotConnector  # noqa: E402
from teams_fixtures import bot_token, teams_settings  # noqa: E402
from teams_requests import TeamsDriver, TeamsUser  # noqa: E402

from bot.alliance import parse_alliance  # noqa: E402
from bot.app import build  # noqa: E402
from bot.web.routes import create_web_app  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402

CONCURRENCY = 8
SLOW_CONNECTOR_SECONDS = 0.2


def teams_people(n: int) -> list[TeamsUser]:
    """n people with Entra-shaped ids."""
    return [TeamsUser(f"00000000-0000-4000-8000-{i:012d}", f"Person {i}") for i in range(n)]


def alliance(members: list[TeamsUser]) -> dict:
    data = copy.deepcopy(TEST_ALLIANCE)
    data["agencies"].append(
        {"id": "nhs", "name": "NHS", "platform": "teams", "members": [m.aad for m in members]}
    )
    return data


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def one_run(requests: int, members: int) -> dict[str, float]:
    people = teams_people(members)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate(make_engine(url))
        slack, keys, connector = FakeSlackAPI().start(), KeyService().start(), FakeBotConnector()
        connector.start()
        settings = teams_settings(test_settings(url, slack.url), keys)
        loop = build(settings, alliance=parse_alliance(alliance(people)), teams_token=bot_token)
        server = LiveServer(create_web_app(loop), log_level="error").start()
        driver = TeamsDriver(server.url, keys, connector.url)
        http = httpx.Client(timeout=30)
        try:
            for person in people:  # as if each had installed the app
                loop.services.teams.installed(
                    person.chat_id, "personal", connector.url, aad_object_id=person.aad
                )
            sender = people[0]
            driver.post(driver.message(sender, "help"))  # warm: keys fetched, clients made

            def slack_help() -> float:
                req = slash_command("/learnloop", "help")
                started = time.perf_counter()
                response = http.post(
                    server.url + "/slack/events", content=req.body, headers=req.headers
                )
                assert response.status_code == 200
                return time.perf_counter() - started

            activities = [driver.message(sender, "help") for _ in range(requests)]
            tokens = [driver.token() for _ in range(requests)]

            def teams_help(i: int) -> float:
                headers = {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {tokens[i]}",
                }
                started = time.perf_counter()
                response = http.post(
                    server.url + "/api/messages", json=activities[i], headers=headers
                )
                assert response.status_code == 200, response.text
                return time.perf_counter() - started

            def health() -> float:
                started = time.perf_counter()
                assert http.get(server.url + "/healthz").status_code == 200
                return time.perf_counter() - started

            slack_times = [slack_help() for _ in range(requests)]
            teams_serial = [teams_help(i) for i in range(requests)]
            health_alone = [health() for _ in range(requests)]
            connector.latency = SLOW_CONNECTOR_SECONDS
            rounds = max(1, requests // (CONCURRENCY * 5))
            slow_serial = [teams_help(i) for i in range(rounds * 2)]
            slow_parallel: list[float] = []
            health_busy: list[float] = []
            with ThreadPoolExecutor(CONCURRENCY + 1) as pool:
                for r in range(rounds):
                    batch = range(r * CONCURRENCY, (r + 1) * CONCURRENCY)
                    futures = [pool.submit(teams_help, i) for i in batch]
                    # By now all 8 are parsed and validated (about 10 ms of CPU each) and only
                    # waiting on the connector: what a slow Teams region looks like.
                    time.sleep(SLOW_CONNECTOR_SECONDS * 0.7)
                    health_busy.append(health())
                    slow_parallel += [f.result() for f in futures]
            connector.latency = 0.0

            connector.clear()
            started = time.perf_counter()
            reports = loop.services.prompts.send(now=True)
            elapsed = time.perf_counter() - started
            sent = sum(r.sent for r in reports)
            teams_sent = len(connector.sends())
            assert teams_sent == members, (teams_sent, members)
            return {
                "slack_help": median_ms(slack_times),
                "teams_help": median_ms(teams_serial),
                "slow_serial": median_ms(slow_serial),
                "slow_parallel": median_ms(slow_parallel),
                "health_alone": median_ms(health_alone),
                "health_busy": median_ms(health_busy),
                "per_prompt": elapsed / sent * 1000,
                "prompts": sent,
            }
        finally:
            http.close()
            driver.close()
            server.stop()
            if loop.teams is not None:
                loop.teams.close()
            loop.engine.dispose()
            slack.stop()
            keys.stop()
            connector.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run(args.requests, args.members) for _ in range(args.runs)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    slack, teams = med("slack_help"), med("teams_help")
    slow, slow8 = med("slow_serial"), med("slow_parallel")
    alone, busy = med("health_alone"), med("health_busy")
    print(f"{args.runs} runs, {args.requests} requests each, {args.members} Teams members")
    print("| what | Slack | Teams | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| `help`, one at a time (median) | {slack:.2f} ms | {teams:.2f} ms | "
        f"{teams / slack:.2f} |"
    )
    print()
    print(f"Bot Connector answering in {SLOW_CONNECTOR_SECONDS * 1000:.0f} ms:")
    print(f"| what | alone | {CONCURRENCY} Teams requests in flight | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| Teams `help` (median) | {slow:.1f} ms | {slow8:.1f} ms | {slow8 / slow:.2f} |")
    print(f"| `GET /healthz` (median) | {alone:.2f} ms | {busy:.2f} ms | {busy / alone:.2f} |")
    print()
    print(
        f"| `prompts send --now`, per prompt ({med('prompts'):.0f} prompts, "
        f"{args.members} on Teams) | — | {med('per_prompt'):.2f} ms | — |"
    )


if __name__ == "__main__":
    main()
